//! ArcBench wire types. Field names follow `shared/docs/api-contract.md`; they are fixed for clients.

mod diff;
mod error;
mod event;
mod session;

pub use diff::*;
pub use error::*;
pub use event::*;
pub use session::*;
