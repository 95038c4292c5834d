use std::time::{Duration, Instant};

/// Runs `f` `n` times and returns the median and p95 wall time.
pub fn measure(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    summarize(times, 0.95)
}

/// Median and the `tail` percentile (nearest rank) of samples taken in any order.
pub fn summarize(mut times: Vec<Duration>, tail: f64) -> (Duration, Duration) {
    assert!(!times.is_empty(), "no samples");
    times.sort();
    let n = times.len();
    let at = ((n as f64 * tail).ceil() as usize)
        .saturating_sub(1)
        .min(n - 1);
    (times[n / 2], times[at])
}

/// One row of a time table: (p50, tail percentile) for our side and for the baseline.
pub struct Row {
    pub case: String,
    pub ours: (Duration, Duration),
    pub base: (Duration, Duration),
}

pub fn print(title: &str, ours: &str, base: &str, rows: &[Row]) {
    print_tail(title, ours, base, "p95", rows);
}

/// Like [`print`], naming the tail percentile the rows carry (p95, p99...).
pub fn print_tail(title: &str, ours: &str, base: &str, tail: &str, rows: &[Row]) {
    println!("\n## {title}\n");
    println!("| case | {ours} p50 | {ours} {tail} | {base} p50 | {base} {tail} | ratio (p50) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.case,
            ms(r.ours.0),
            ms(r.ours.1),
            ms(r.base.0),
            ms(r.base.1),
            ratio(r.ours.0.as_secs_f64(), r.base.0.as_secs_f64())
        );
    }
}

/// A table whose cells are already formatted (rates, sizes, CPU time): first column left-aligned.
pub fn print_grid(title: &str, header: &[&str], rows: &[Vec<String>]) {
    println!("\n## {title}\n");
    println!("| {} |", header.join(" | "));
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    println!("|{}|", align.join("|"));
    for r in rows {
        println!("| {} |", r.join(" | "));
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// `ours / base` as the tables print it; small ratios keep three decimals so they do not all
/// read 0.01×.
pub fn ratio(ours: f64, base: f64) -> String {
    let r = ours / base.max(1e-12);
    if r < 0.1 {
        format!("{r:.3}×")
    } else {
        format!("{r:.2}×")
    }
}
