//! Keeps the machine awake while prompts run: the host follows its own events (a prompt
//! started, a prompt finished) and tells the [`Keeper`] whether it is busy. Between two queued
//! prompts the runner needs a moment; a short grace keeps the lock through it instead of
//! releasing and taking it again.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use arcbench_awake::Keeper;
use arcbench_engine::Engine;
use shared_protocol::EventBody;
use tokio::sync::broadcast::error::RecvError;

/// How long after the last prompt finished the lock is kept (the next queued one starts).
const GRACE: Duration = Duration::from_secs(2);

pub(crate) fn follow(engine: &Arc<Engine>, keeper: Arc<Keeper>) -> tokio::task::JoinHandle<()> {
    let mut events = engine.subscribe();
    tokio::spawn(async move {
        let mut running: HashSet<String> = HashSet::new();
        loop {
            let next = if running.is_empty() {
                match tokio::time::timeout(GRACE, events.recv()).await {
                    Ok(e) => e,
                    Err(_) => {
                        keeper.set_busy(false);
                        events.recv().await
                    }
                }
            } else {
                events.recv().await
            };
            match next {
                Ok(e) => match e.body {
                    EventBody::PromptStarted { prompt_id } => {
                        running.insert(prompt_id);
                        keeper.set_busy(true);
                    }
                    EventBody::PromptFinished { prompt_id, .. } => {
                        running.remove(&prompt_id);
                    }
                    _ => {}
                },
                // Missed events: which prompts run is unknown, so stay as we are until the
                // next start or finish says more (a finished one is caught by the grace).
                Err(RecvError::Lagged(_)) => running.clear(),
                Err(RecvError::Closed) => return,
            }
        }
    })
}
