#![allow(dead_code)]
//! A host for tests: a real engine on a fixture repository and no agent (these tests are about
//! HTTP and WebSocket, not Aider).

use std::sync::Arc;

use arcbench_engine::Engine;
use arcbench_fixtures::TestRepo;
use arcbench_host::{Host, HostConfig};
use arcbench_server::AppState;

pub struct TestState {
    pub state: AppState,
    pub engine: Arc<Engine>,
    pub data: tempfile::TempDir,
}

/// `event_buffer` 0 keeps the engine's default. The API key is `key`.
pub async fn test_state(repo: &TestRepo, key: &str, event_buffer: usize) -> TestState {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("api-key"), key).unwrap();
    let mut config = HostConfig::new(data.path().into(), vec![repo.path.clone()]);
    config.python = Some("/nonexistent/python".into());
    config.event_buffer = event_buffer;
    // No web UI, whether or not src-ui was built in this checkout.
    config.ui_dir = Some(data.path().join("no-ui"));
    let host = Arc::new(Host::start(config).await.unwrap());
    TestState {
        engine: host.engine().clone(),
        state: AppState::new(host),
        data,
    }
}
