use std::time::{Duration, Instant};

/// Runs `f` `n` times and returns the median and p95 wall time.
pub fn measure(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let p95 = times[((n as f64 * 0.95).ceil() as usize)
        .saturating_sub(1)
        .min(n - 1)];
    (times[n / 2], p95)
}

pub struct Row {
    pub case: String,
    pub ours: (Duration, Duration),
    pub base: (Duration, Duration),
}

pub fn print(title: &str, ours: &str, base: &str, rows: &[Row]) {
    println!("\n## {title}\n");
    println!("| case | {ours} p50 | {ours} p95 | {base} p50 | {base} p95 | ratio (p50) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.2}× |",
            r.case,
            ms(r.ours.0),
            ms(r.ours.1),
            ms(r.base.0),
            ms(r.base.1),
            r.ours.0.as_secs_f64() / r.base.0.as_secs_f64().max(1e-9)
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
