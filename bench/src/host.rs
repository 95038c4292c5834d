//! Issue 4: the real `arcbench serve` binary (release build) on a fixture repository, with real
//! Aider answered by the local fake API, driven over HTTP and WebSocket like a phone drives it.
//! One host serves all three measurements, in this order: idle figures (on a fresh host, so the
//! later bursts do not inflate them), edit → `diff.updated` latency, then WebSocket fan-out.

// The anchor group (crate::anchor) drives the same server, readers and /proc figures.
pub(crate) mod diff_latency;
pub(crate) mod fanout;
pub(crate) mod proc_stats;
pub(crate) mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcbench_fixtures::TestRepo;
use fake_claude::{FakeClaude, RecordedRequest, Reply, TextReply};

use crate::table::{ms, print_grid, print_tail, ratio, summarize, Row};
use diff_latency::Observer;
use proc_stats::{mib, Figures};
use server::Host;

/// Prompt texts the fake recognises (in the prompt's last user message) to choose its answer.
pub(crate) const WARMUP_MARK: &str = "arcbench-bench warm-up";
const EDIT_MARK: &str = "arcbench-bench edit line";
pub(crate) const BURST_MARK: &str = "arcbench-bench burst";
const MAIN_MODEL: &str = "claude-sonnet-4-5";
/// Lines of the fixture's src/lib.rs ("fn line N") the edit prompts rewrite, one per prompt.
const FIRST_EDITED_LINE: usize = 21;

/// How the fake answers: by what the prompt asks for, never from a queue, so Aider's background
/// calls (history summaries with the weak model) cannot take a reply meant for a prompt.
pub(crate) fn answer(req: &RecordedRequest, burst_chunks: usize) -> Reply {
    if req.model.as_deref() != Some(MAIN_MODEL) {
        return Reply::text("A short summary of the chat.");
    }
    let last = req.last_user_text();
    if let Some(line) = last
        .find(EDIT_MARK)
        .and_then(|i| last[i + EDIT_MARK.len()..].split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        return TextReply::new(format!(
            "Done.\n\nsrc/lib.rs\n```\n<<<<<<< SEARCH\nfn line {line}\n=======\nfn edited_{line}()\n>>>>>>> REPLACE\n```\n"
        ))
        .into();
    }
    if last.contains(BURST_MARK) {
        // One `text_delta` per 4 characters, each becoming one `agent.text` event. Every chunk
        // differs: litellm aborts a stream that repeats one chunk 100 times ("the model is
        // repeating the same chunk") and Aider then retries with backoff.
        let text: String = (0..burst_chunks).map(|i| format!("{i:03x} ")).collect();
        return TextReply::new(text).chunk_chars(4).into();
    }
    if last.contains(WARMUP_MARK) {
        // Naming the file makes Aider add it to the chat (and ask again), so later edits apply.
        return Reply::text("I need src/lib.rs.");
    }
    Reply::text("Ok.")
}

pub fn run(quick: bool) {
    let idle_secs = if quick { 10 } else { 60 };
    let edits = if quick { 5 } else { 20 };
    let burst_chunks = if quick { 300 } else { 2000 };
    let rounds = if quick { 1 } else { 3 };
    let rt = crate::runtime();
    let claude = rt
        .block_on(
            FakeClaude::builder()
                .responder(move |req| answer(req, burst_chunks))
                .start(),
        )
        .expect("fake-claude starts");
    let repo = TestRepo::new();
    let host = Arc::new(Host::start(&repo.path, &claude.base_url()));
    let pid = host.pid();
    let at_start = proc_stats::read(pid);

    let (session, mut obs) = rt.block_on(async {
        let session = host.session().await;
        let mut obs = Observer::new(host.ws(0).await);
        let p = host.prompt(&session, WARMUP_MARK).await;
        obs.until_finished(&p).await;
        (session, obs)
    });
    let aider = proc_stats::aider_child(pid).expect("the session's Aider runs under the host");
    let warm = (proc_stats::read(pid), proc_stats::read(aider));
    // The observer stays connected through the idle window, as an open phone app would.
    std::thread::sleep(Duration::from_secs(idle_secs));
    let after = (proc_stats::read(pid), proc_stats::read(aider));
    print_idle(idle_secs, at_start, warm, after, aider);

    let samples = rt.block_on(async {
        let mut out = Vec::new();
        for i in 0..edits {
            out.push(diff_latency::one(&host, &mut obs, &session, FIRST_EDITED_LINE + i).await);
        }
        out
    });
    print_diff_latency(&samples);

    let last_seq = obs.last_seq;
    drop(obs);
    rt.block_on(fan_out(&host, &session, last_seq, rounds));
    println!(
        "\nFake API requests in the host run: {}.",
        claude.request_count()
    );
}

fn print_idle(
    secs: u64,
    start: Figures,
    warm: (Figures, Figures),
    after: (Figures, Figures),
    aider: u32,
) {
    let tick = 1.0 / proc_stats::ticks_per_sec();
    let cpu = |f: Figures| format!("{:.0} ms", f.cpu_ticks as f64 * tick * 1e3);
    let window = |a: Figures, b: Figures| {
        let s = (b.cpu_ticks - a.cpu_ticks) as f64 * tick;
        format!(
            "{:.0} ms ({:.2} % of a core)",
            s * 1e3,
            s * 100.0 / secs as f64
        )
    };
    print_grid(
        &format!(
            "Host: memory and CPU after {secs} s idle (1 session, warm Aider, 1 WebSocket client)"
        ),
        &[
            "figure",
            "right after start (baseline)",
            "warm: session + 1 prompt done",
            &format!("after {secs} s idle"),
            "ratio (idle / baseline)",
        ],
        &[
            vec![
                "host VmRSS".into(),
                mib(start.rss_kib),
                mib(warm.0.rss_kib),
                mib(after.0.rss_kib),
                ratio(after.0.rss_kib as f64, start.rss_kib as f64),
            ],
            vec![
                "host CPU time so far (utime+stime)".into(),
                cpu(start),
                cpu(warm.0),
                cpu(after.0),
                // Below one tick at start, a ratio would be noise (or infinite).
                if start.cpu_ticks > 0 {
                    ratio(after.0.cpu_ticks as f64, start.cpu_ticks as f64)
                } else {
                    "n/a (0 ticks at start)".into()
                },
            ],
            vec![
                "host CPU used in the idle window".into(),
                "".into(),
                "".into(),
                window(warm.0, after.0),
                "".into(),
            ],
            vec![
                format!("Aider bridge VmRSS (child pid {aider})"),
                "not started".into(),
                mib(warm.1.rss_kib),
                mib(after.1.rss_kib),
                "".into(),
            ],
            vec![
                "Aider bridge CPU used in the idle window".into(),
                "".into(),
                "".into(),
                window(warm.1, after.1),
                "".into(),
            ],
        ],
    );
    println!(
        "\nFrom /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (utime+stime, {} ticks/s).",
        proc_stats::ticks_per_sec()
    );
}

fn print_diff_latency(samples: &[diff_latency::Sample]) {
    let finished = summarize(samples.iter().map(|s| s.finished).collect(), 0.99);
    let firsts: Vec<Duration> = samples.iter().filter_map(|s| s.first_diff).collect();
    let mut rows = Vec::new();
    if !firsts.is_empty() {
        rows.push(Row {
            case: "POST → first `diff.updated` (Aider reported the written file)".into(),
            ours: summarize(firsts.clone(), 0.99),
            base: finished,
        });
    }
    rows.push(Row {
        case: "POST → `diff.updated` sent after `prompt.finished`".into(),
        ours: summarize(samples.iter().map(|s| s.final_diff).collect(), 0.99),
        base: finished,
    });
    print_tail(
        &format!(
            "Host: edit → `diff.updated` at a WebSocket client (n = {})",
            samples.len()
        ),
        "diff.updated",
        "prompt.finished",
        "p99",
        &rows,
    );
    let gap = summarize(
        samples.iter().map(|s| s.final_diff - s.finished).collect(),
        0.99,
    );
    println!(
        "\nEach prompt's answer rewrites one line of src/lib.rs; times are from POSTing the prompt to \
         the event's arrival at one WebSocket client. Baseline: `prompt.finished` of the same prompts. \
         `prompt.finished` → final `diff.updated`: p50 {}, p99 {}. Prompts with a mid-prompt \
         `diff.updated`: {} of {}.",
        ms(gap.0),
        ms(gap.1),
        firsts.len(),
        samples.len()
    );
}

/// The last seq in the log once the host has written a prompt's trailing events.
pub(crate) async fn settle(host: &Host, from: u64) -> u64 {
    // `session.updated` and `diff.updated` follow `prompt.finished` within milliseconds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    host.events(from)
        .await
        .last()
        .and_then(|e| e["seq"].as_u64())
        .unwrap_or(from)
}

pub(crate) struct FanRow {
    case: String,
    clients: usize,
    pub(crate) events: u64,
    pub(crate) wall: Duration,
    spread: Duration,
    resumes: u32,
}

impl FanRow {
    fn rate(&self) -> f64 {
        (self.events * self.clients as u64) as f64 / self.wall.as_secs_f64()
    }

    /// The round with the median wall time of several.
    pub(crate) fn median(mut rounds: Vec<FanRow>) -> FanRow {
        rounds.sort_by_key(|r| r.wall);
        let mid = rounds.len() / 2;
        rounds.swap_remove(mid)
    }

    pub(crate) fn of(case: String, t0: Instant, got: &[fanout::Client]) -> FanRow {
        let events = got[0].events;
        assert!(
            got.iter().all(|c| c.events == events),
            "every client gets every event once"
        );
        let first = got.iter().map(|c| c.done).min().unwrap();
        let last = got.iter().map(|c| c.done).max().unwrap();
        FanRow {
            case,
            clients: got.len(),
            events,
            wall: last - t0,
            spread: last - first,
            resumes: got.iter().map(|c| c.resumes).sum(),
        }
    }
}

async fn fan_out(host: &Arc<Host>, session: &str, from: u64, rounds: usize) {
    let mut since = settle(host, from).await;
    let mut rows = Vec::new();
    let mut k = 0;
    let mut last_burst = since;
    for clients in [1, 10, 100] {
        let mut got = Vec::new();
        for _ in 0..rounds {
            k += 1;
            last_burst = since;
            let (t0, seen) = fanout::live(host, session, clients, since, k).await;
            got.push(FanRow::of(format!("{clients} live"), t0, &seen));
            since = settle(host, since).await;
        }
        rows.push(FanRow::median(got));
    }
    // The same last burst again, now from the log: fan-out without waiting for Aider to produce.
    let (t0, seen) = fanout::replay(host, 100, last_burst).await;
    rows.push(FanRow::of("100 replaying it afterwards".into(), t0, &seen));
    let t = Instant::now();
    let log = host.events(last_burst).await;
    let wall = t.elapsed();
    let events = log
        .iter()
        .position(|e| e["type"] == "prompt.finished")
        .expect("the burst is in the log") as u64
        + 1;
    rows.push(FanRow {
        case: "`GET /events?since=N`, one request".into(),
        clients: 1,
        events,
        wall,
        spread: Duration::ZERO,
        resumes: 0,
    });

    let base = rows[0].rate();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.case.clone(),
                r.clients.to_string(),
                r.events.to_string(),
                ms(r.wall),
                format!("{:.0}", r.events as f64 / r.wall.as_secs_f64()),
                format!("{:.0}", r.rate()),
                ms(r.spread),
                r.resumes.to_string(),
                ratio(r.rate(), base),
            ]
        })
        .collect();
    print_grid(
        "Host: WebSocket fan-out of a burst of `agent.text` events",
        &[
            "case",
            "clients",
            "events per client",
            "until the last client has them",
            "events/s per client",
            "events/s, all clients",
            "first → last client",
            "4000 resumes",
            "ratio (all-client events/s vs 1 live client)",
        ],
        &cells,
    );
    println!(
        "\nA burst is one prompt whose fake answer streams many distinct 4-character chunks; each becomes an \
         `agent.text` event, plus the prompt's own events, up to `prompt.finished`. Live: clients \
         connect first, the clock starts at the POST (so Aider producing the chunks is part of the \
         time); median of {rounds} round(s). Baseline: 1 live client. Replay: 100 clients connect \
         after the burst with since=N (connecting is timed). `GET /events` returns the same events \
         in one response."
    );
}
