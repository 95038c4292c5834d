//! What the host is doing, for the tray and the notifications: a reducer over the host's event
//! log. The same events every client sees, folded into one tray state and, for events that
//! arrive live (not replayed at start), the notices worth interrupting the user for. The desktop
//! app (tray, notifications) and the phone app (local notifications) fold with this one reducer.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use shared_protocol::{AgentState, BudgetScope, Event, EventBody, PromptState, PushEvent};
use specta::Type;

/// The tray's state, most urgent first when several hold: installing, running, budget warning,
/// needs review, idle. `Paused` is the app's own (the host is stopped by the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum TrayState {
    Idle,
    Running,
    NeedsReview,
    BudgetWarning,
    Installing,
    Paused,
}

impl TrayState {
    /// The icon's file stem under `icons/tray/`.
    pub fn icon(self) -> &'static str {
        match self {
            TrayState::Idle | TrayState::Paused => "idle",
            TrayState::Running => "running",
            TrayState::NeedsReview => "review",
            TrayState::BudgetWarning => "warning",
            TrayState::Installing => "installing",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TrayState::Idle => "Idle",
            TrayState::Running => "Agent running",
            TrayState::NeedsReview => "Changes wait for review",
            TrayState::BudgetWarning => "Budget warning",
            TrayState::Installing => "Installing the agent",
            TrayState::Paused => "Paused",
        }
    }
}

/// Something to tell the user with a native notification; clicking it opens `session_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct Notice {
    /// Which of the kinds a user can turn off (the push settings' own names).
    pub kind: PushEvent,
    pub title: String,
    pub body: String,
    pub session_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct Activity {
    installing: bool,
    running: BTreeSet<String>,
    /// Hunks not yet approved, per session (from the last `diff.updated`).
    pending: BTreeMap<String, u32>,
    titles: BTreeMap<String, String>,
    /// The last budget warning, until a later budget change or a new UTC day clears it.
    budget_warning: bool,
}

impl Activity {
    pub fn tray(&self) -> TrayState {
        if self.installing {
            TrayState::Installing
        } else if !self.running.is_empty() {
            TrayState::Running
        } else if self.budget_warning {
            TrayState::BudgetWarning
        } else if self.pending.values().any(|n| *n > 0) {
            TrayState::NeedsReview
        } else {
            TrayState::Idle
        }
    }

    /// A prompt is running somewhere.
    pub fn busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// Sessions with hunks waiting, and how many.
    pub fn pending_hunks(&self) -> u32 {
        self.pending.values().sum()
    }

    /// Folds one event in; returns what to tell the user about it (only worth it for live events).
    pub fn apply(&mut self, event: &Event) -> Option<Notice> {
        let session = event.session_id.clone();
        let title = |s: &Option<String>, a: &Activity| {
            s.as_ref()
                .and_then(|id| a.titles.get(id).cloned())
                .unwrap_or_else(|| "a session".into())
        };
        match &event.body {
            EventBody::SessionCreated { session: s } | EventBody::SessionUpdated { session: s } => {
                self.titles.insert(s.id.clone(), s.title.clone());
                None
            }
            EventBody::SessionDeleted { .. } => {
                if let Some(id) = &session {
                    self.pending.remove(id);
                    self.titles.remove(id);
                    self.running.retain(|p| !p.starts_with(&format!("{id}/")));
                }
                None
            }
            EventBody::DiffUpdated {
                hunks, approved, ..
            } => {
                if let Some(id) = session {
                    self.pending.insert(id, hunks.saturating_sub(*approved));
                }
                None
            }
            EventBody::PromptStarted { prompt_id } => {
                self.running.insert(running_key(&session, prompt_id));
                None
            }
            EventBody::PromptFinished {
                prompt_id,
                state,
                reason,
                ..
            } => {
                self.running.remove(&running_key(&session, prompt_id));
                let name = title(&session, self);
                let waiting = session
                    .as_ref()
                    .and_then(|id| self.pending.get(id))
                    .copied()
                    .unwrap_or(0);
                let (title, body) = match state {
                    PromptState::Done if waiting > 0 => (
                        "Changes wait for review".to_owned(),
                        format!(
                            "{name}: the turn finished; {waiting} hunk{} await{} review",
                            if waiting == 1 { "" } else { "s" },
                            if waiting == 1 { "s" } else { "" }
                        ),
                    ),
                    PromptState::Done => (
                        "Turn finished".to_owned(),
                        format!("{name}: the turn finished with no changes to review"),
                    ),
                    other => (
                        "Turn stopped".to_owned(),
                        format!(
                            "{name}: {}{}",
                            serde_json::to_value(other)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_else(|| "stopped".into()),
                            reason
                                .as_deref()
                                .map(|r| format!(" ({r})"))
                                .unwrap_or_default()
                        ),
                    ),
                };
                Some(Notice {
                    kind: if *state == PromptState::Done {
                        PushEvent::TurnFinished
                    } else {
                        PushEvent::NeedsYou
                    },
                    title,
                    body,
                    session_id: session,
                })
            }
            EventBody::BudgetWarning {
                scope,
                spent_usd,
                limit_usd,
            }
            | EventBody::BudgetExceeded {
                scope,
                spent_usd,
                limit_usd,
            } => {
                self.budget_warning = true;
                let what = match scope {
                    BudgetScope::Session => format!("{}'s budget", title(&session, self)),
                    BudgetScope::Daily => "Today's budget".into(),
                };
                let held = matches!(event.body, EventBody::BudgetExceeded { .. });
                Some(Notice {
                    kind: PushEvent::Budget,
                    title: if held {
                        "Budget reached: prompts are held"
                    } else {
                        "Budget warning"
                    }
                    .into(),
                    body: format!("{what}: ${spent_usd:.2} of ${limit_usd:.2} spent"),
                    session_id: session,
                })
            }
            EventBody::AgentState { agent } => {
                self.installing = agent.state == AgentState::Installing;
                None
            }
            EventBody::CommitCreated { .. } | EventBody::SessionMerged { .. } => None,
            _ => None,
        }
    }

    /// A session's title learnt elsewhere (a client's session list): its `session.created` may
    /// have come before this reducer was watching.
    pub fn name_session(&mut self, id: &str, title: &str) {
        self.titles.insert(id.to_owned(), title.to_owned());
    }

    /// The user changed the budget (or a new day began): the old warning no longer stands.
    pub fn clear_budget_warning(&mut self) {
        self.budget_warning = false;
    }
}

fn running_key(session: &Option<String>, prompt: &str) -> String {
    format!("{}/{prompt}", session.as_deref().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_protocol::Usage;

    fn event(session: &str, body: EventBody) -> Event {
        Event {
            seq: 1,
            ts: "2026-11-26T00:00:00Z".into(),
            session_id: Some(session.into()),
            body,
        }
    }

    #[test]
    fn a_turn_runs_then_waits_for_review_then_is_applied() {
        let mut a = Activity::default();
        assert_eq!(a.tray(), TrayState::Idle);
        a.apply(&event(
            "s1",
            EventBody::PromptStarted {
                prompt_id: "p1".into(),
            },
        ));
        assert_eq!(a.tray(), TrayState::Running);
        a.apply(&event(
            "s1",
            EventBody::DiffUpdated {
                files: 1,
                hunks: 2,
                approved: 0,
            },
        ));
        let notice = a
            .apply(&event(
                "s1",
                EventBody::PromptFinished {
                    prompt_id: "p1".into(),
                    state: PromptState::Done,
                    usage: Usage::default(),
                    reason: None,
                },
            ))
            .unwrap();
        assert_eq!(notice.title, "Changes wait for review");
        assert!(notice.body.contains("2 hunks await review"), "{notice:?}");
        assert_eq!(notice.session_id.as_deref(), Some("s1"));
        assert_eq!(a.tray(), TrayState::NeedsReview);
        a.apply(&event(
            "s1",
            EventBody::DiffUpdated {
                files: 0,
                hunks: 0,
                approved: 0,
            },
        ));
        assert_eq!(a.tray(), TrayState::Idle);
    }
}
