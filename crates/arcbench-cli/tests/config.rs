//! The config file: its pricing table prices usage, flags win over it, mistakes are named.

mod support;

use std::process::Command;

use fake_claude::{FakeClaude, TextReply, Usage};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_sets_prices_and_budgets_and_flags_win() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("config.toml"),
        "daily_budget = 1.0\nsession_budget = 2.0\n\n[pricing.claude-sonnet-4-5]\ninput = 10.0\noutput = 20.0\ncache_write = 0.0\ncache_read = 0.0\n",
    )
    .unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(&repo.path, data.path(), &claude, &["--daily-budget", "5"]);
    let b = host.ok("GET", "/budget", None).await;
    assert_eq!(
        (
            b["daily_limit_usd"].as_f64(),
            b["session_limit_usd"].as_f64()
        ),
        (Some(5.0), Some(2.0))
    );
    let s = host.session().await;
    claude.push(TextReply::new("priced").usage(Usage::exact(1000, 100, 0, 0)));
    let p = host.prompt(&s, "hi", "cfg-1").await;
    let done = host.wait_prompt(&s, &p).await;
    let cost = done["usage"]["cost_usd"].as_f64().unwrap();
    assert!(
        (cost - (1000.0 * 10e-6 + 100.0 * 20e-6)).abs() < 1e-12,
        "{cost}"
    );
}

fn serve_fails(args: &[&str], data: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_arcbench"))
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("ARCBENCH_API_KEY", KEY)
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_bad_config_is_refused_with_the_reason() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let repo_arg = repo.path.to_str().unwrap();
    std::fs::write(data.path().join("config.toml"), "prot = 8000\n").unwrap();
    let err = serve_fails(&["--repo", repo_arg], data.path());
    assert!(err.contains("prot"), "{err}");
    std::fs::write(
        data.path().join("config.toml"),
        "[pricing.x]\ninput = -1\noutput = 1\ncache_write = 1\ncache_read = 1\n",
    )
    .unwrap();
    let err = serve_fails(&["--repo", repo_arg], data.path());
    assert!(err.contains("prices for `x`"), "{err}");
    std::fs::remove_file(data.path().join("config.toml")).unwrap();
    let err = serve_fails(
        &["--repo", repo_arg, "--config", "/nonexistent/arcbench.toml"],
        data.path(),
    );
    assert!(err.contains("/nonexistent/arcbench.toml"), "{err}");
    let err = serve_fails(&["--repo", repo_arg, "--session-budget=-2"], data.path());
    assert!(err.contains("--session-budget"), "{err}");
    let plain = tempfile::tempdir().unwrap();
    let err = serve_fails(&["--repo", plain.path().to_str().unwrap()], data.path());
    assert!(err.contains("not a git repository"), "{err}");
}
