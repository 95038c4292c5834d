//! What a turn shows while it runs: the reply's edit blocks as proposed changes of their files,
//! and the prompt's usage moving with the streamed text.

use std::path::{Component, Path};
use std::time::{Duration, Instant};

use arcbench_agent::ProposedEdit;
use arcbench_git::diff::FileChange;
use arcbench_git::worktree;
use shared_protocol::{EditProposal, EventBody, ProposalStatus, Usage};

use crate::{Engine, Result};

/// How often the running prompt's usage estimate may move (it moves at least this often while
/// text streams: the runner flushes a pending estimate when no event came for this long).
pub const ESTIMATE_EVERY: Duration = Duration::from_millis(500);

/// Characters per output token for the estimate: Claude's tokenizer averages ~3.5 on code and
/// English prose; the API's exact count replaces it when the request ends.
const CHARS_PER_TOKEN: f64 = 3.5;

impl Engine {
    /// Turns one proposed edit block into what the diff will show for its file, stores it as
    /// the prompt's proposal and announces it (`edit.proposed`), in one transaction.
    pub(crate) fn record_proposal(
        &self,
        session: &str,
        prompt_id: &str,
        edit: ProposedEdit,
    ) -> Result<()> {
        let mut reason = edit.reason.clone();
        let mut file = None;
        let mut block_hunks = Vec::new();
        match (&edit.content, plain_relative(&edit.path)) {
            (Some(content), true) => {
                let row = self.session_row(session)?;
                let wt = worktree::open(Path::new(&row.worktree))?;
                let after = FileChange::proposed(&wt, &edit.path, content.as_bytes())?;
                let before = self.ids_before(&wt, prompt_id, &edit)?;
                if let Some(change) = after {
                    block_hunks = change
                        .units
                        .iter()
                        .map(|u| u.id.clone())
                        .filter(|id| !before.contains(id))
                        .collect();
                    file = Some(change.to_wire(&|_| false));
                }
            }
            (Some(_), false) => {
                reason = Some("the block names a path outside the worktree".into());
            }
            (None, _) => {}
        }
        let status = if reason.is_none() {
            ProposalStatus::Proposed
        } else {
            ProposalStatus::WillNotApply
        };
        let proposal = EditProposal {
            prompt_id: prompt_id.to_owned(),
            answer: edit.answer,
            index: edit.index,
            path: edit.path,
            edit_format: edit.edit_format,
            status,
            reason,
            file,
            block_hunks,
        };
        self.store.tx(|tx| {
            tx.put_proposal(&proposal)?;
            tx.append_event(Some(session), EventBody::EditProposed { proposal })?;
            Ok(())
        })
    }

    /// The hunk ids the file had before this block: after the answer's previous block to the
    /// same file, else as the worktree holds it now (Aider writes only when the answer ends).
    fn ids_before(
        &self,
        wt: &arcbench_git::Repository,
        prompt_id: &str,
        edit: &ProposedEdit,
    ) -> Result<Vec<String>> {
        let earlier = self.store.tx(|tx| tx.prompt_proposals(prompt_id))?;
        if let Some(p) = earlier
            .iter()
            .rev()
            .find(|p| p.index < edit.index && p.path == edit.path && p.answer == edit.answer)
            .filter(|p| p.status == ProposalStatus::Proposed)
        {
            return Ok(p
                .file
                .iter()
                .flat_map(|f| f.hunks.iter().map(|h| h.id.clone()))
                .collect());
        }
        let on_disk = wt
            .workdir()
            .map(|root| root.join(&edit.path))
            .and_then(|p| std::fs::read(p).ok());
        Ok(match on_disk {
            Some(bytes) => FileChange::proposed(wt, &edit.path, &bytes)?
                .map(|c| c.units.into_iter().map(|u| u.id).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        })
    }

    /// Announces the running prompt's usage: its finished requests' exact figures plus
    /// `output_tokens` estimated for the request still streaming (`usage.estimated`).
    pub(crate) fn record_estimate(
        &self,
        session: &str,
        prompt_id: &str,
        model: &str,
        output_tokens: u64,
    ) -> Result<()> {
        let extra = self.pricing.cost(model, 0, output_tokens, 0, 0);
        self.store.tx(|tx| {
            let exact = tx
                .prompt(prompt_id)?
                .map(|r| r.prompt.usage)
                .unwrap_or_default();
            let usage = Usage {
                output_tokens: exact.output_tokens + extra.output_tokens,
                cost_usd: exact.cost_usd + extra.cost_usd,
                ..exact
            };
            tx.append_event(
                Some(session),
                EventBody::UsageEstimated {
                    prompt_id: prompt_id.to_owned(),
                    model: model.to_owned(),
                    usage,
                    estimated: true,
                },
            )?;
            Ok(())
        })
    }
}

/// A worktree-relative path that stays inside (no root, no `..`): the bridge refuses others,
/// and the host does not trust it to.
fn plain_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// The running request's output, estimated from its streamed text, and when to say it.
#[derive(Debug, Default)]
pub struct Estimate {
    chars: usize,
    /// Characters not yet in an announced estimate.
    unsaid: bool,
    last: Option<Instant>,
}

impl Estimate {
    pub fn text(&mut self, chunk: &str) {
        self.chars += chunk.chars().count();
        self.unsaid = true;
    }

    /// A request's exact usage arrived: what it streamed is counted exactly now.
    pub fn exact(&mut self) {
        self.chars = 0;
        self.unsaid = false;
    }

    /// The output tokens to announce now, if an estimate is due.
    pub fn due(&mut self, now: Instant) -> Option<u64> {
        let ready = self
            .last
            .is_none_or(|t| now.duration_since(t) >= ESTIMATE_EVERY);
        if !self.unsaid || !ready {
            return None;
        }
        self.unsaid = false;
        self.last = Some(now);
        Some((self.chars as f64 / CHARS_PER_TOKEN).ceil() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_worktree_are_not_plain() {
        assert!(plain_relative("src/a.rs"));
        assert!(plain_relative("./a.rs"));
        for p in ["", "../x", "/etc/passwd", "a/../../x"] {
            assert!(!plain_relative(p), "{p}");
        }
    }

    #[test]
    fn the_estimate_moves_at_most_twice_a_second_and_only_with_new_text() {
        let t0 = Instant::now();
        let mut e = Estimate::default();
        assert_eq!(e.due(t0), None, "nothing streamed yet");
        e.text("abcdefg");
        assert_eq!(e.due(t0), Some(2));
        e.text("hij");
        assert_eq!(e.due(t0 + Duration::from_millis(100)), None, "too soon");
        assert_eq!(e.due(t0 + ESTIMATE_EVERY), Some(3));
        assert_eq!(e.due(t0 + ESTIMATE_EVERY * 3), None, "no new text");
        e.exact();
        e.text("é");
        assert_eq!(
            e.due(t0 + ESTIMATE_EVERY * 4),
            Some(1),
            "counted from the exact figures"
        );
    }
}
