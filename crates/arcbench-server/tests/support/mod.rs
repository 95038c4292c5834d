#![allow(dead_code)]
//! A host state for tests: a real engine on a fixture repository and a runner without an agent
//! (these tests are about HTTP and WebSocket, not Aider).

use std::sync::Arc;
use std::time::Duration;

use arcbench_engine::runner::{Runner, RunnerConfig};
use arcbench_engine::{Engine, EngineConfig};
use arcbench_fixtures::TestRepo;
use arcbench_server::AppState;
use shared_protocol::AgentStatus;

pub struct TestState {
    pub state: AppState,
    pub engine: Arc<Engine>,
    pub data: tempfile::TempDir,
}

/// `event_buffer` 0 keeps the engine's default.
pub async fn test_state(repo: &TestRepo, key: &str, event_buffer: usize) -> TestState {
    let data = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        Engine::open(EngineConfig {
            data_dir: data.path().into(),
            repos: vec![repo.path.clone()],
            event_buffer,
            ..Default::default()
        })
        .unwrap(),
    );
    let runner = Runner::start(
        engine.clone(),
        RunnerConfig {
            agent: Err("no agent in this test".into()),
            idle_timeout: Duration::from_secs(60),
            max_agents: 3,
        },
    )
    .await
    .unwrap();
    let agent = AgentStatus {
        kind: "aider".into(),
        available: false,
        version: None,
    };
    let state = AppState::new(engine.clone(), runner, key, agent);
    TestState {
        state,
        engine,
        data,
    }
}
