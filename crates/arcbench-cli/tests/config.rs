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
        "daily_budget = 1.0\nsession_budget = 2.0\nbudget_warning_percent = 65\n\n[pricing.claude-sonnet-4-5]\ninput = 10.0\noutput = 20.0\ncache_write = 0.0\ncache_read = 0.0\n",
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
    assert_eq!(b["warning_ratio"].as_f64(), Some(0.65));
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
    let err = serve_fails(
        &["--repo", repo_arg, "--budget-warning-percent=150"],
        data.path(),
    );
    assert!(err.contains("warning_ratio must be more than 0"), "{err}");
    let plain = tempfile::tempdir().unwrap();
    let err = serve_fails(&["--repo", plain.path().to_str().unwrap()], data.path());
    assert!(err.contains("not a git repository"), "{err}");
}

/// Starts `serve` with `args` and `key` (None: the data dir's own), waits for its first address,
/// then stops it; returns (address line or None when it exited, its stderr).
fn serve_once(
    args: &[&str],
    data: &std::path::Path,
    key: Option<&str>,
) -> (Option<String>, String) {
    use std::io::{BufRead, BufReader, Read};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_arcbench"));
    cmd.arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .args(["--python", "/nonexistent/python"])
        .env("ARCBENCH_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    match key {
        Some(k) => cmd.env("ARCBENCH_API_KEY", k),
        None => cmd.env_remove("ARCBENCH_API_KEY"),
    };
    let mut child = cmd.spawn().unwrap();
    let listening = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("listening on "));
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (listening, err)
}

#[test]
fn open_network_addresses_need_insecure_lan_and_warn_loudly() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let r = repo.path.to_str().unwrap();
    for open in ["0.0.0.0", "::", "192.168.1.20"] {
        let err = serve_fails(&["--repo", r, "--bind", open], data.path());
        assert!(
            err.contains("neither loopback nor a tailnet address")
                && err.contains("--insecure-lan"),
            "{open}: {err}"
        );
    }
    // Tailnet addresses pass the policy (binding fails here only because no tailnet is up).
    for tailnet in ["100.64.0.1", "fd7a:115c:a1e0::1"] {
        let err = serve_fails(
            &["--repo", r, "--bind", tailnet, "--port", "0"],
            data.path(),
        );
        assert!(err.contains("cannot listen on"), "{tailnet}: {err}");
    }
    let (listening, err) = serve_once(
        &[
            "--repo",
            r,
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
            "--insecure-lan",
        ],
        data.path(),
        Some(KEY),
    );
    assert!(listening.is_some(), "{err}");
    assert!(
        err.contains("WARNING: --insecure-lan: serving plain HTTP on 0.0.0.0"),
        "{err}"
    );
}

#[test]
fn a_weak_user_key_is_refused() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    for weak in ["short", "correct-horse-battery", &"a".repeat(64)] {
        let (listening, err) = serve_once(
            &["--repo", repo.path.to_str().unwrap()],
            data.path(),
            Some(weak),
        );
        assert!(listening.is_none());
        assert!(err.contains("too weak") && err.contains("128"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_is_private_and_has_a_daily_budget() {
    use std::os::unix::fs::PermissionsExt;
    let repo = TestRepo::new();
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let r = repo.path.to_str().unwrap();
    let (listening, err) = serve_once(&["--repo", r, "--port", "0"], &data, None);
    assert!(listening.is_some(), "{err}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("api-key")), 0o600);
    let config = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(config.contains("\ndaily_budget = 10.0\n"), "{config}");

    // Widened by hand (a restore, an editor): private again at the next start, key unchanged.
    let key = std::fs::read_to_string(data.join("api-key")).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("api-key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(&repo.path, &data, &claude, &[]);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("api-key")), 0o600);
    assert_eq!(std::fs::read_to_string(data.join("api-key")).unwrap(), key);
    let b = host.ok("GET", "/budget", None).await;
    assert_eq!(b["daily_limit_usd"].as_f64(), Some(10.0));
}

#[test]
fn a_config_that_contradicts_itself_is_refused_and_nothing_starts() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let r = repo.path.to_str().unwrap();
    let err = serve_fails(&["--repo", r, "--repo", &format!("{r}/")], data.path());
    assert!(
        err.contains("--repo names") && err.contains("twice"),
        "{err}"
    );
    let err = serve_fails(
        &["--repo", r, "--bind", "127.0.0.1", "--bind", "127.0.0.1"],
        data.path(),
    );
    assert!(err.contains("--bind names 127.0.0.1 twice"), "{err}");
    let err = serve_fails(&["--repo", r, "--max-agents", "0"], data.path());
    assert!(err.contains("--max-agents must be at least 1"), "{err}");
    assert!(
        !data.path().join("arcbench.sqlite3").exists(),
        "nothing was opened"
    );
}
