//! ArcBench benchmarks. Goals live here, never in timed tests: each row is measured next to a
//! baseline in the same run, on the same data, and reported as a ratio, so a noisy shared machine
//! moves both sides alike.
//!
//! Usage: `arcbench-bench [review] [agent] [host] [anchor] [voice] [live] [--quick]` (none named:
//! all).

mod agent;
mod anchor;
mod host;
mod live;
mod review;
mod table;
mod voice;

const KNOWN: [&str; 6] = ["review", "agent", "host", "anchor", "voice", "live"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let which: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(bad) = which.iter().find(|w| **w != "all" && !KNOWN.contains(w)) {
        eprintln!("unknown benchmark {bad:?}; known: {}", KNOWN.join(", "));
        std::process::exit(2);
    }
    let all = which.is_empty() || which.contains(&"all");
    let wants = |name: &str| all || which.contains(&name);
    if wants("review") {
        review::run(quick);
    }
    if wants("agent") {
        agent::run(quick);
    }
    if wants("host") {
        host::run(quick);
    }
    if wants("anchor") {
        anchor::run(quick);
    }
    if wants("voice") {
        voice::run(quick);
    }
    if wants("live") {
        live::run(quick);
    }
}

/// The async parts (fake API, WebSocket clients) share one small runtime: the machine has two
/// cores and the measured processes need them too.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
