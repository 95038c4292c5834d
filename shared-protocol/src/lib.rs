//! ArcBench wire types. Field names follow `shared/docs/api-contract.md`; they are fixed for clients.

mod api;
mod diff;
mod error;
mod event;
mod mesh;
mod prompt;
mod proposal;
mod push;
mod review;
mod session;
mod voice;

pub use api::*;
pub use diff::*;
pub use error::*;
pub use event::*;
pub use mesh::*;
pub use prompt::*;
pub use proposal::*;
pub use push::*;
pub use review::*;
pub use session::*;
pub use voice::*;
