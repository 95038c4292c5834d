//! The optional config file (`--config`, or `config.toml` in the data dir). Flags and the
//! environment win over it; it wins over the built-in defaults. It is also where the pricing
//! table is changed, since prices move more often than releases.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use arcbench_engine::{Price, Pricing};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub repos: Vec<PathBuf>,
    #[serde(default)]
    pub bind: Vec<IpAddr>,
    pub port: Option<u16>,
    pub model: Option<String>,
    pub weak_model: Option<String>,
    pub python: Option<PathBuf>,
    pub session_budget: Option<f64>,
    pub daily_budget: Option<f64>,
    pub idle_timeout: Option<u64>,
    pub ui_dir: Option<PathBuf>,
    /// Warm agents (one Aider process, ~300 MB, each) alive at once.
    pub max_agents: Option<usize>,
    /// Extra names the host may be reached by (`Host` header allowlist).
    #[serde(default)]
    pub allow_host: Vec<String>,
    /// Allows binding addresses outside loopback and the tailnet (plain HTTP on that network).
    #[serde(default)]
    pub insecure_lan: bool,
    /// USD per million tokens, by model name (a prefix matches longer names).
    #[serde(default)]
    pub pricing: BTreeMap<String, PerMillion>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerMillion {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

/// The daily budget a first run's config starts with: a runaway agent loop costs at most this
/// much a day until the user decides otherwise.
pub const FIRST_RUN_DAILY_BUDGET: f64 = 10.0;

/// What a first run writes to `config.toml` in the data dir: the one setting that protects the
/// user's money from day one, and the others commented out, so changing them is editing a line.
pub fn first_run_config() -> String {
    format!(
        "# ArcBench host settings (flags and environment variables win over this file).\n\
         # Written on the first run; edit freely.\n\n\
         # Spending limit per UTC day, in USD: prompts are held once it is reached (raise it here,\n\
         # with --daily-budget, or in the app's settings). Remove the line for no daily limit.\n\
         daily_budget = {FIRST_RUN_DAILY_BUDGET:.1}\n\n\
         # session_budget = 2.0        # per-session limit in USD\n\
         # max_agents = 3              # warm Aider processes at once (~300 MB each)\n\
         # repos = [\"/path/to/repo\"]\n\
         # bind = [\"127.0.0.1\"]      # loopback and tailnet addresses only, unless insecure_lan\n\
         # port = 8000\n\
         # model = \"claude-sonnet-4-5\"\n"
    )
}

/// Reads the named file (which must exist), or `config.toml` in the data dir, writing the
/// first-run config there when there is none yet.
pub fn load(named: Option<&Path>, data_dir: &Path) -> Result<FileConfig, String> {
    let path = match named {
        Some(p) => p.to_path_buf(),
        None => {
            let p = data_dir.join("config.toml");
            if !p.exists() {
                std::fs::write(&p, first_run_config())
                    .map_err(|e| format!("config {}: {e}", p.display()))?;
            }
            p
        }
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("config {}: {e}", path.display()))?;
    let config: FileConfig =
        toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
    for (model, p) in &config.pricing {
        if [p.input, p.output, p.cache_write, p.cache_read]
            .iter()
            .any(|v| !v.is_finite() || *v < 0.0)
        {
            return Err(format!(
                "config {}: prices for `{model}` must be numbers >= 0",
                path.display()
            ));
        }
    }
    Ok(config)
}

impl FileConfig {
    /// The built-in prices with the file's entries on top.
    pub fn pricing(&self) -> Pricing {
        let mut pricing = Pricing::default();
        for (model, p) in &self.pricing {
            pricing.models.insert(
                model.clone(),
                Price {
                    input: p.input / 1e6,
                    output: p.output / 1e6,
                    cache_write: p.cache_write / 1e6,
                    cache_read: p.cache_read / 1e6,
                },
            );
        }
        pricing
    }
}
