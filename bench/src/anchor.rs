//! The original design's host stack ("Python · FastAPI + Uvicorn") as an anchor, in the same run
//! and under the same load as the release `arcbench serve`: bench/anchor/app.py serves `/status`
//! and a broadcasting `/ws` in the same shape as ours (see its docstring for what it leaves out).
//! Both servers run side by side on loopback; the same Rust clients drive both. In run order:
//!
//! 1. idle: VmRSS right after each printed `listening on`, then after the idle window with one
//!    WebSocket client each (the host group's approach; both idle at once, neither does work);
//! 2. `GET /status`: the same load generator ([`load`]) against each in turn, rounds alternating;
//! 3. fan-out: a burst of the same number of events to 1 and to 100 connected clients, read by
//!    the host group's readers. Ours produces its burst the only way it can, through a prompt
//!    (Aider + the fake API streaming the chunks, as the host group does); the anchor's producer
//!    is a loop in the app. So our times include Aider producing the events and the anchor's do
//!    not. Two rows take the producer out: what the other 99 clients add over 1 client, in wall
//!    time and in server CPU (each server process alone; Aider is a separate process).

mod load;
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcbench_fixtures::TestRepo;
use fake_claude::FakeClaude;

use crate::host::diff_latency::Observer;
use crate::host::proc_stats::{self, mib, Figures};
use crate::host::server::Host;
use crate::host::{fanout, settle, FanRow};
use crate::table::{ms, print_grid, ratio, summarize};
use server::Anchor;

/// Concurrent keep-alive connections of the `/status` load.
const CONNECTIONS: usize = 16;
/// Requests each server answers before the measured rounds (connections, caches, allocator).
const WARMUP_REQUESTS: usize = 500;
/// A load round that has not finished in this long is cut (and the table says so).
const LOAD_DEADLINE: Duration = Duration::from_secs(120);

pub fn run(quick: bool) {
    let idle_secs = if quick { 10 } else { 60 };
    let (requests, load_rounds) = if quick { (2_000, 1) } else { (20_000, 3) };
    let burst_chunks = if quick { 300 } else { 2000 };
    let bursts = if quick { 1 } else { 3 };
    let rt = crate::runtime();
    let claude = rt
        .block_on(
            FakeClaude::builder()
                .responder(move |req| crate::host::answer(req, burst_chunks))
                .start(),
        )
        .expect("fake-claude starts");
    let repo = TestRepo::new();

    // 1. Idle: both up at once (neither works, so they do not disturb each other).
    let host = Arc::new(Host::start(&repo.path, &claude.base_url()));
    let host_start = proc_stats::read(host.pid());
    let anchor = Arc::new(Anchor::start());
    let anchor_start = proc_stats::read(anchor.pid());
    let (host_obs, anchor_obs) = rt.block_on(async {
        (
            Observer::new(host.ws(0).await),
            Observer::new(anchor.ws().await),
        )
    });
    let before = (proc_stats::read(host.pid()), proc_stats::read(anchor.pid()));
    std::thread::sleep(Duration::from_secs(idle_secs));
    let host_idle = proc_stats::read(host.pid());
    let anchor_idle = proc_stats::read(anchor.pid());
    let idle_cpu = (
        Cpu::between(before.0, host_idle),
        Cpu::between(before.1, anchor_idle),
    );
    drop(anchor_obs);

    // 2. `/status` under load, rounds alternating so drift on the shared cores hits both.
    let (host_load, anchor_load) = rt.block_on(async {
        load::run(&host.base, CONNECTIONS, WARMUP_REQUESTS, LOAD_DEADLINE).await;
        load::run(&anchor.base, CONNECTIONS, WARMUP_REQUESTS, LOAD_DEADLINE).await;
        let (mut ours, mut theirs) = (Rounds::default(), Rounds::default());
        for _ in 0..load_rounds {
            ours.add(host.pid(), &host.base, requests).await;
            theirs.add(anchor.pid(), &anchor.base, requests).await;
        }
        (ours, theirs)
    });

    // 3. Fan-out, to 1 then 100 clients; each entry: the median burst and the CPU per burst.
    let (host_fan, anchor_fan) = rt.block_on(async {
        // Ours needs a session whose Aider is warm (its start is not fan-out).
        let session = host.session().await;
        let mut obs = host_obs;
        let p = host.prompt(&session, crate::host::WARMUP_MARK).await;
        obs.until_finished(&p).await;
        let mut since = settle(&host, obs.last_seq).await;
        drop(obs);
        let mut ours = Vec::new();
        let mut k = 0;
        for clients in [1, 100] {
            let cpu = proc_stats::read(host.pid());
            let mut got = Vec::new();
            for _ in 0..bursts {
                k += 1;
                let (t0, seen) = fanout::live(&host, &session, clients, since, k).await;
                got.push(FanRow::of(String::new(), t0, &seen));
                // Waits 300 ms for the prompt's trailing events; the host idles then.
                since = settle(&host, since).await;
            }
            let cpu = Cpu::between(cpu, proc_stats::read(host.pid())).per(bursts);
            ours.push((FanRow::median(got), cpu));
        }
        // The anchor delivers exactly as many events per client as ours did.
        let events = ours[0].0.events;
        let mut theirs = Vec::new();
        for clients in [1, 100] {
            let cpu = proc_stats::read(anchor.pid());
            let mut got = Vec::new();
            for _ in 0..bursts {
                let tasks = fanout::readers(&anchor, clients, 0).await;
                let t0 = Instant::now();
                anchor.broadcast(events).await;
                got.push(FanRow::of(String::new(), t0, &fanout::join(tasks).await));
            }
            let cpu = Cpu::between(cpu, proc_stats::read(anchor.pid())).per(bursts);
            theirs.push((FanRow::median(got), cpu));
        }
        (ours, theirs)
    });
    let peaks = (
        proc_stats::peak_kib(host.pid()),
        proc_stats::peak_kib(anchor.pid()),
    );

    let row = |figure: String, a: String, b: String, r: String, better: &str| {
        vec![figure, a, b, r, better.to_owned()]
    };
    let rss = |figure: String, a: u64, b: u64| {
        row(figure, mib(a), mib(b), ratio(a as f64, b as f64), "lower")
    };
    let time = |figure: String, a: Duration, b: Duration| {
        row(
            figure,
            ms(a),
            ms(b),
            ratio(a.as_secs_f64(), b.as_secs_f64()),
            "lower",
        )
    };
    let cpu = |figure: String, a: Cpu, b: Cpu| {
        row(figure, a.to_string(), b.to_string(), a.ratio(b), "lower")
    };
    let (ours_lat, theirs_lat) = (host_load.latency(), anchor_load.latency());
    let events = host_fan[0].0.events;
    let wall = |f: &[(FanRow, Cpu)], i: usize| f[i].0.wall;
    let rows = vec![
        rss(
            "VmRSS right after `listening on`".into(),
            host_start.rss_kib,
            anchor_start.rss_kib,
        ),
        rss(
            format!("VmRSS after {idle_secs} s idle, 1 WebSocket client"),
            host_idle.rss_kib,
            anchor_idle.rss_kib,
        ),
        cpu(
            format!("CPU used in those {idle_secs} s"),
            idle_cpu.0,
            idle_cpu.1,
        ),
        row(
            format!(
                "`GET /status`, {CONNECTIONS} keep-alive connections: requests/s (median round)"
            ),
            format!("{:.0}", host_load.per_sec()),
            format!("{:.0}", anchor_load.per_sec()),
            ratio(host_load.per_sec(), anchor_load.per_sec()),
            "higher",
        ),
        time("`GET /status` latency p50".into(), ours_lat.0, theirs_lat.0),
        time("`GET /status` latency p99".into(), ours_lat.1, theirs_lat.1),
        cpu(
            "server CPU per 1,000 `/status` requests".into(),
            host_load.cpu_per_1000(),
            anchor_load.cpu_per_1000(),
        ),
        time(
            format!(
                "fan-out, {events} events: until 1 client has them all (ours: Aider produces them)"
            ),
            wall(&host_fan, 0),
            wall(&anchor_fan, 0),
        ),
        time(
            format!("fan-out, {events} events: until the last of 100 clients has them all"),
            wall(&host_fan, 1),
            wall(&anchor_fan, 1),
        ),
        // The producer's share (ours: Aider) is in both bursts, so it mostly cancels out here.
        // Ours overlaps fan-out with the producer, which can flatter ours; the CPU rows do not.
        time(
            "fan-out: what the other 99 clients add (100-client time − 1-client time)".into(),
            wall(&host_fan, 1).saturating_sub(wall(&host_fan, 0)),
            wall(&anchor_fan, 1).saturating_sub(wall(&anchor_fan, 0)),
        ),
        cpu(
            "server CPU per burst to 1 client (ours: the host process, not Aider)".into(),
            host_fan[0].1,
            anchor_fan[0].1,
        ),
        cpu(
            "server CPU per burst to 100 clients".into(),
            host_fan[1].1,
            anchor_fan[1].1,
        ),
        cpu(
            "server CPU the other 99 clients add, per burst".into(),
            host_fan[1].1.minus(host_fan[0].1),
            anchor_fan[1].1.minus(anchor_fan[0].1),
        ),
        rss(
            "peak VmRSS (VmHWM) over the whole group".into(),
            peaks.0,
            peaks.1,
        ),
    ];
    print_grid(
        "Anchor: `arcbench serve` beside the original design's FastAPI + uvicorn, same load",
        &[
            "figure",
            "arcbench serve",
            "anchor (FastAPI + uvicorn)",
            "ratio arcbench/anchor",
            "better when",
        ],
        &rows,
    );
    println!(
        "\nAnchor: {}; one process, as its in-process broadcast needs. `/status`: {load_rounds} \
         round(s) of {requests} requests per server after {WARMUP_REQUESTS} unmeasured, rounds \
         alternating (requests/s per round: ours {}, anchor {}); latency percentiles over all \
         rounds' requests; {} request(s) cut by the {} s deadline. Fan-out: median of {bursts} \
         burst(s); ours is a prompt whose fake answer streams {burst_chunks} chunks (the host \
         group's burst), the anchor's a loop in the app, so our times include Aider producing the \
         events. CPU: the server process's utime+stime (kernel: stime; {} ticks/s); on loopback \
         the kernel time can include the receiving side of TCP. Ours commits every event to its \
         log and serializes it per socket; the anchor keeps no log and serializes once.",
        anchor.versions,
        host_load.rates(),
        anchor_load.rates(),
        host_load.cut() + anchor_load.cut(),
        LOAD_DEADLINE.as_secs(),
        proc_stats::ticks_per_sec(),
    );
}

/// CPU time a process used over a stretch, in ms: all of it and the kernel's part.
#[derive(Clone, Copy, Default)]
struct Cpu {
    ms: f64,
    sys_ms: f64,
}

impl Cpu {
    fn between(a: Figures, b: Figures) -> Cpu {
        let tick_ms = 1e3 / proc_stats::ticks_per_sec();
        Cpu {
            ms: (b.cpu_ticks - a.cpu_ticks) as f64 * tick_ms,
            sys_ms: (b.sys_ticks - a.sys_ticks) as f64 * tick_ms,
        }
    }

    fn per(self, n: usize) -> Cpu {
        Cpu {
            ms: self.ms / n as f64,
            sys_ms: self.sys_ms / n as f64,
        }
    }

    fn minus(self, o: Cpu) -> Cpu {
        Cpu {
            ms: self.ms - o.ms,
            sys_ms: self.sys_ms - o.sys_ms,
        }
    }

    /// `ours / anchor`; a side below one clock tick has no meaningful ratio.
    fn ratio(self, anchor: Cpu) -> String {
        match (self.ms > 0.0, anchor.ms > 0.0) {
            (true, true) => ratio(self.ms, anchor.ms),
            (false, true) => "≈ 0 (ours below one tick)".into(),
            _ => "n/a (anchor below one tick)".into(),
        }
    }
}

impl std::fmt::Display for Cpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} ms (kernel {:.0} ms)", self.ms, self.sys_ms)
    }
}

/// The measured `/status` rounds of one server, with its CPU time over them.
#[derive(Default)]
struct Rounds {
    runs: Vec<load::Load>,
    cpu: Cpu,
}

impl Rounds {
    async fn add(&mut self, pid: u32, base: &str, requests: usize) {
        let before = proc_stats::read(pid);
        self.runs
            .push(load::run(base, CONNECTIONS, requests, LOAD_DEADLINE).await);
        let used = Cpu::between(before, proc_stats::read(pid));
        self.cpu = Cpu {
            ms: self.cpu.ms + used.ms,
            sys_ms: self.cpu.sys_ms + used.sys_ms,
        };
    }

    /// Requests per second of the median round.
    fn per_sec(&self) -> f64 {
        let mut r: Vec<f64> = self.runs.iter().map(load::Load::per_sec).collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    }

    fn rates(&self) -> String {
        let r: Vec<String> = self
            .runs
            .iter()
            .map(|r| format!("{:.0}", r.per_sec()))
            .collect();
        r.join(", ")
    }

    fn latency(&self) -> (Duration, Duration) {
        summarize(
            self.runs
                .iter()
                .flat_map(|r| r.latencies.iter().copied())
                .collect(),
            0.99,
        )
    }

    fn cpu_per_1000(&self) -> Cpu {
        let n: usize = self.runs.iter().map(|r| r.latencies.len()).sum();
        Cpu {
            ms: self.cpu.ms * 1000.0 / n as f64,
            sys_ms: self.cpu.sys_ms * 1000.0 / n as f64,
        }
    }

    fn cut(&self) -> usize {
        self.runs.iter().map(|r| r.cut).sum()
    }
}
