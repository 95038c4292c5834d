//! Prompts: exactly-once submission by `client_id`, FIFO per session, and the state changes the
//! runner drives. Each change and its event commit together.

use arcbench_agent::{AgentEvent, LogLevel};
use arcbench_git::diff::WorkDiff;
use arcbench_git::review as git_review;
use arcbench_git::worktree;
use arcbench_store::now;
use shared_protocol::{EventBody, Prompt, PromptKind, PromptState, Usage};
use std::path::Path;

use crate::{Engine, EngineError, Result};

const MAX_PROMPT_CHARS: usize = 100_000;
const MAX_CLIENT_ID: usize = 200;

/// The paths of a `files_written` report that lie outside the worktree (the bridge reports those
/// absolute or `../`-relative). Any such path means the boundary failed: the host raises the alarm.
pub fn outside_worktree(paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| {
            let p = Path::new(p);
            p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir)
        })
        .cloned()
        .collect()
}

impl Engine {
    /// The session's chat as its last agent left it, to restore into a new one.
    pub fn transcript(&self, session: &str) -> Result<Option<arcbench_agent::Transcript>> {
        let stored = self.store.tx(|tx| tx.transcript(session))?;
        Ok(stored.and_then(|json| match serde_json::from_str(&json) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(session, %e, "stored transcript unreadable; starting a fresh chat");
                None
            }
        }))
    }

    /// Queues a prompt. The same `client_id` again returns the prompt it made the first time
    /// (`created == false`) and never queues it twice, also across restarts.
    pub fn submit_prompt(
        &self,
        session: &str,
        text: &str,
        client_id: &str,
    ) -> Result<(Prompt, bool)> {
        self.queue_prompt(session, text, client_id, PromptKind::Prompt, Vec::new())
    }

    /// The one way a prompt enters a queue (typed by the user or built by `revise`). A revision
    /// uses up the session's pending review notes in the same transaction.
    pub(crate) fn queue_prompt(
        &self,
        session: &str,
        text: &str,
        client_id: &str,
        kind: PromptKind,
        files: Vec<String>,
    ) -> Result<(Prompt, bool)> {
        let client_id = client_id.trim();
        if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID {
            return Err(EngineError::BadRequest(format!(
                "client_id must be 1 to {MAX_CLIENT_ID} characters (a UUID works)"
            )));
        }
        if text.trim().is_empty() {
            return Err(EngineError::BadRequest("the prompt text is empty".into()));
        }
        if text.chars().count() > MAX_PROMPT_CHARS {
            return Err(EngineError::BadRequest(format!(
                "the prompt is longer than {MAX_PROMPT_CHARS} characters"
            )));
        }
        let row = self.session_row(session)?;
        if let Some(existing) = self.store.tx(|tx| tx.prompt_by_client_id(client_id))? {
            if existing.session_id != session {
                return Err(EngineError::Conflict(format!(
                    "client_id `{client_id}` was already used for a prompt in session {}",
                    existing.session_id
                )));
            }
            return Ok((existing.prompt, false));
        }
        if !Path::new(&row.worktree).join(".git").exists() {
            return Err(EngineError::Git(arcbench_git::GitError::WorktreeMissing(
                row.worktree.into(),
            )));
        }
        if let Some(reason) = self.budget_block(session)? {
            return Err(EngineError::BudgetExceeded(reason));
        }
        let prompt = Prompt {
            id: format!("p-{}", crate::sessions::random_id()),
            client_id: client_id.to_owned(),
            text: text.to_owned(),
            state: PromptState::Queued,
            usage: Usage::default(),
            created_at: now(),
            reason: None,
            kind,
            files,
            reply: String::new(),
        };
        let inserted = self.store.tx(|tx| {
            // Two requests with one client_id can race past the check above; the UNIQUE
            // constraint decides, and the loser answers with the winner's prompt.
            if let Some(existing) = tx.prompt_by_client_id(client_id)? {
                return Ok::<_, EngineError>(Some(existing.prompt));
            }
            tx.insert_prompt(session, &prompt)?;
            if kind == PromptKind::Revision {
                tx.consume_notes(session, &prompt.id)?;
            }
            tx.append_event(
                Some(session),
                EventBody::PromptQueued {
                    prompt: prompt.clone(),
                },
            )?;
            Ok(None)
        })?;
        match inserted {
            Some(existing) => Ok((existing, false)),
            None => Ok((prompt, true)),
        }
    }

    pub fn prompts(&self, session: &str) -> Result<Vec<Prompt>> {
        self.session_row(session)?;
        Ok(self.store.tx(|tx| tx.prompts(session))?)
    }

    pub(crate) fn next_queued(&self, session: &str) -> Result<Option<Prompt>> {
        Ok(self.store.tx(|tx| tx.next_queued(session))?)
    }

    /// Marks the prompt running; from now on review calls answer `session_busy`.
    pub(crate) fn begin_prompt(&self, session: &str, prompt_id: &str) -> Result<()> {
        let lock = self.lock_session(session);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.to_owned(), prompt_id.to_owned());
        self.store.tx(|tx| {
            tx.set_prompt_state(prompt_id, PromptState::Running, None, &now())?;
            tx.append_event(
                Some(session),
                EventBody::PromptStarted {
                    prompt_id: prompt_id.to_owned(),
                },
            )?;
            let row = tx.session(session)?.expect("running session exists");
            tx.append_event(
                Some(session),
                EventBody::SessionUpdated {
                    session: self.present(&row),
                },
            )?;
            Ok::<_, EngineError>(())
        })
    }

    /// Records one thing the agent reported (usage is priced here).
    pub(crate) fn agent_event(
        &self,
        session: &str,
        prompt_id: &str,
        event: AgentEvent,
    ) -> Result<()> {
        let p = prompt_id.to_owned();
        let body = match event {
            AgentEvent::Text(chunk) => EventBody::AgentText {
                prompt_id: p,
                chunk,
            },
            AgentEvent::TextDiscarded { reason } => EventBody::AgentTextDiscarded {
                prompt_id: p,
                reason,
            },
            AgentEvent::Log { level, line } => EventBody::AgentLog {
                prompt_id: p,
                level: match level {
                    LogLevel::Info => "info",
                    LogLevel::Warning => "warning",
                    LogLevel::Error => "error",
                }
                .into(),
                line,
            },
            AgentEvent::Confirm {
                question,
                subject,
                answer,
            } => EventBody::AgentConfirm {
                prompt_id: p,
                question,
                subject,
                answer,
            },
            AgentEvent::Refused {
                action,
                path,
                reason,
            } => EventBody::AgentLog {
                prompt_id: p,
                level: "warning".into(),
                line: format!("refused to {action} `{path}`: {reason}"),
            },
            AgentEvent::Proposed(edit) => return self.record_proposal(session, prompt_id, edit),
            AgentEvent::Usage(raw) => return self.record_usage(session, Some(prompt_id), &raw),
            AgentEvent::History(transcript) => {
                let json = serde_json::to_string(&transcript).expect("transcripts serialize");
                return Ok(self
                    .store
                    .tx(|tx| tx.save_transcript(session, &json, &now()))?);
            }
            AgentEvent::FilesWritten(paths) => {
                let outside = outside_worktree(&paths);
                if !outside.is_empty() {
                    self.store.tx(|tx| {
                        tx.append_event(
                            Some(session),
                            EventBody::AgentLog {
                                prompt_id: p,
                                level: "error".into(),
                                line: format!(
                                    "ALARM: the agent wrote outside its worktree: {}",
                                    outside.join(", ")
                                ),
                            },
                        )
                    })?;
                }
                return self.refresh_diff(session);
            }
            AgentEvent::Finished(_) => return Ok(()),
        };
        self.store.tx(|tx| {
            // The prompt's reply moves with its chunks, in the same transaction.
            match &body {
                EventBody::AgentText { prompt_id, chunk } => tx.append_reply(prompt_id, chunk)?,
                EventBody::AgentTextDiscarded { prompt_id, .. } => {
                    tx.reset_reply(prompt_id)?;
                    // The discarded answer's edit blocks go with it.
                    tx.clear_proposals(prompt_id)?;
                }
                _ => {}
            }
            tx.append_event(Some(session), body)?;
            Ok(())
        })
    }

    /// Ends a prompt; the session takes review calls again.
    pub(crate) fn finish_prompt(
        &self,
        session: &str,
        prompt_id: &str,
        state: PromptState,
        reason: Option<&str>,
    ) -> Result<()> {
        {
            let lock = self.lock_session(session);
            let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
            self.store.tx(|tx| {
                tx.set_prompt_state(prompt_id, state, reason, &now())?;
                let usage = tx
                    .prompt(prompt_id)?
                    .map(|p| p.prompt.usage)
                    .unwrap_or_default();
                tx.append_event(
                    Some(session),
                    EventBody::PromptFinished {
                        prompt_id: prompt_id.to_owned(),
                        state,
                        usage,
                        reason: reason.map(str::to_owned),
                    },
                )?;
                Ok::<_, EngineError>(())
            })?;
            self.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(session);
            let row = self.session_row(session)?;
            self.store.tx(|tx| {
                tx.append_event(
                    Some(session),
                    EventBody::SessionUpdated {
                        session: self.present(&row),
                    },
                )?;
                Ok::<_, EngineError>(())
            })?;
        }
        self.refresh_diff_after(session, Some(prompt_id))
    }

    /// After the agent wrote files: keep the approval mirror exact (Aider `git add`s new files)
    /// and tell clients the diff changed.
    pub(crate) fn refresh_diff(&self, session: &str) -> Result<()> {
        self.refresh_diff_after(session, None)
    }

    /// Like [`Self::refresh_diff`], also keeping the diff as the one `prompt_id` left behind.
    fn refresh_diff_after(&self, session: &str, prompt_id: Option<&str>) -> Result<()> {
        let lock = self.lock_session(session);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let row = self.session_row(session)?;
        let Ok(wt) = worktree::open(Path::new(&row.worktree)) else {
            return Ok(());
        };
        let diff = WorkDiff::compute(&wt)?;
        let approved = self.current_approvals(session, &diff)?;
        git_review::sync_index(&wt, &diff, &approved)?;
        self.store.tx(|tx| {
            if let Some(p) = prompt_id {
                tx.save_prompt_diff(p, &diff.to_wire(&|h| approved.contains(h)))?;
            }
            crate::review::diff_event(tx, session, &diff, &approved)
        })
    }

    /// A prompt the host was running when it stopped (crash, kill -9, SIGTERM) ends
    /// `interrupted`; queued ones stay queued and run again.
    pub fn recover_interrupted(&self) -> Result<Vec<String>> {
        let stale = self
            .store
            .tx(|tx| tx.prompts_in_state(PromptState::Running))?;
        let mut ids = Vec::new();
        for row in stale {
            self.finish_prompt(
                &row.session_id,
                &row.prompt.id,
                PromptState::Interrupted,
                Some("the host stopped while this prompt ran"),
            )?;
            ids.push(row.prompt.id);
        }
        Ok(ids)
    }

    /// The running prompt of `session`, if any.
    pub fn running_prompt(&self, session: &str) -> Option<String> {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(session)
            .cloned()
    }

    /// Keeps a queued prompt waiting, saying why (once).
    pub(crate) fn hold_prompt(&self, session: &str, prompt: &Prompt, reason: &str) -> Result<()> {
        if prompt.reason.as_deref() == Some(reason) {
            return Ok(());
        }
        self.store.tx(|tx| {
            tx.set_prompt_state(&prompt.id, PromptState::Queued, Some(reason), &now())?;
            let updated = tx.prompt(&prompt.id)?.expect("prompt exists").prompt;
            tx.append_event(Some(session), EventBody::PromptUpdated { prompt: updated })?;
            Ok::<_, EngineError>(())
        })
    }

    /// Cancels a prompt that has not started; a running one is the runner's to cancel.
    pub fn cancel_queued(&self, session: &str, prompt_id: &str) -> Result<Prompt> {
        self.session_row(session)?;
        let row = self
            .store
            .tx(|tx| tx.prompt(prompt_id))?
            .filter(|r| r.session_id == session)
            .ok_or_else(|| {
                EngineError::NotFound(format!("no prompt `{prompt_id}` in session {session}"))
            })?;
        if row.prompt.state != PromptState::Queued {
            return Err(EngineError::Conflict(
                format!("prompt `{prompt_id}` is {:?}, not queued", row.prompt.state)
                    .to_lowercase(),
            ));
        }
        self.store.tx(|tx| {
            tx.set_prompt_state(
                prompt_id,
                PromptState::Cancelled,
                Some("cancelled before it ran"),
                &now(),
            )?;
            tx.append_event(
                Some(session),
                EventBody::PromptFinished {
                    prompt_id: prompt_id.to_owned(),
                    state: PromptState::Cancelled,
                    usage: Usage::default(),
                    reason: Some("cancelled before it ran".into()),
                },
            )?;
            Ok::<_, EngineError>(())
        })?;
        Ok(self
            .store
            .tx(|tx| tx.prompt(prompt_id))?
            .expect("prompt exists")
            .prompt)
    }
}
