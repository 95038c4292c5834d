use arcbench_git::GitError;
use arcbench_store::StoreError;
use shared_protocol::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("a prompt is running in session {0}; review it when the prompt has finished")]
    Busy(String),
    #[error("{0}")]
    BudgetExceeded(String),
    #[error("events up to seq {0} were compacted; fetch the snapshots again and resume from their last_seq")]
    Resync(u64),
    #[error(transparent)]
    Pairing(#[from] crate::CodeRefusal),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl EngineError {
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::NotFound(_) => ErrorCode::NotFound,
            EngineError::BadRequest(_) => ErrorCode::BadRequest,
            EngineError::Conflict(_) => ErrorCode::Conflict,
            EngineError::Busy(_) => ErrorCode::SessionBusy,
            EngineError::BudgetExceeded(_) => ErrorCode::BudgetExceeded,
            EngineError::Resync(_) => ErrorCode::Resync,
            EngineError::Pairing(r) => match r {
                crate::CodeRefusal::Invalid => ErrorCode::PairingCodeInvalid,
                crate::CodeRefusal::Expired => ErrorCode::PairingCodeExpired,
                crate::CodeRefusal::Used => ErrorCode::PairingCodeUsed,
            },
            EngineError::Git(g) => match g {
                GitError::NotARepo(_)
                | GitError::Bare(_)
                | GitError::NoCommits(_)
                | GitError::DetachedHead
                | GitError::UnknownRef(_) => ErrorCode::BadRequest,
                GitError::HunkStale(_) => ErrorCode::HunkStale,
                GitError::WorktreeMissing(_)
                | GitError::NothingApproved
                | GitError::NothingToUndo
                | GitError::NoBaseBranch
                | GitError::NothingToMerge(_)
                | GitError::CheckoutDirty { .. }
                | GitError::MergeConflict { .. }
                | GitError::RefMoved(_)
                | GitError::ThroughSymlink { .. } => ErrorCode::Conflict,
                GitError::Git(_) | GitError::Io(_) => ErrorCode::Internal,
            },
            EngineError::Store(_) | EngineError::Io(_) => ErrorCode::Internal,
        }
    }

    pub fn to_api(&self) -> ApiError {
        ApiError {
            code: self.code(),
            message: self.to_string(),
        }
    }
}
