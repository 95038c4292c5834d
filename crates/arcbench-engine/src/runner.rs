//! Runs queued prompts: one worker per session that has work, one warm agent per session.
//!
//! Prompts of a session run one at a time in the order they were queued; sessions run side by
//! side. Each agent event is recorded (and announced) before the next is read, so the event log
//! is the prompt's faithful transcript.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::live::{Estimate, ESTIMATE_EVERY};
use arcbench_agent::aider::{AiderConfig, AiderExecutor, Template};
use arcbench_agent::{AgentEvent, AnyExecutor, Executor, Outcome, PromptRequest};
use shared_protocol::{Prompt, PromptState};
use tokio::sync::mpsc;

use crate::{Engine, EngineError};

/// Whether the agent can be started.
#[derive(Debug, Clone)]
pub enum AgentSetup {
    Ready(AiderConfig),
    /// Being installed (what is happening): prompts wait in their queue.
    Installing(String),
    /// It cannot run, and why (shown in `/status` and on each prompt that fails for it).
    Unavailable(String),
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub agent: AgentSetup,
    /// An agent with nothing to do for this long is stopped (it restarts on the next prompt).
    pub idle_timeout: Duration,
    /// Agent processes alive at once. A session that needs one beyond it takes the slot of the
    /// least recently used idle agent, or waits, saying why.
    pub max_agents: usize,
    /// Start each session's agent by forking a template that imported Aider once (tens of
    /// milliseconds and ~100 MB of its own, instead of 2-3.5 s and ~300 MB); a template that
    /// cannot fork falls back to a process of its own.
    pub instant_sessions: bool,
}

type Shared = Arc<tokio::sync::Mutex<AnyExecutor>>;

/// What the runner knows of one session (absent: no worker, no agent).
#[derive(Default)]
struct SessionSlot {
    /// A worker is on the session's queue.
    worker: bool,
    /// It holds one of the `max_agents` slots (its agent is alive or starting).
    agent_slot: bool,
    /// Its warm agent.
    executor: Option<Shared>,
    /// When its agent last finished a prompt (for the idle timeout and the slot eviction).
    last_used: Option<Instant>,
}

impl SessionSlot {
    fn is_empty(&self) -> bool {
        !self.worker && !self.agent_slot && self.executor.is_none()
    }
}

pub struct Runner {
    engine: Arc<Engine>,
    config: RunnerConfig,
    /// Changes while the host provisions the agent (installing -> ready or unavailable).
    agent: std::sync::RwLock<AgentSetup>,
    /// Every session the runner is busy with, in one map: a decision about a session (start a
    /// worker, take a slot, stop an idle agent) reads and writes one entry under one lock.
    sessions: Mutex<HashMap<String, SessionSlot>>,
    /// Prompts asked to stop before their agent was ready.
    cancel_requested: Mutex<HashSet<String>>,
    /// Wakes sessions waiting for a slot: one was freed, or an agent went idle (its slot can
    /// be taken).
    slots_changed: tokio::sync::Notify,
    stopping: AtomicBool,
    late: mpsc::UnboundedSender<(String, AgentEvent)>,
    /// The agent template for the current set-up, when sessions start instantly.
    template: Mutex<Option<Arc<Template>>>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("engine call panicked")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Runner {
    /// Marks prompts a previous run left `running` as interrupted, then starts working through
    /// every queue.
    pub async fn start(
        engine: Arc<Engine>,
        config: RunnerConfig,
    ) -> Result<Arc<Runner>, EngineError> {
        let e = engine.clone();
        let interrupted = blocking(move || e.recover_interrupted()).await?;
        if !interrupted.is_empty() {
            tracing::warn!(prompts = ?interrupted, "prompts interrupted by the last stop");
        }
        let (late, mut late_rx) = mpsc::unbounded_channel::<(String, AgentEvent)>();
        let runner = Arc::new(Runner {
            engine: engine.clone(),
            agent: std::sync::RwLock::new(config.agent.clone()),
            config,
            sessions: Mutex::default(),
            cancel_requested: Mutex::default(),
            slots_changed: tokio::sync::Notify::new(),
            stopping: AtomicBool::new(false),
            late,
            template: Mutex::default(),
        });
        runner.renew_template();
        let e = engine.clone();
        tokio::spawn(async move {
            while let Some((prompt_id, event)) = late_rx.recv().await {
                if let AgentEvent::Usage(raw) = event {
                    let e = e.clone();
                    if let Err(err) = blocking(move || e.record_late_usage(&prompt_id, &raw)).await
                    {
                        tracing::error!(%err, "recording late usage");
                    }
                }
            }
        });
        let weak = Arc::downgrade(&runner);
        // Check often enough that an agent never outlives its idle timeout by more than half.
        let every = (runner.config.idle_timeout / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(15));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(r) = weak.upgrade() else { break };
                r.reap_idle().await;
            }
        });
        runner.kick_all();
        Ok(runner)
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// A new state of the agent's set-up; once it can start (or is known not to), queued
    /// prompts go ahead (and run, or fail saying why).
    pub fn set_agent(self: &Arc<Self>, setup: AgentSetup) {
        let go = !matches!(setup, AgentSetup::Installing(_));
        *self.agent.write().unwrap_or_else(|p| p.into_inner()) = setup;
        self.renew_template();
        if go {
            self.kick_all();
        }
    }

    /// A template for the agent as it is set up now (none while it cannot start), started at
    /// once in the background so that even the first session is instant.
    fn renew_template(&self) {
        let template = match &*self.agent.read().unwrap_or_else(|p| p.into_inner()) {
            AgentSetup::Ready(cfg) if self.config.instant_sessions => {
                match Template::new(cfg.clone()) {
                    Ok(t) => Some(Arc::new(t)),
                    Err(err) => {
                        tracing::warn!(%err, "no agent template; sessions start the slow way");
                        None
                    }
                }
            }
            _ => None,
        };
        if let Some(t) = template.clone() {
            tokio::spawn(async move {
                if let Err(err) = t.warm().await {
                    tracing::warn!(%err, "the agent template did not start; it is retried at the next session");
                }
            });
        }
        *lock(&self.template) = template;
    }

    /// The agent template's process id, when one runs (for tests and diagnostics).
    pub async fn template_pid(&self) -> Option<u32> {
        let t = lock(&self.template).clone()?;
        t.pid().await
    }

    /// Why prompts must wait before an agent can start, if they must.
    fn waiting_for_agent(&self) -> Option<String> {
        match &*self.agent.read().unwrap_or_else(|p| p.into_inner()) {
            AgentSetup::Installing(what) => Some(format!(
                "waiting for the agent: {what}; this prompt runs once it is ready"
            )),
            _ => None,
        }
    }

    /// Makes sure a worker is on the session's queue.
    pub fn kick(self: &Arc<Self>, session: &str) {
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        let started = self.with(session, |s| !std::mem::replace(&mut s.worker, true));
        if started {
            let me = self.clone();
            let s = session.to_owned();
            tokio::spawn(async move { me.work(s).await });
        }
    }

    /// Kicks every session with queued prompts (at start, and when a budget is raised).
    pub fn kick_all(self: &Arc<Self>) {
        let sessions = match self.engine.store().tx(|tx| tx.sessions_with_queued()) {
            Ok(s) => s,
            Err(e) => return tracing::error!(%e, "listing queued prompts"),
        };
        for s in sessions {
            self.kick(&s);
        }
    }

    /// Cancels the session's running prompt; false when none runs.
    pub async fn cancel(&self, session: &str) -> bool {
        let Some(prompt) = self.engine.running_prompt(session) else {
            return false;
        };
        lock(&self.cancel_requested).insert(prompt.clone());
        let exec = self.executor_of(session);
        if let Some(exec) = exec {
            exec.lock().await.cancel(&prompt);
        }
        true
    }

    /// Cancels one prompt: the running one through its agent, a queued one before it starts.
    /// False when it had already finished running.
    pub async fn cancel_prompt(&self, session: &str, prompt_id: &str) -> Result<bool, EngineError> {
        if self.engine.running_prompt(session).as_deref() == Some(prompt_id) {
            return Ok(self.cancel(session).await);
        }
        let (e, s, p) = (
            self.engine.clone(),
            session.to_owned(),
            prompt_id.to_owned(),
        );
        blocking(move || e.cancel_queued(&s, &p)).await?;
        Ok(true)
    }

    /// Stops taking work, interrupts running prompts (recorded `interrupted`), stops the agents.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let running: Vec<String> = self.sessions_where(|s| s.worker);
        for s in &running {
            self.cancel(s).await;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.sessions_where(|s| s.worker).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let all: Vec<Shared> = lock(&self.sessions)
            .drain()
            .filter_map(|(_, s)| s.executor)
            .collect();
        for exec in all {
            if let Ok(m) = Arc::try_unwrap(exec) {
                m.into_inner().shutdown().await;
            }
        }
        lock(&self.template).take();
        self.slots_changed.notify_waiters();
    }

    async fn work(self: Arc<Self>, session: String) {
        loop {
            let e = self.engine.clone();
            let s = session.clone();
            let next = blocking(move || e.next_queued(&s)).await;
            let prompt = match next {
                Ok(Some(p)) if !self.stopping.load(Ordering::SeqCst) => p,
                Ok(_) => {
                    if self.release(&session) {
                        return;
                    }
                    continue;
                }
                Err(err) => {
                    tracing::error!(%err, session, "reading the queue");
                    self.leave(&session);
                    return;
                }
            };
            let e = self.engine.clone();
            let s = session.clone();
            if let Ok(Some(reason)) = blocking(move || e.budget_block(&s)).await {
                let (e, s, p) = (self.engine.clone(), session.clone(), prompt.clone());
                let _ = blocking(move || e.hold_prompt(&s, &p, &reason)).await;
                // Held until the budget changes; set_budget kicks every queue again.
                self.leave(&session);
                return;
            }
            if let Some(reason) = self.waiting_for_agent() {
                let (e, s, p) = (self.engine.clone(), session.clone(), prompt.clone());
                let _ = blocking(move || e.hold_prompt(&s, &p, &reason)).await;
                // Held until the agent is ready; set_agent kicks every queue again.
                self.leave(&session);
                return;
            }
            match self.take_slot(&session, &prompt).await {
                Slot::Ready => self.run_one(&session, prompt).await,
                // The queue may have changed while it waited (cancelled, budget): look again.
                Slot::Waited => continue,
                Slot::Stopping => {
                    self.leave(&session);
                    return;
                }
            }
        }
    }

    /// A slot for the session's agent: the one it holds, a free one, or the slot of the least
    /// recently used idle agent (stopped for it). When every slot runs a prompt, the prompt
    /// stays queued with the reason until one frees.
    async fn take_slot(&self, session: &str, prompt: &Prompt) -> Slot {
        let mut waited = false;
        loop {
            // Registered before looking, so a slot freed in between still wakes this worker.
            let freed = self.slots_changed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.stopping.load(Ordering::SeqCst) {
                return Slot::Stopping;
            }
            {
                let mut sessions = lock(&self.sessions);
                let taken = sessions.values().filter(|s| s.agent_slot).count();
                let me = sessions.entry(session.to_owned()).or_default();
                if me.agent_slot || taken < self.config.max_agents {
                    me.agent_slot = true;
                    return if waited { Slot::Waited } else { Slot::Ready };
                }
            }
            if self.stop_least_recently_used_idle(session).await {
                continue;
            }
            let reason = format!(
                "waiting for an agent: {n} sessions are running theirs (max_agents = {n}); \
                 it starts when one finishes",
                n = self.config.max_agents
            );
            let (e, s, p) = (self.engine.clone(), session.to_owned(), prompt.clone());
            let _ = blocking(move || e.hold_prompt(&s, &p, &reason)).await;
            freed.await;
            waited = true;
        }
    }

    /// Stops the idle agent used longest ago (not `except`'s); false when every agent is busy.
    async fn stop_least_recently_used_idle(&self, except: &str) -> bool {
        let candidate = lock(&self.sessions)
            .iter()
            .filter(|(id, s)| s.agent_slot && !s.worker && id.as_str() != except)
            .filter(|(id, _)| self.engine.running_prompt(id).is_none())
            .min_by_key(|(_, s)| s.last_used)
            .map(|(id, _)| id.clone());
        let Some(victim) = candidate else {
            return false;
        };
        tracing::info!(session = %victim, "stopping an idle agent to free a slot");
        self.stop_agent(&victim).await;
        true
    }

    /// Stops a session's agent (idle timeout, or its slot is needed) and frees its slot; its
    /// next prompt starts a new one.
    async fn stop_agent(&self, session: &str) {
        let exec = self.with(session, |s| {
            s.last_used = None;
            s.executor.take()
        });
        if let Some(exec) = exec {
            if let Ok(m) = Arc::try_unwrap(exec) {
                m.into_inner().shutdown().await;
            }
        }
        self.free_slot(session);
    }

    fn free_slot(&self, session: &str) {
        if self.with(session, |s| std::mem::take(&mut s.agent_slot)) {
            self.slots_changed.notify_waiters();
        }
    }

    /// Runs `f` on the session's entry (made if missing; dropped again once empty).
    fn with<T>(&self, session: &str, f: impl FnOnce(&mut SessionSlot) -> T) -> T {
        let mut sessions = lock(&self.sessions);
        let slot = sessions.entry(session.to_owned()).or_default();
        let out = f(slot);
        if slot.is_empty() {
            sessions.remove(session);
        }
        out
    }

    fn sessions_where(&self, pred: impl Fn(&SessionSlot) -> bool) -> Vec<String> {
        lock(&self.sessions)
            .iter()
            .filter(|(_, s)| pred(s))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn executor_of(&self, session: &str) -> Option<Shared> {
        lock(&self.sessions)
            .get(session)
            .and_then(|s| s.executor.clone())
    }

    /// The worker leaves the session's queue.
    fn leave(&self, session: &str) {
        self.with(session, |s| s.worker = false);
    }

    /// Leaves the queue unless a prompt arrived meanwhile (decided under the workers lock, so a
    /// concurrent `kick` either sees this worker or starts a new one).
    fn release(&self, session: &str) -> bool {
        let mut sessions = lock(&self.sessions);
        let more = matches!(self.engine.next_queued(session), Ok(Some(_)))
            && !self.stopping.load(Ordering::SeqCst);
        if !more {
            if let Some(s) = sessions.get_mut(session) {
                s.worker = false;
                // A slot taken for a prompt that was then cancelled has no agent behind it.
                if s.executor.is_none() {
                    s.agent_slot = false;
                }
                if s.is_empty() {
                    sessions.remove(session);
                }
            }
            // Its agent (if any) is idle now, or its slot free: a waiting session may take it.
            self.slots_changed.notify_waiters();
        }
        !more
    }

    async fn run_one(&self, session: &str, prompt: Prompt) {
        let (e, s, p) = (self.engine.clone(), session.to_owned(), prompt.id.clone());
        if let Err(err) = blocking(move || e.begin_prompt(&s, &p)).await {
            tracing::error!(%err, session, prompt = %prompt.id, "starting prompt");
            return;
        }
        let mut watch = Boundary::default();
        let outcome = self.drive(session, &prompt, &mut watch).await;
        lock(&self.cancel_requested).remove(&prompt.id);
        let (state, reason) = match outcome {
            Ok(Outcome::Done) => (PromptState::Done, None),
            Ok(Outcome::Cancelled) if self.stopping.load(Ordering::SeqCst) => (
                PromptState::Interrupted,
                Some("the host stopped while this prompt ran".to_owned()),
            ),
            Ok(Outcome::Cancelled) => (PromptState::Cancelled, None),
            Ok(Outcome::Failed { reason, .. }) => (PromptState::Failed, Some(reason)),
            Err(reason) => (PromptState::Failed, Some(reason)),
        };
        let (state, reason) = watch.judge(state, reason);
        let (e, s, p) = (self.engine.clone(), session.to_owned(), prompt.id.clone());
        if let Err(err) = blocking(move || e.finish_prompt(&s, &p, state, reason.as_deref())).await
        {
            tracing::error!(%err, session, prompt = %prompt.id, "finishing prompt");
        }
    }

    async fn drive(
        &self,
        session: &str,
        prompt: &Prompt,
        watch: &mut Boundary,
    ) -> Result<Outcome, String> {
        let exec = match self.executor(session, &prompt.id).await {
            Ok(x) => x,
            Err(e) => {
                self.free_slot(session);
                return Err(e);
            }
        };
        if lock(&self.cancel_requested).contains(&prompt.id) {
            return Ok(Outcome::Cancelled);
        }
        let mut rx = {
            let mut guard = exec.lock().await;
            guard
                .prompt(PromptRequest {
                    id: prompt.id.clone(),
                    text: prompt.text.clone(),
                    files: prompt.files.clone(),
                })
                .await
                .map_err(|e| e.to_string())?
        };
        if lock(&self.cancel_requested).contains(&prompt.id) {
            exec.lock().await.cancel(&prompt.id);
        }
        let model = match &*self.agent.read().unwrap_or_else(|p| p.into_inner()) {
            AgentSetup::Ready(cfg) => cfg.model.clone(),
            _ => String::new(),
        };
        let mut estimate = Estimate::default();
        loop {
            // Waits at most ESTIMATE_EVERY, so a pending usage estimate goes out even when the
            // stream pauses right after a chunk.
            let event = match tokio::time::timeout(ESTIMATE_EVERY, rx.recv()).await {
                Ok(Some(event)) => Some(event),
                Ok(None) => break,
                Err(_) => None,
            };
            match &event {
                Some(AgentEvent::Text(chunk)) => estimate.text(chunk),
                Some(AgentEvent::Usage(_)) => estimate.exact(),
                _ => {}
            }
            let Some(event) = event else {
                self.announce_estimate(session, &prompt.id, &model, &mut estimate)
                    .await;
                continue;
            };
            if let AgentEvent::Finished(outcome) = event {
                self.with(session, |s| s.last_used = Some(Instant::now()));
                if !exec.lock().await.is_alive() {
                    self.forget(session);
                }
                return Ok(outcome);
            }
            watch.see(&event);
            let (e, s, p) = (self.engine.clone(), session.to_owned(), prompt.id.clone());
            if let Err(err) = blocking(move || e.agent_event(&s, &p, event)).await {
                tracing::error!(%err, session, "recording an agent event");
            }
            self.announce_estimate(session, &prompt.id, &model, &mut estimate)
                .await;
        }
        self.forget(session);
        Err("the agent stopped without finishing the prompt".into())
    }

    /// Records the running prompt's usage estimate, if one is due.
    async fn announce_estimate(
        &self,
        session: &str,
        prompt_id: &str,
        model: &str,
        estimate: &mut Estimate,
    ) {
        let Some(tokens) = estimate.due(Instant::now()) else {
            return;
        };
        let (e, s, p, m) = (
            self.engine.clone(),
            session.to_owned(),
            prompt_id.to_owned(),
            model.to_owned(),
        );
        if let Err(err) = blocking(move || e.record_estimate(&s, &p, &m, tokens)).await {
            tracing::error!(%err, session, "recording a usage estimate");
        }
    }

    /// The session's warm agent, started if needed.
    async fn executor(&self, session: &str, prompt_id: &str) -> Result<Shared, String> {
        if let Some(x) = self.executor_of(session) {
            if x.lock().await.is_alive() {
                return Ok(x);
            }
            self.forget(session);
        }
        let cfg = match &*self.agent.read().unwrap_or_else(|p| p.into_inner()) {
            AgentSetup::Ready(cfg) => cfg.clone(),
            AgentSetup::Unavailable(e) => return Err(format!("the agent is not available: {e}")),
            AgentSetup::Installing(_) => return Err("the agent is still being installed".into()),
        };
        let e = self.engine.clone();
        let s = session.to_owned();
        let worktree: PathBuf = blocking(move || e.worktree_path(&s))
            .await
            .map_err(|e| e.to_string())?;
        let template = lock(&self.template)
            .clone()
            .filter(|t| t.config().model == cfg.model && t.config().python == cfg.python);
        let exec =
            AiderExecutor::start_via(&cfg, &worktree, self.late.clone(), template.as_deref())
                .await
                .map_err(|e| e.to_string())?;
        let usage_capture = exec.usage_capture;
        let mut exec = AnyExecutor::Aider(exec);
        let mut notes = Vec::new();
        if !usage_capture {
            notes.push(
                "this Aider reports no token usage (a litellm other than the pinned one): costs \
                 and budgets do not count its requests; run `arcbench setup-aider` to repair"
                    .to_owned(),
            );
        }
        // A new process continues the session's chat where the last one left it (idle stop,
        // crash, host restart): the agent never forgets what was said.
        let (e, s) = (self.engine.clone(), session.to_owned());
        match blocking(move || e.transcript(&s)).await {
            Ok(Some(t)) => {
                if let Err(err) = exec.restore(&t).await {
                    notes.push(format!(
                        "Aider was restarted and could not restore this session's chat ({err}); \
                         it does not remember the earlier conversation"
                    ));
                }
            }
            Ok(None) => {}
            Err(err) => notes.push(format!("reading this session's chat failed: {err}")),
        }
        for line in notes {
            let (e, s, p) = (
                self.engine.clone(),
                session.to_owned(),
                prompt_id.to_owned(),
            );
            let note = AgentEvent::Log {
                level: arcbench_agent::LogLevel::Warning,
                line,
            };
            let _ = blocking(move || e.agent_event(&s, &p, note)).await;
        }
        let shared: Shared = Arc::new(tokio::sync::Mutex::new(exec));
        self.with(session, |s| s.executor = Some(shared.clone()));
        Ok(shared)
    }

    /// Drops the session's agent (it died); the next prompt starts one that restores the chat.
    fn forget(&self, session: &str) {
        self.with(session, |s| {
            s.executor = None;
            s.agent_slot = false;
        });
        self.slots_changed.notify_waiters();
    }

    async fn reap_idle(&self) {
        let idle = self.sessions_where(|s| {
            !s.worker
                && s.last_used
                    .is_some_and(|t| t.elapsed() >= self.config.idle_timeout)
        });
        for s in idle {
            if self.engine.running_prompt(&s).is_some() {
                continue;
            }
            tracing::info!(session = %s, "stopping idle agent");
            self.stop_agent(&s).await;
        }
    }

    /// Sessions holding an agent slot right now (at most `max_agents`).
    pub fn agents_alive(&self) -> usize {
        self.sessions_where(|s| s.agent_slot).len()
    }

    /// Whether the session has a live agent process (for tests and `/status`).
    pub fn has_agent(&self, session: &str) -> bool {
        self.executor_of(session).is_some()
    }
}

enum Slot {
    Ready,
    Waited,
    Stopping,
}

/// What one prompt's agent did at the worktree's edge: attempts the bridge refused (the prompt
/// says what), and writes that got outside anyway (an alarm: the prompt fails).
#[derive(Default)]
struct Boundary {
    refused: Vec<String>,
    escaped: Vec<String>,
}

impl Boundary {
    fn see(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::Refused { action, path, .. } => {
                let what = format!("{action} `{path}`");
                if !self.refused.contains(&what) {
                    self.refused.push(what);
                }
            }
            AgentEvent::FilesWritten(paths) => {
                self.escaped.extend(crate::outside_worktree(paths));
            }
            _ => {}
        }
    }

    /// The prompt's final state and reason, with what happened at the boundary added.
    fn judge(self, state: PromptState, reason: Option<String>) -> (PromptState, Option<String>) {
        let mut notes: Vec<String> = reason.into_iter().collect();
        let state = if self.escaped.is_empty() {
            state
        } else {
            notes.insert(
                0,
                format!(
                    "the agent wrote outside its worktree ({}): check those files",
                    self.escaped.join(", ")
                ),
            );
            PromptState::Failed
        };
        if !self.refused.is_empty() {
            notes.push(format!(
                "refused outside the worktree: {}",
                self.refused.join("; ")
            ));
        }
        (state, (!notes.is_empty()).then(|| notes.join(". ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(path: &str) -> AgentEvent {
        AgentEvent::Refused {
            action: "write".into(),
            path: path.into(),
            reason: "outside the worktree".into(),
        }
    }

    #[test]
    fn refusals_are_named_on_a_done_prompt() {
        let mut b = Boundary::default();
        b.see(&refused("../x"));
        b.see(&refused("../x"));
        b.see(&AgentEvent::FilesWritten(vec!["src/ok.rs".into()]));
        let (state, reason) = b.judge(PromptState::Done, None);
        assert_eq!(state, PromptState::Done);
        assert_eq!(
            reason.as_deref(),
            Some("refused outside the worktree: write `../x`")
        );
    }

    #[test]
    fn a_write_outside_the_worktree_fails_the_prompt() {
        for outside in ["/etc/passwd", "../../escape.txt", "a/../../b"] {
            let mut b = Boundary::default();
            b.see(&AgentEvent::FilesWritten(vec![
                "src/ok.rs".into(),
                outside.into(),
            ]));
            let (state, reason) = b.judge(PromptState::Done, None);
            assert_eq!(state, PromptState::Failed, "{outside}");
            assert!(reason.unwrap().contains(outside));
        }
        let (state, reason) = Boundary::default().judge(PromptState::Done, None);
        assert_eq!((state, reason), (PromptState::Done, None));
    }
}
