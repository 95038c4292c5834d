//! ArcBench benchmarks. Goals live here, never in timed tests: each row is measured next to a
//! baseline in the same run, on the same data, and reported as a ratio, so a noisy shared machine
//! moves both sides alike.
//!
//! Usage: `arcbench-bench [review] [--quick]`.

mod review;
mod table;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let which: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let all = which.is_empty() || which.contains(&"all");
    let mut ran = false;
    if all || which.contains(&"review") {
        review::run(quick);
        ran = true;
    }
    if !ran {
        eprintln!("unknown benchmark {which:?}; known: review");
        std::process::exit(2);
    }
}
