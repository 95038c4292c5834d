//! Review that talks back: rejected hunks and comments become the agent's next instructions,
//! the way a pull-request review works.

use std::collections::BTreeSet;
use std::path::Path;

use arcbench_git::diff::{lossy, FileChange, Unit, WorkDiff};
use arcbench_git::worktree;
use arcbench_store::{now, Tx};
use shared_protocol::{
    EventBody, HistoryResponse, LineKind, NoteHunkState, Prompt, PromptKind, ReviewNote,
    RevisionPreview, Round,
};

use crate::{Engine, EngineError, Result};

const MAX_COMMENT: usize = 4000;

/// A note about `unit` of `fc`, quoting its lines exactly.
pub(crate) fn note_for(
    fc: &FileChange,
    unit: &Unit,
    state: NoteHunkState,
    comment: Option<&str>,
) -> ReviewNote {
    let mut patch = String::new();
    for l in &unit.lines {
        let sign = match l.kind {
            LineKind::Context => ' ',
            LineKind::Add => '+',
            LineKind::Del => '-',
        };
        patch.push(sign);
        let text = lossy(&l.bytes);
        patch.push_str(text.strip_suffix('\n').unwrap_or(&text));
        patch.push('\n');
        if l.no_newline {
            patch.push_str("\\ No newline at end of file\n");
        }
    }
    if unit.lines.is_empty() {
        patch.push_str(&format!("({})\n", unit.header));
    }
    ReviewNote {
        id: 0,
        hunk_id: unit.id.clone(),
        path: lossy(fc.path()),
        header: unit.header.clone(),
        old_start: unit.ranges.old_start,
        old_lines: unit.ranges.old_lines,
        new_start: unit.ranges.new_start,
        new_lines: unit.ranges.new_lines,
        hunk_state: state,
        patch,
        comment: comment.map(str::to_owned),
        created_at: now(),
        round_prompt_id: None,
    }
}

/// Stores notes and announces each.
pub(crate) fn record_notes(tx: &Tx, session: &str, notes: Vec<ReviewNote>) -> Result<()> {
    for n in notes {
        let note = tx.insert_note(session, &n)?;
        tx.append_event(Some(session), EventBody::ReviewNoted { note })?;
    }
    Ok(())
}

pub(crate) fn check_comment(comment: &str) -> Result<()> {
    if comment.chars().count() > MAX_COMMENT {
        return Err(EngineError::BadRequest(format!(
            "comment is longer than {MAX_COMMENT} characters"
        )));
    }
    Ok(())
}

impl Engine {
    /// Attaches a comment to a hunk of the current diff (approved or pending); the next
    /// revision quotes it. Allowed while a prompt runs: it changes no file.
    pub fn comment(&self, session: &str, hunk_id: &str, comment: &str) -> Result<ReviewNote> {
        let comment = comment.trim();
        if comment.is_empty() {
            return Err(EngineError::BadRequest("the comment is empty".into()));
        }
        check_comment(comment)?;
        let row = self.session_row(session)?;
        let wt = worktree::open(Path::new(&row.worktree))?;
        let diff = WorkDiff::compute(&wt)?;
        arcbench_git::review::check_ids(&diff, &[hunk_id.to_owned()])?;
        let approved = self.current_approvals(session, &diff)?;
        let (fc, unit) = diff
            .units()
            .find(|(_, u)| u.id == hunk_id)
            .expect("checked above");
        let state = if approved.contains(hunk_id) {
            NoteHunkState::Approved
        } else {
            NoteHunkState::Pending
        };
        let note = note_for(fc, unit, state, Some(comment));
        self.store.tx(|tx| {
            let stored = tx.insert_note(session, &note)?;
            tx.append_event(
                Some(session),
                EventBody::ReviewNoted {
                    note: stored.clone(),
                },
            )?;
            Ok::<_, EngineError>(stored)
        })
    }

    /// The prompt `revise` would send now; 409 when there is nothing to revise.
    pub fn revision_preview(&self, session: &str) -> Result<RevisionPreview> {
        let row = self.session_row(session)?;
        let notes = self.store.tx(|tx| tx.pending_notes(session))?;
        if notes.is_empty() {
            return Err(EngineError::Conflict(
                "nothing to revise: reject a hunk or comment on one first".into(),
            ));
        }
        let text = revision_text(&notes);
        // Only files that still exist go into the chat (a rejected new file is gone).
        let files: Vec<String> = notes
            .iter()
            .map(|n| n.path.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|p| Path::new(&row.worktree).join(p).is_file())
            .collect();
        Ok(RevisionPreview { text, files, notes })
    }

    /// Queues the revision (the preview's text, or the user's edit of it) through the normal
    /// prompt queue: same exactly-once rule, and the notes are used once.
    pub fn submit_revision(
        &self,
        session: &str,
        client_id: &str,
        text: Option<&str>,
    ) -> Result<(Prompt, bool)> {
        if let Some(existing) = self
            .store
            .tx(|tx| tx.prompt_by_client_id(client_id.trim()))?
        {
            if existing.session_id == session {
                return Ok((existing.prompt, false));
            }
        }
        let preview = self.revision_preview(session)?;
        let text = text
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(&preview.text)
            .to_owned();
        self.queue_prompt(
            session,
            &text,
            client_id,
            PromptKind::Revision,
            preview.files,
        )
    }

    /// Every prompt of the session with the notes that caused it and the diff it left.
    pub fn history(&self, session: &str) -> Result<HistoryResponse> {
        self.session_row(session)?;
        self.store.tx(|tx| {
            let rounds = tx
                .prompts(session)?
                .into_iter()
                .map(|prompt| {
                    Ok(Round {
                        notes: tx.notes_of_round(&prompt.id)?,
                        diff: tx.prompt_diff(&prompt.id)?,
                        prompt,
                    })
                })
                .collect::<std::result::Result<Vec<_>, arcbench_store::StoreError>>()?;
            Ok::<_, EngineError>(HistoryResponse {
                rounds,
                pending_notes: tx.pending_notes(session)?,
            })
        })
    }
}

/// The revision prompt: what was rejected and why, what was kept with a remark, each quoting the
/// exact lines, so the agent can act on the review without a new explanation.
pub fn revision_text(notes: &[ReviewNote]) -> String {
    let rejected: Vec<&ReviewNote> = notes
        .iter()
        .filter(|n| n.hunk_state == NoteHunkState::Rejected)
        .collect();
    let kept: Vec<&ReviewNote> = notes
        .iter()
        .filter(|n| n.hunk_state != NoteHunkState::Rejected)
        .collect();
    let mut out = String::from("Please revise your changes according to my review below.\n");
    if !rejected.is_empty() {
        out.push_str(
            "\n## Changes I rejected\nI reverted these in the files; do not make them again as they were.\n",
        );
        for n in rejected {
            push_note(&mut out, n, "Why");
        }
    }
    if !kept.is_empty() {
        out.push_str(
            "\n## Comments on changes I kept\nThese stay; adjust them as the comment asks.\n",
        );
        for n in kept {
            push_note(&mut out, n, "Comment");
        }
    }
    out.push_str("\nKeep everything else as it is.\n");
    out
}

fn push_note(out: &mut String, n: &ReviewNote, label: &str) {
    let lines = if n.new_lines > 0 {
        format!("lines {}-{}", n.new_start, n.new_start + n.new_lines - 1)
    } else {
        format!("near line {}", n.old_start)
    };
    out.push_str(&format!(
        "\n### {} ({lines}, `{}`)\n```diff\n{}```\n",
        n.path, n.header, n.patch
    ));
    match &n.comment {
        Some(c) => out.push_str(&format!("{label}: {c}\n")),
        None => out.push_str(&format!("{label}: (no reason given)\n")),
    }
}
