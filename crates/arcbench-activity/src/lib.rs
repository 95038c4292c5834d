//! What the host is doing, for the tray and the notifications: a reducer over the host's event
//! log. The same events every client sees, folded into one tray state and, for events that
//! arrive live (not replayed at start), the notices worth interrupting the user for. The desktop
//! app (tray, notifications), the phone app (local notifications) and the host's push (Web Push,
//! APNs, FCM) fold with this one reducer, so every device says the same of the same turn.

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
                // The user's own cancel is nothing to tell; a turn that did not finish needs them.
                let (kind, title, body) = match state {
                    PromptState::Done => (
                        PushEvent::TurnFinished,
                        "Turn finished",
                        match waiting {
                            0 => format!("{name}: the agent finished; nothing awaits review"),
                            1 => format!("{name}: 1 hunk awaits review"),
                            n => format!("{name}: {n} hunks await review"),
                        },
                    ),
                    PromptState::Failed | PromptState::Interrupted => (
                        PushEvent::NeedsYou,
                        "The agent needs you",
                        format!(
                            "{name}: {}",
                            reason.as_deref().unwrap_or("the turn did not finish")
                        ),
                    ),
                    PromptState::Cancelled | PromptState::Queued | PromptState::Running => {
                        return None
                    }
                };
                Some(Notice {
                    kind,
                    title: title.to_owned(),
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

    /// Whether the reducer knows what `id` is called (else its notices say "a session").
    pub fn knows_session(&self, id: &str) -> bool {
        self.titles.contains_key(id)
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
        assert_eq!(notice.title, "Turn finished");
        assert_eq!(notice.body, "a session: 2 hunks await review");
        assert_eq!(notice.kind, PushEvent::TurnFinished);
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

    #[test]
    fn a_failed_turn_needs_the_user_and_their_own_cancel_says_nothing() {
        let mut a = Activity::default();
        assert!(!a.knows_session("s1"));
        a.name_session("s1", "Rate limits");
        assert!(a.knows_session("s1"));
        let finished = |state, reason: Option<&str>| {
            event(
                "s1",
                EventBody::PromptFinished {
                    prompt_id: "p1".into(),
                    state,
                    usage: Usage::default(),
                    reason: reason.map(str::to_owned),
                },
            )
        };
        let failed = a
            .apply(&finished(
                PromptState::Failed,
                Some("the API refused the key"),
            ))
            .unwrap();
        assert_eq!(failed.kind, PushEvent::NeedsYou);
        assert_eq!(failed.title, "The agent needs you");
        assert_eq!(failed.body, "Rate limits: the API refused the key");
        let interrupted = a.apply(&finished(PromptState::Interrupted, None)).unwrap();
        assert_eq!(interrupted.body, "Rate limits: the turn did not finish");
        assert_eq!(a.apply(&finished(PromptState::Cancelled, None)), None);
        let done = a.apply(&finished(PromptState::Done, None)).unwrap();
        assert_eq!(
            done.body,
            "Rate limits: the agent finished; nothing awaits review"
        );
    }
}
