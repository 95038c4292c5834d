//! **fake-claude: a local test stand-in for the Anthropic Messages API. It is not the real API
//! and never talks to it.**
//!
//! It serves real HTTP and server-sent events on `127.0.0.1` with scripted answers, so the host,
//! the Aider bridge and the apps can be tested offline and deterministically. It is linked into
//! the product only for the clearly labelled demo mode; every other use is in tests.
//!
//! What it imitates is what Aider 0.86.2 / litellm rely on (see `shared/docs/aider-facts.md`):
//! `POST /v1/messages` streamed (`message_start` … `message_delta` with `usage` … `message_stop`)
//! and not streamed, Anthropic-shaped HTTP errors, in-stream `error` events, the four usage
//! fields, and any model name, echoed back.
//!
//! ```no_run
//! # async fn demo() {
//! use fake_claude::{FakeClaude, Reply, TextReply, Usage};
//!
//! let claude = FakeClaude::start().await;
//! claude.push(TextReply::new("Hello!").usage(Usage::exact(120, 3, 0, 100)));
//! claude.push(Reply::http_error(529));
//! // Point the client at it: ANTHROPIC_API_BASE = claude.base_url()
//! // ... run the client ...
//! let requests = claude.requests();
//! assert!(requests[0].contains_text("say hello"));
//! # }
//! ```
//!
//! Non-Rust tests run the `fake-claude` binary and script it over `/_control/*`; the JSON shapes
//! are those of [`Reply`] and [`RecordedRequest`].

mod api_error;
mod log;
mod reply;
mod respond;
mod routes;
mod server;
mod sse;
mod state;

pub use api_error::error_type_for_status;
pub use log::RecordedRequest;
pub use reply::{HttpErrorReply, Reply, StreamErrorReply, TextReply, Usage};
pub use server::{Builder, FakeClaude};
pub use state::Responder;
