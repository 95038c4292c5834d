//! Usage accounting and budgets: every API request priced from its raw counts, per-session and
//! daily limits in USD, a warning at 80 % (configurable) and a hold at 100 %.

use arcbench_agent::RawUsage;
use arcbench_store::{now, today, UsageGroup, UsageRow};
use shared_protocol::{Budget, BudgetInfo, BudgetScope, EventBody, KeyedUsage, UsageResponse};

use crate::{Engine, EngineError, Result};

/// Share of a limit at which `budget.warning` is sent, unless configured otherwise.
pub const WARNING_RATIO: f64 = 0.8;
const SETTING: &str = "budget";

/// Limits are positive amounts of USD, or none; the warning ratio is in (0, 1]. The one rule,
/// for the API and for the host's configuration.
pub fn check_budget(b: &Budget) -> Result<()> {
    for (name, v) in [
        ("session_limit_usd", b.session_limit_usd),
        ("daily_limit_usd", b.daily_limit_usd),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v <= 0.0) {
            return Err(EngineError::BadRequest(format!(
                "{name} must be a positive number of USD or null"
            )));
        }
    }
    if b.warning_ratio
        .is_some_and(|r| !r.is_finite() || r <= 0.0 || r > 1.0)
    {
        return Err(EngineError::BadRequest(
            "warning_ratio must be more than 0 and at most 1 (0.8 warns at 80 %)".into(),
        ));
    }
    Ok(())
}

fn ratio(b: &Budget) -> f64 {
    b.warning_ratio.unwrap_or(WARNING_RATIO)
}

impl Engine {
    /// The limits in force: those set through the API, else the configured ones.
    pub fn budget(&self) -> Result<Budget> {
        let stored = self.store.tx(|tx| tx.setting(SETTING))?;
        Ok(stored
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(self.default_budget))
    }

    pub fn set_budget(&self, budget: Budget) -> Result<Budget> {
        check_budget(&budget)?;
        let budget = Budget {
            warning_ratio: budget.warning_ratio.or(self.budget()?.warning_ratio),
            ..budget
        };
        let json = serde_json::to_string(&budget).expect("budget serializes");
        self.store.tx(|tx| tx.set_setting(SETTING, Some(&json)))?;
        Ok(budget)
    }

    /// Why a new prompt of `session` may not run now, if it may not.
    pub fn budget_block(&self, session: &str) -> Result<Option<String>> {
        let b = self.budget()?;
        let (spent_session, spent_today) = self.store.tx(|tx| {
            Ok::<_, EngineError>((
                tx.usage_of_session(session)?.cost_usd,
                tx.usage_of_day(&today())?.cost_usd,
            ))
        })?;
        if let Some(limit) = b.session_limit_usd.filter(|l| spent_session >= *l) {
            return Ok(Some(format!(
                "session budget reached: ${spent_session:.2} of ${limit:.2}; raise the limit to continue"
            )));
        }
        if let Some(limit) = b.daily_limit_usd.filter(|l| spent_today >= *l) {
            return Ok(Some(format!(
                "daily budget reached: ${spent_today:.2} of ${limit:.2} today (UTC); raise the limit or wait for tomorrow"
            )));
        }
        Ok(None)
    }

    /// Prices and records one API request, announcing it and any budget line it crossed.
    pub(crate) fn record_usage(
        &self,
        session: &str,
        prompt_id: Option<&str>,
        raw: &RawUsage,
    ) -> Result<()> {
        let usage = self.pricing.cost(
            &raw.model,
            raw.input_tokens,
            raw.output_tokens,
            raw.cache_creation_input_tokens,
            raw.cache_read_input_tokens,
        );
        let budget = self.budget()?;
        let day = today();
        self.store.tx(|tx| {
            let before = (
                tx.usage_of_session(session)?.cost_usd,
                tx.usage_of_day(&day)?.cost_usd,
            );
            tx.insert_usage(&UsageRow {
                session_id: session.to_owned(),
                prompt_id: prompt_id.map(str::to_owned),
                model: raw.model.clone(),
                usage: usage.clone(),
                day: day.clone(),
                at: now(),
            })?;
            let session_total = tx.usage_of_session(session)?;
            let today_total = tx.usage_of_day(&day)?;
            tx.append_event(
                Some(session),
                EventBody::UsageUpdated {
                    prompt_id: prompt_id.map(str::to_owned),
                    model: raw.model.clone(),
                    usage: usage.clone(),
                    session_total: session_total.clone(),
                    today_total: today_total.clone(),
                },
            )?;
            let lines = [
                (
                    BudgetScope::Session,
                    budget.session_limit_usd,
                    before.0,
                    session_total.cost_usd,
                ),
                (
                    BudgetScope::Daily,
                    budget.daily_limit_usd,
                    before.1,
                    today_total.cost_usd,
                ),
            ];
            for (scope, limit, was, now) in lines {
                let Some(limit) = limit else { continue };
                if was < limit && now >= limit {
                    tx.append_event(
                        Some(session),
                        EventBody::BudgetExceeded {
                            scope,
                            spent_usd: now,
                            limit_usd: limit,
                        },
                    )?;
                } else if was < limit * ratio(&budget) && now >= limit * ratio(&budget) {
                    tx.append_event(
                        Some(session),
                        EventBody::BudgetWarning {
                            scope,
                            spent_usd: now,
                            limit_usd: limit,
                        },
                    )?;
                }
            }
            Ok::<_, EngineError>(())
        })
    }

    /// Records usage that arrived after its prompt ended (the agent's background work).
    pub fn record_late_usage(&self, prompt_id: &str, raw: &RawUsage) -> Result<()> {
        let Some(row) = self.store.tx(|tx| tx.prompt(prompt_id))? else {
            return Ok(());
        };
        self.record_usage(&row.session_id, Some(prompt_id), raw)
    }

    /// Usage grouped every way `GET /usage` shows it, with the limits in force.
    pub fn usage_report(&self) -> Result<UsageResponse> {
        let budget = self.budget()?;
        let keyed = |v: Vec<(String, shared_protocol::Usage)>| {
            v.into_iter()
                .map(|(id, usage)| KeyedUsage { id, usage })
                .collect()
        };
        self.store.tx(|tx| {
            let today = tx.usage_of_day(&today())?;
            Ok::<_, EngineError>(UsageResponse {
                budget: BudgetInfo {
                    session_limit_usd: budget.session_limit_usd,
                    daily_limit_usd: budget.daily_limit_usd,
                    warning_ratio: ratio(&budget),
                    today_spent_usd: today.cost_usd,
                },
                total: tx.usage_total()?,
                today,
                sessions: keyed(tx.usage_by(UsageGroup::Session)?),
                models: keyed(tx.usage_by(UsageGroup::Model)?),
                days: keyed(tx.usage_by(UsageGroup::Day)?),
            })
        })
    }
}
