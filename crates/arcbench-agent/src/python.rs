//! The Python that runs Aider: the host's managed venv with the pinned `aider-chat`, or one the
//! user names. Every failure says how to fix it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::{AgentError, Result};

/// The Aider the bridge is written and tested against (the host provisions exactly this).
pub const PINNED_AIDER: &str = "0.86.2";

pub fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// The version of Aider `python` imports, or why it cannot.
pub async fn aider_version(python: &Path) -> Result<String> {
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        Command::new(python)
            .args(["-c", "import aider; print(aider.__version__)"])
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| AgentError::Unavailable(format!("{} did not answer in 120 s", python.display())))?
    .map_err(|e| {
        AgentError::Unavailable(format!(
            "cannot run {} ({e}); run `arcbench setup-aider` or point --python at a Python with aider-chat=={PINNED_AIDER}",
            python.display()
        ))
    })?;
    if !out.status.success() {
        return Err(AgentError::Unavailable(format!(
            "{} cannot import aider ({}); run `arcbench setup-aider` to (re)create the venv",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("no output")
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
