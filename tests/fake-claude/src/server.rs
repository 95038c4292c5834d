//! The running stand-in: binding, the accept loop, and the handle tests hold.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::log::RecordedRequest;
use crate::reply::Reply;
use crate::routes::router;
use crate::state::{Responder, State};

/// A running fake Messages API on `127.0.0.1`. Dropping it (or [`FakeClaude::shutdown`]) closes
/// the listener and every open connection, including hung and half-streamed ones.
pub struct FakeClaude {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

/// Options for [`FakeClaude::builder`].
#[derive(Default)]
pub struct Builder {
    port: u16,
    api_key: Option<String>,
    responder: Option<Responder>,
}

impl Builder {
    /// Only the binary should need this: tests run in parallel and must keep port 0 (any free).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Requests whose key (`x-api-key`, or an `Authorization: Bearer` token) differs get 401
    /// `authentication_error`. Without it any key is accepted; a missing key is always a 401,
    /// as with the real API.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Answers requests that find the reply queue empty.
    pub fn responder(
        mut self,
        responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> Self {
        self.responder = Some(Arc::new(responder));
        self
    }

    pub async fn start(self) -> io::Result<FakeClaude> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        state.set_api_key(self.api_key);
        state.set_responder(self.responder);
        let server = tokio::spawn(serve(listener, router(state.clone())));
        Ok(FakeClaude {
            addr,
            state,
            server,
        })
    }
}

/// Our own loop instead of `axum::serve`: its graceful shutdown waits for in-flight requests,
/// which a `hang` reply never finishes. Here the connections live in a `JoinSet` owned by the
/// loop, so aborting the loop drops them all.
async fn serve(listener: TcpListener, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        // Small SSE frames must leave at once, not wait for Nagle.
        let _ = stream.set_nodelay(true);
        while connections.try_join_next().is_some() {}
        let service = TowerToHyperService::new(router.clone());
        connections.spawn(async move {
            // A client hanging up mid-answer is normal here (timeouts, cancel tests).
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl FakeClaude {
    /// Starts on a free loopback port with default options.
    ///
    /// # Panics
    /// If no loopback port can be bound; use [`FakeClaude::builder`] to handle that.
    pub async fn start() -> FakeClaude {
        Self::builder()
            .start()
            .await
            .expect("fake-claude: cannot bind a port on 127.0.0.1")
    }

    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Bare origin, `http://127.0.0.1:PORT`: what `ANTHROPIC_API_BASE` expects (clients append
    /// `/v1/messages` themselves).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base_url()` + `/v1/messages`, for clients that take the full endpoint.
    pub fn messages_url(&self) -> String {
        format!("{}/v1/messages", self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply; each `POST /v1/messages` takes the oldest.
    pub fn push(&self, reply: impl Into<Reply>) {
        self.state.push([reply.into()]);
    }

    pub fn push_all(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.push(replies);
    }

    /// Replies still queued; a test that expects every one to be used can assert this is 0.
    pub fn pending_replies(&self) -> usize {
        self.state.pending()
    }

    /// Every logged request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    pub fn request_count(&self) -> usize {
        self.state.request_count()
    }

    /// Waits until at least `count` requests are logged; `None` if `timeout` passes first.
    /// Useful when the client runs in another process and the test cannot await its call.
    pub async fn wait_for_requests(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Option<Vec<RecordedRequest>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.state.request_count() >= count {
                return Some(self.state.requests());
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Drops queued replies and the request log (the responder and the key stay).
    pub fn reset(&self) {
        self.state.reset();
    }

    pub fn set_responder(
        &self,
        responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) {
        self.state.set_responder(Some(Arc::new(responder)));
    }

    /// Back to failing loudly (500) when the queue is empty.
    pub fn clear_responder(&self) {
        self.state.set_responder(None);
    }

    /// `None`: accept any key (a missing one is still a 401).
    pub fn set_api_key(&self, key: Option<String>) {
        self.state.set_api_key(key);
    }

    /// Stops the server and waits until the port is released.
    pub async fn shutdown(mut self) {
        self.server.abort();
        // Only a cancellation error can come back; what matters is that the task has ended.
        let _ = (&mut self.server).await;
    }
}

impl Drop for FakeClaude {
    fn drop(&mut self) {
        self.server.abort();
    }
}
