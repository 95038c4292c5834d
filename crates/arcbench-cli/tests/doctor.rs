//! `arcbench doctor` through the real binary: a good setup, each kind of failure with its fix
//! line, a port held by a running host, and Tailscale through a stand-in LocalAPI socket.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use arcbench_fixtures::TestRepo;
use fake_tailscaled::{FakeTailscaled, TailnetConfig};

const SECRET: &str = "sk-ant-doctor-test-secret";
const HOST_KEY: &str = "doctor-host-key-0123456789abcdef";

/// A data dir holding a private key file, a port that was free a moment ago, the test Python.
struct Setup {
    dir: tempfile::TempDir,
    repo: TestRepo,
    port: u16,
    python: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let key = data.join("api-key");
        std::fs::write(&key, HOST_KEY).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Setup {
            dir,
            repo: TestRepo::new(),
            port,
            python: arcbench_fixtures::aider_python(),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_arcbench"));
        c.arg("doctor")
            .arg("--data-dir")
            .arg(self.data())
            .args(["--port", &self.port.to_string()])
            .arg("--python")
            .arg(&self.python)
            .env("HOME", self.dir.path())
            .env("ANTHROPIC_API_KEY", SECRET)
            .env(
                "ARCBENCH_TAILSCALE_SOCKET",
                self.dir.path().join("no-tailscaled.sock"),
            )
            .env_remove("ARCBENCH_API_KEY")
            .env_remove("ARCBENCH_DATA_DIR")
            .env_remove("ARCBENCH_PYTHON");
        c
    }

    /// Runs doctor on `repo`, plus `extra` tweaks; (exit code, stdout).
    fn doctor(&self, repo: &Path, extra: impl FnOnce(&mut Command)) -> (i32, String) {
        let mut c = self.cmd();
        c.arg("--repo").arg(repo);
        extra(&mut c);
        let out = c.output().expect("arcbench runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!stdout.contains(SECRET), "Anthropic key printed:\n{stdout}");
        assert!(!stdout.contains(HOST_KEY), "host key printed:\n{stdout}");
        (out.status.code().unwrap(), stdout)
    }
}

/// The line for `check` and the `fix:` line right after it, if any.
fn line<'a>(out: &'a str, check: &str) -> (&'a str, Option<&'a str>) {
    let mut lines = out.lines();
    let l = lines
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no `{check}` line in:\n{out}"));
    let fix = lines.next().filter(|n| n.starts_with("      fix: "));
    (l, fix)
}

#[test]
fn a_good_setup_passes() {
    let s = Setup::new();
    let (code, out) = s.doctor(&s.repo.path, |_| {});
    assert_eq!(code, 0, "{out}");
    assert_eq!(fails(&out), 0, "{out}");
    assert!(out.ends_with(" 0 FAIL\n"), "summary line:\n{out}");
    let key_line = format!("ANTHROPIC_API_KEY: set ({} characters)", SECRET.len());
    for check in [
        "git: git version",
        "repo ",
        "aider: ",
        &key_line,
        "ArcBench API key: ",
        "port ",
        "data dir ",
    ] {
        assert!(line(&out, check).0.starts_with("ok    "), "{check}:\n{out}");
    }
    assert!(line(&out, "aider: ")
        .0
        .ends_with("imports aider 0.86.2 (pinned)"));
    // No Tailscale is only a warning: loopback still works.
    let (ts, fix) = line(&out, "tailscale: ");
    assert!(
        ts.starts_with("warn  tailscale: no tailscaled answers"),
        "{out}"
    );
    assert!(fix.is_some(), "{out}");
}

fn fails(out: &str) -> usize {
    out.lines().filter(|l| l.starts_with("FAIL  ")).count()
}

fn assert_fails(code: i32, out: &str, check: &str, finding: &str, fix: &str) {
    assert_eq!(code, 1, "{out}");
    let (l, f) = line(out, check);
    assert!(l.starts_with("FAIL  ") && l.contains(finding), "{out}");
    assert!(f.is_some_and(|f| f.contains(fix)), "{out}");
    assert_eq!(fails(out), 1, "only {check} fails:\n{out}");
}

#[test]
fn a_bare_repository_fails_with_a_fix() {
    let s = Setup::new();
    let bare = s.repo.sibling("bare.git");
    s.repo
        .git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let (code, out) = s.doctor(&bare, |_| {});
    assert_fails(code, &out, "repo ", "bare repository", "git clone");
}

#[test]
fn a_missing_python_fails_with_a_fix() {
    let mut s = Setup::new();
    s.python = s.dir.path().join("nope/bin/python");
    let (code, out) = s.doctor(&s.repo.path, |_| {});
    assert_fails(code, &out, "aider: ", "cannot run", "arcbench setup-aider");
}

#[test]
fn a_readable_key_file_fails_with_a_fix() {
    let s = Setup::new();
    let key = s.data().join("api-key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out) = s.doctor(&s.repo.path, |_| {});
    assert_fails(
        code,
        &out,
        "ArcBench API key: ",
        "permissions 0644",
        &format!("chmod 600 {}", key.display()),
    );
}

#[test]
fn a_port_held_by_another_program_fails_but_a_running_host_is_fine() {
    let mut s = Setup::new();
    let squatter = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    s.port = squatter.local_addr().unwrap().port();
    // The squatter answers like a web server and records what doctor sent: never the key.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let recorder = seen.clone();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut conn, _)) = squatter.accept() {
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap_or(0);
            recorder
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    let (code, out) = s.doctor(&s.repo.path, |_| {});
    server.join().unwrap();
    assert_fails(code, &out, "port ", "in use by another program", "--port");
    let request = seen.lock().unwrap().clone();
    assert!(request.starts_with("GET /status"), "{request}");
    assert!(
        !request.contains(HOST_KEY),
        "doctor sent the key:\n{request}"
    );
    assert!(
        !request.to_ascii_lowercase().contains("authorization"),
        "{request}"
    );

    // A host started on this data dir proves it holds the data dir's key.
    let mut host = Command::new(env!("CARGO_BIN_EXE_arcbench"))
        .args(["serve", "--demo", "--port", "0", "--data-dir"])
        .arg(s.data())
        .arg("--repo")
        .arg(&s.repo.path)
        .arg("--python")
        .arg(&s.python)
        .env_remove("ARCBENCH_API_KEY")
        .env("ARCBENCH_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(host.stdout.take().unwrap()).lines();
    let addr = loop {
        let l = lines.next().expect("host printed its address").unwrap();
        if let Some(a) = l.strip_prefix("listening on http://") {
            break a.to_owned();
        }
    };
    s.port = addr.rsplit(':').next().unwrap().parse().unwrap();
    let (code, out) = s.doctor(&s.repo.path, |_| {});
    let _ = host.kill();
    let _ = host.wait();
    assert_eq!(code, 0, "{out}");
    let (l, _) = line(&out, "port ");
    assert!(
        l.starts_with("ok    ") && l.contains("in use by a running arcbench host of this data dir"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tailscale_state_comes_from_the_localapi() {
    let s = Setup::new();
    let socket = s.dir.path().join("tailscaled.sock");
    let ips = vec![
        "100.101.102.103".parse().unwrap(),
        "fd7a:115c:a1e0::53".parse().unwrap(),
    ];
    let fake = FakeTailscaled::start(
        &socket,
        TailnetConfig::new("desk.example.ts.net.", ips, "alice@example.com"),
    )
    .await
    .unwrap();
    let doctor = |s: &Setup| {
        tokio::task::block_in_place(|| {
            s.doctor(&s.repo.path, |c| {
                c.env("ARCBENCH_TAILSCALE_SOCKET", &socket);
            })
        })
    };
    for (state, expected) in [
        (
            "Running",
            "ok    tailscale: Running, desk.example.ts.net, IPs 100.101.102.103, fd7a:115c:a1e0::53",
        ),
        (
            "NeedsLogin",
            "warn  tailscale: NeedsLogin, no MagicDNS name, IPs none",
        ),
    ] {
        fake.set_state(state);
        let (code, out) = doctor(&s);
        assert_eq!(code, 0, "{out}");
        let (l, fix) = line(&out, "tailscale: ");
        assert_eq!(l, expected, "{out}");
        assert_eq!(fix.is_some(), state != "Running", "{out}");
    }
    // Running without HTTPS certificates: the phone could not use the microphone.
    fake.set_state("Running");
    fake.update_config(|c| c.cert_domains.clear());
    let (_, out) = doctor(&s);
    let (l, fix) = line(&out, "tailscale: ");
    assert!(
        l.starts_with("warn  ") && l.contains("no HTTPS certificates"),
        "{out}"
    );
    assert!(fix.unwrap().contains("HTTPS Certificates"), "{out}");
}
