//! Finding the Python that runs Aider and preparing the agent's configuration.

use std::path::{Path, PathBuf};

use arcbench_agent::aider::{install_bridge, AiderConfig};
use arcbench_agent::python::{aider_version, venv_python, PINNED_AIDER};
use arcbench_engine::runner::AgentSetup;
use shared_protocol::{AgentState, AgentStatus};

pub struct AgentChoice {
    pub python: Option<PathBuf>,
    pub model: String,
    pub weak_model: Option<String>,
    pub api_base: String,
    pub api_key: Option<String>,
}

/// Where the managed venv lives for a data dir.
pub fn managed_venv(data_dir: &Path) -> PathBuf {
    crate::provision::ManagedRuntime::aider(data_dir).venv
}

/// The Python to use: the one named, else the managed venv of this data dir, else of the default
/// data dir (where `scripts/setup-aider.sh` puts it). Shared by serve, doctor and service install.
pub fn pick_python(named: Option<&Path>, data_dir: &Path) -> Result<PathBuf, String> {
    if let Some(p) = named {
        return Ok(p.to_path_buf());
    }
    let candidates = [
        managed_venv(data_dir),
        managed_venv(&crate::paths::default_data_dir()),
    ];
    candidates
        .iter()
        .map(|v| venv_python(v))
        .find(|p| p.exists())
        .ok_or_else(|| {
            format!(
                "no Aider venv at {}: run `arcbench setup-aider` (or scripts/setup-aider.sh), or pass --python",
                managed_venv(data_dir).display()
            )
        })
}

/// Whether `python` runs the agent, and with which configuration; the status says the same for
/// `/status` (the host still serves review without an agent, and says why on each prompt).
pub async fn prepare(
    choice: &AgentChoice,
    python: PathBuf,
    data_dir: &Path,
) -> (AgentSetup, AgentStatus) {
    let mut version = None;
    let result = async {
        let v = aider_version(&python).await.map_err(|e| e.to_string())?;
        if v != PINNED_AIDER {
            tracing::warn!(version = %v, pinned = PINNED_AIDER, "Aider version differs from the tested one");
        }
        version = Some(v);
        let api_key = choice
            .api_key
            .clone()
            .filter(|k| !k.trim().is_empty())
            .ok_or("ANTHROPIC_API_KEY is not set (or run with --demo to try ArcBench without one)")?;
        let bridge = install_bridge(&data_dir.join("bridge"))
            .map_err(|e| format!("installing the bridge: {e}"))?;
        Ok::<_, String>(AiderConfig {
            python,
            bridge,
            model: choice.model.clone(),
            weak_model: choice.weak_model.clone(),
            api_base: choice.api_base.clone(),
            api_key,
            home: data_dir.join("aider-home"),
            retry_timeout: None,
            map_tokens: None,
        })
    }
    .await;
    match result {
        Ok(cfg) => (
            AgentSetup::Ready(cfg),
            status(AgentState::Ready, version, None),
        ),
        Err(reason) => (
            AgentSetup::Unavailable(reason.clone()),
            status(AgentState::Failed, version, Some(reason)),
        ),
    }
}

/// The agent's status as `/status` and `agent.state` events show it.
pub fn status(state: AgentState, version: Option<String>, detail: Option<String>) -> AgentStatus {
    AgentStatus {
        kind: "aider".into(),
        available: state == AgentState::Ready,
        version,
        state,
        detail,
    }
}
