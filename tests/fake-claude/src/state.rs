//! State shared by the handle a test holds and the request handlers: the reply queue, the
//! request log, the fallback responder and the expected API key.
//!
//! Plain `std` mutexes: every critical section is a push or a pop, never held across an await.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::log::{Arrival, RecordedRequest};
use crate::reply::Reply;

/// Decides the reply when the queue is empty (the demo mode plugs a script in here).
pub type Responder = Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

#[derive(Default)]
pub(crate) struct State {
    queue: Mutex<VecDeque<Reply>>,
    log: Mutex<Vec<RecordedRequest>>,
    responder: RwLock<Option<Responder>>,
    api_key: RwLock<Option<String>>,
    next_seq: AtomicU64,
}

/// A panicking test thread must not turn every later request into a poison panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) -> usize {
        let mut queue = lock(&self.queue);
        queue.extend(replies);
        queue.len()
    }

    pub fn pending(&self) -> usize {
        lock(&self.queue).len()
    }

    /// The next queued reply, else the responder's, else `None`.
    pub fn next_reply(&self, request: &RecordedRequest) -> Option<Reply> {
        if let Some(reply) = lock(&self.queue).pop_front() {
            return Some(reply);
        }
        let responder = self
            .responder
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        responder.map(|respond| respond(request))
    }

    pub fn record(&self, arrival: Arrival, body: serde_json::Value) -> RecordedRequest {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let request = RecordedRequest::new(seq, arrival, body);
        lock(&self.log).push(request.clone());
        request
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.log).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.log).len()
    }

    /// Forget queued replies and logged requests; the responder and key stay.
    pub fn reset(&self) {
        lock(&self.queue).clear();
        lock(&self.log).clear();
    }

    pub fn set_responder(&self, responder: Option<Responder>) {
        *self
            .responder
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = responder;
    }

    pub fn set_api_key(&self, key: Option<String>) {
        *self
            .api_key
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = key;
    }

    pub fn api_key(&self) -> Option<String> {
        self.api_key
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
