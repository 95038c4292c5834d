//! The host's API, written once: every operation a client can ask of a host is one function
//! here, taking owned, deserializable arguments and answering a serializable value or a typed
//! engine error. The HTTP routes (arcbench-server) are thin adapters over them, and so are the
//! desktop app's Tauri commands, which are generated from [`api_operations!`] — the one list of
//! these operations. A test compares that list with the HTTP API's operations, so an operation
//! cannot exist in one transport and not the other.

use arcbench_engine::EngineError;
use serde::{Deserialize, Serialize};
use shared_protocol::{
    ApplyRequest, CancelResponse, CommentRequest, CommitResponse, CreateSessionRequest,
    DeletedResponse, DevicesResponse, Diff, EventsQuery, EventsResponse, HistoryResponse,
    HunkIdsRequest, NoteResponse, PairingCode, Prompt, PromptsResponse, ReviseRequest,
    RevisionPreview, Session, SessionDetail, SessionSnapshot, SessionsResponse,
    SubmitPromptRequest,
};

use crate::Host;

/// A queued prompt (or revision), and whether this call queued it: `false` when the same
/// `client_id` was seen before and the answer is that earlier prompt (HTTP 200 instead of 202).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct Submitted {
    pub prompt: Prompt,
    pub created: bool,
}

/// Whether to delete the session's branch too (refused while it has unmerged commits, unless
/// `force`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, specta::Type)]
pub struct DeleteOptions {
    #[serde(default)]
    pub delete_branch: bool,
    #[serde(default)]
    pub force: bool,
}

/// Every operation of [`Host`]'s API, once: `name(argument: Type, …) -> Answer;`. Calls
/// `$callback! { $($extra)* ; <the list> }`, so each shell can generate its adapters from it
/// (the desktop app: one Tauri command per line). Every name is a `Host` method with those
/// arguments answering `Result<Answer, EngineError>`.
///
/// Not here, on purpose: `pair` (a device without a key redeems a code: HTTP only, before any
/// app), and the audio operations `transcribe`/`speech` (binary bodies, HTTP only). The events
/// stream is the WebSocket over HTTP and an IPC channel in the app (subscribe, then replay).
#[macro_export]
macro_rules! api_operations {
    ($callback:ident $(, $extra:tt)*) => {
        $callback! { $($extra)* ;
            status() -> $crate::protocol::Status;
            list_sessions() -> $crate::protocol::SessionsResponse;
            create_session(req: $crate::protocol::CreateSessionRequest) -> $crate::protocol::Session;
            session_detail(id: String) -> $crate::protocol::SessionDetail;
            snapshot(id: String) -> $crate::protocol::SessionSnapshot;
            delete_session(id: String, options: $crate::api::DeleteOptions) -> $crate::protocol::DeletedResponse;
            diff(id: String) -> $crate::protocol::Diff;
            approve_hunks(id: String, req: $crate::protocol::HunkIdsRequest) -> $crate::protocol::Diff;
            reject_hunks(id: String, req: $crate::protocol::HunkIdsRequest) -> $crate::protocol::Diff;
            apply(id: String, req: $crate::protocol::ApplyRequest) -> $crate::protocol::CommitResponse;
            reject_all(id: String) -> $crate::protocol::Diff;
            undo(id: String) -> $crate::protocol::CommitResponse;
            merge(id: String) -> $crate::protocol::CommitResponse;
            list_events(query: $crate::protocol::EventsQuery) -> $crate::protocol::EventsResponse;
            submit_prompt(id: String, req: $crate::protocol::SubmitPromptRequest) -> $crate::api::Submitted;
            list_prompts(id: String) -> $crate::protocol::PromptsResponse;
            cancel_prompt(id: String, prompt_id: String) -> $crate::protocol::CancelResponse;
            cancel_running(id: String) -> $crate::protocol::CancelResponse;
            usage() -> $crate::protocol::UsageResponse;
            budget() -> $crate::protocol::BudgetInfo;
            set_budget(budget: $crate::protocol::Budget) -> $crate::protocol::BudgetInfo;
            comment(id: String, req: $crate::protocol::CommentRequest) -> $crate::protocol::NoteResponse;
            revision_preview(id: String) -> $crate::protocol::RevisionPreview;
            submit_revision(id: String, req: $crate::protocol::ReviseRequest) -> $crate::api::Submitted;
            history(id: String) -> $crate::protocol::HistoryResponse;
            create_pairing_code() -> $crate::protocol::PairingCode;
            list_devices() -> $crate::protocol::DevicesResponse;
            revoke_device(id: String) -> $crate::protocol::Device;
        }
    };
}

/// The names [`api_operations!`] lists, for tests that compare it with a transport.
macro_rules! names {
    (; $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        &[$(stringify!($name)),*]
    };
}

/// Every operation's name, in [`api_operations!`]'s order.
pub const OPERATIONS: &[&str] = api_operations!(names);

impl Host {
    pub async fn list_sessions(&self) -> Result<SessionsResponse, EngineError> {
        let (sessions, last_seq) = self.run(|e| e.sessions_since()).await?;
        Ok(SessionsResponse { sessions, last_seq })
    }

    pub async fn create_session(&self, req: CreateSessionRequest) -> Result<Session, EngineError> {
        self.run(move |e| e.create_session(req)).await
    }

    pub async fn session_detail(&self, id: String) -> Result<SessionDetail, EngineError> {
        self.run(move |e| {
            Ok(SessionDetail {
                session: e.session(&id)?,
                prompts: e.prompts(&id)?,
                commits: e.commits(&id)?,
            })
        })
        .await
    }

    /// Everything to show one session, and the seq to stream its events from.
    pub async fn snapshot(&self, id: String) -> Result<SessionSnapshot, EngineError> {
        self.run(move |e| e.snapshot(&id)).await
    }

    pub async fn delete_session(
        &self,
        id: String,
        options: DeleteOptions,
    ) -> Result<DeletedResponse, EngineError> {
        self.run(move |e| e.delete_session(&id, options.delete_branch, options.force))
            .await?;
        Ok(DeletedResponse {
            deleted: true,
            branch_deleted: options.delete_branch,
        })
    }

    pub async fn diff(&self, id: String) -> Result<Diff, EngineError> {
        self.run(move |e| e.diff(&id)).await
    }

    pub async fn approve_hunks(
        &self,
        id: String,
        req: HunkIdsRequest,
    ) -> Result<Diff, EngineError> {
        self.run(move |e| e.approve(&id, &req.ids)).await
    }

    pub async fn reject_hunks(&self, id: String, req: HunkIdsRequest) -> Result<Diff, EngineError> {
        self.run(move |e| e.reject(&id, &req.ids, req.comment.as_deref()))
            .await
    }

    /// Commits the approved hunks on the session branch.
    pub async fn apply(
        &self,
        id: String,
        req: ApplyRequest,
    ) -> Result<CommitResponse, EngineError> {
        let c = self
            .run(move |e| e.apply(&id, req.message.as_deref()))
            .await?;
        Ok(CommitResponse { commit: c.sha })
    }

    pub async fn reject_all(&self, id: String) -> Result<Diff, EngineError> {
        self.run(move |e| e.reject_all(&id)).await
    }

    pub async fn undo(&self, id: String) -> Result<CommitResponse, EngineError> {
        Ok(CommitResponse {
            commit: self.run(move |e| e.undo(&id)).await?,
        })
    }

    pub async fn merge(&self, id: String) -> Result<CommitResponse, EngineError> {
        Ok(CommitResponse {
            commit: self.run(move |e| e.merge(&id)).await?,
        })
    }

    /// One page of persisted events after `query.since` (see [`Host::events`]).
    pub async fn list_events(&self, query: EventsQuery) -> Result<EventsResponse, EngineError> {
        Ok(EventsResponse {
            events: self.events(query.since).await?,
        })
    }

    /// Queues a prompt, exactly once per `client_id`, and makes sure it will run.
    pub async fn submit_prompt(
        &self,
        id: String,
        req: SubmitPromptRequest,
    ) -> Result<Submitted, EngineError> {
        let s = id.clone();
        let (prompt, created) = self
            .run(move |e| e.submit_prompt(&s, &req.text, &req.client_id))
            .await?;
        self.runner.kick(&id);
        Ok(Submitted { prompt, created })
    }

    pub async fn list_prompts(&self, id: String) -> Result<PromptsResponse, EngineError> {
        Ok(PromptsResponse {
            prompts: self.run(move |e| e.prompts(&id)).await?,
        })
    }

    /// Cancels one prompt: queued, it never runs; running, it is stopped.
    pub async fn cancel_prompt(
        &self,
        id: String,
        prompt_id: String,
    ) -> Result<CancelResponse, EngineError> {
        Ok(CancelResponse {
            cancelled: self.runner.cancel_prompt(&id, &prompt_id).await?,
        })
    }

    /// Stops the session's running prompt, if any.
    pub async fn cancel_running(&self, id: String) -> Result<CancelResponse, EngineError> {
        let session = id.clone();
        self.run(move |e| e.session(&session)).await?;
        Ok(CancelResponse {
            cancelled: self.runner.cancel(&id).await,
        })
    }

    /// Leaves a note on a hunk for the next revision.
    pub async fn comment(
        &self,
        id: String,
        req: CommentRequest,
    ) -> Result<NoteResponse, EngineError> {
        let note = self
            .run(move |e| e.comment(&id, &req.hunk_id, &req.comment))
            .await?;
        Ok(NoteResponse { note })
    }

    pub async fn revision_preview(&self, id: String) -> Result<RevisionPreview, EngineError> {
        self.run(move |e| e.revision_preview(&id)).await
    }

    /// Queues the revision built from the session's review notes and makes sure it will run.
    pub async fn submit_revision(
        &self,
        id: String,
        req: ReviseRequest,
    ) -> Result<Submitted, EngineError> {
        let s = id.clone();
        let (prompt, created) = self
            .run(move |e| e.submit_revision(&s, &req.client_id, req.text.as_deref()))
            .await?;
        self.runner.kick(&id);
        Ok(Submitted { prompt, created })
    }

    pub async fn history(&self, id: String) -> Result<HistoryResponse, EngineError> {
        self.run(move |e| e.history(&id)).await
    }

    /// A single-use pairing code (five minutes) with its links and QR code.
    pub async fn create_pairing_code(&self) -> Result<PairingCode, EngineError> {
        Ok(self.pairing_code())
    }

    pub async fn list_devices(&self) -> Result<DevicesResponse, EngineError> {
        Ok(DevicesResponse {
            devices: self.devices().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_listed_once() {
        let mut names = OPERATIONS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len(), "{OPERATIONS:?}");
        assert!(OPERATIONS.contains(&"submit_prompt"));
    }
}
