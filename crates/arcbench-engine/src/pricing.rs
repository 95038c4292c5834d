//! What API usage costs, computed by the host from the raw token counts (Aider's own figures
//! double-count cache writes and leave out the weak model's calls).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared_protocol::Usage;

/// USD per token.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

/// Prices by model name. A name matches its exact entry, else the longest entry it starts
/// with (`claude-sonnet-4-5-20250929` prices as `claude-sonnet-4-5`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    pub models: BTreeMap<String, Price>,
    /// Used for a model the table does not know; the most expensive known, so budgets err safe.
    pub fallback: Price,
}

const fn per_million(input: f64, output: f64, cache_write: f64, cache_read: f64) -> Price {
    Price {
        input: input / 1e6,
        output: output / 1e6,
        cache_write: cache_write / 1e6,
        cache_read: cache_read / 1e6,
    }
}

impl Default for Pricing {
    fn default() -> Self {
        let opus = per_million(15.0, 75.0, 18.75, 1.5);
        let sonnet = per_million(3.0, 15.0, 3.75, 0.3);
        let haiku45 = per_million(1.0, 5.0, 1.25, 0.1);
        let haiku35 = per_million(0.8, 4.0, 1.0, 0.08);
        let models = [
            ("claude-opus-4", opus),
            ("claude-opus-4-1", opus),
            ("claude-opus-4-5", per_million(5.0, 25.0, 6.25, 0.5)),
            ("claude-sonnet-4", sonnet),
            ("claude-sonnet-4-5", sonnet),
            ("claude-3-7-sonnet", sonnet),
            ("claude-haiku-4-5", haiku45),
            ("claude-3-5-haiku", haiku35),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Pricing {
            models,
            fallback: opus,
        }
    }
}

impl Pricing {
    pub fn price(&self, model: &str) -> Price {
        let name = model.rsplit('/').next().unwrap_or(model);
        if let Some(p) = self.models.get(name) {
            return *p;
        }
        self.models
            .iter()
            .filter(|(k, _)| name.starts_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, p)| *p)
            .unwrap_or(self.fallback)
    }

    /// Prices raw counts: each of the four token kinds at its own rate.
    pub fn cost(
        &self,
        model: &str,
        input: u64,
        output: u64,
        cache_write: u64,
        cache_read: u64,
    ) -> Usage {
        let p = self.price(model);
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_creation_input_tokens: cache_write,
            cache_read_input_tokens: cache_read,
            cost_usd: input as f64 * p.input
                + output as f64 * p.output
                + cache_write as f64 * p.cache_write
                + cache_read as f64 * p.cache_read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_match_the_published_per_token_rates() {
        let p = Pricing::default();
        let s = p.cost(
            "claude-sonnet-4-5",
            1_000_000,
            1_000_000,
            1_000_000,
            1_000_000,
        );
        assert!(
            (s.cost_usd - (3.0 + 15.0 + 3.75 + 0.3)).abs() < 1e-9,
            "{}",
            s.cost_usd
        );
        let h = p.cost("anthropic/claude-haiku-4-5-20251001", 1000, 100, 0, 0);
        assert!((h.cost_usd - (1000.0 * 1e-6 + 100.0 * 5e-6)).abs() < 1e-12);
        assert_eq!(p.price("some-new-model"), p.fallback);
    }
}
