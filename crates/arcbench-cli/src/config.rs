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

/// Reads the named file (which must exist), or `config.toml` in the data dir when present.
pub fn load(named: Option<&Path>, data_dir: &Path) -> Result<FileConfig, String> {
    let path = match named {
        Some(p) => p.to_path_buf(),
        None => {
            let p = data_dir.join("config.toml");
            if !p.exists() {
                return Ok(FileConfig::default());
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
