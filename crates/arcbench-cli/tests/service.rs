//! `arcbench service` through the real binary, with HOME and XDG_CONFIG_HOME in a temp dir.
//! The user bus is pointed at nothing, so even on a desktop these tests can never enable a real
//! service: they check the file and the printed fallback commands.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arcbench_fixtures::TestRepo;

const SECRET: &str = "sk-ant-service-test-secret";

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("run")).unwrap();
        Sandbox { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().canonicalize().unwrap().join(rel)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_arcbench"));
        c.args(args)
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", self.path("run/no-bus").display()),
            )
            .env("ANTHROPIC_API_KEY", SECRET)
            .env_remove("ARCBENCH_API_KEY")
            .env_remove("ARCBENCH_DATA_DIR")
            .env_remove("ARCBENCH_PYTHON");
        c
    }

    fn unit(&self) -> PathBuf {
        self.path("config/systemd/user/arcbench.service")
    }
}

fn run(mut c: Command) -> (Output, String) {
    let out = c.output().expect("arcbench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{c:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out, stdout)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn install_status_uninstall_round_trip() {
    let sb = Sandbox::new();
    let repo = TestRepo::new();
    let repo_abs = repo.path.canonicalize().unwrap();
    let data = sb.path("data");
    let python = sb.path("py/bin/python");
    let exe = Path::new(env!("CARGO_BIN_EXE_arcbench"))
        .canonicalize()
        .unwrap();
    // A relative --repo must land in the unit as an absolute path.
    let mut c = sb.cmd(&["service", "install", "--data-dir"]);
    c.arg(&data)
        .args(["--repo", "repo", "--port", "8765", "--bind", "127.0.0.1"])
        .arg("--python")
        .arg(&python)
        .current_dir(repo.path.parent().unwrap());
    let (_, stdout) = run(c);

    let unit = std::fs::read_to_string(sb.unit()).expect("unit written");
    let exec = format!(
        "ExecStart={} serve --data-dir {} --repo {} --port 8765 --bind 127.0.0.1 --python {}",
        exe.display(),
        data.display(),
        repo_abs.display(),
        python.display()
    );
    assert!(unit.lines().any(|l| l == exec), "{exec}\nnot in:\n{unit}");
    for line in [
        "Restart=on-failure".to_owned(),
        "KillSignal=SIGTERM".into(),
        "TimeoutStopSec=15".into(),
        format!("Environment=\"ARCBENCH_DATA_DIR={}\"", data.display()),
        format!("EnvironmentFile=-{}/env", data.display()),
    ] {
        assert!(unit.lines().any(|l| l == line), "{line} missing:\n{unit}");
    }

    // Secrets: the Anthropic key stays in the shell, the host key in its file.
    let env_file = data.join("env");
    let key = std::fs::read_to_string(data.join("api-key")).unwrap();
    assert_eq!(mode(&env_file), 0o600);
    assert_eq!(mode(&data.join("api-key")), 0o600);
    let env_text = std::fs::read_to_string(&env_file).unwrap();
    assert!(env_text.contains("#ANTHROPIC_API_KEY="), "{env_text}");
    for (what, text) in [
        ("unit", &unit),
        ("env file", &env_text),
        ("output", &stdout),
    ] {
        assert!(!text.contains(SECRET), "Anthropic key in the {what}");
        assert!(!text.contains(key.trim()), "host key in the {what}");
    }
    assert!(stdout.contains("could not start the service"), "{stdout}");
    assert!(
        stdout.contains("  systemctl --user daemon-reload\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  systemctl --user enable --now arcbench.service\n"),
        "{stdout}"
    );

    // Idempotent: same unit, the user's env file and key untouched.
    std::fs::write(&env_file, "ANTHROPIC_API_KEY=from-user\n").unwrap();
    let mut again = sb.cmd(&["service", "install", "--data-dir"]);
    again
        .arg(&data)
        .args(["--repo"])
        .arg(&repo_abs)
        .args(["--port", "8765", "--bind", "127.0.0.1", "--python"])
        .arg(&python);
    let (_, stdout) = run(again);
    assert!(stdout.starts_with("unchanged: "), "{stdout}");
    assert!(!stdout.contains("note: add ANTHROPIC_API_KEY"), "{stdout}");
    assert_eq!(std::fs::read_to_string(sb.unit()).unwrap(), unit);
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        "ANTHROPIC_API_KEY=from-user\n"
    );
    assert_eq!(std::fs::read_to_string(data.join("api-key")).unwrap(), key);

    let (_, status) = run(sb.cmd(&["service", "status"]));
    assert!(status.contains("arcbench service: installed\n"), "{status}");
    assert!(
        status.contains(&format!("file: {}\n", sb.unit().display())),
        "{status}"
    );
    assert!(status.contains("state: unknown ("), "{status}");

    let (_, out) = run(sb.cmd(&["service", "uninstall"]));
    assert!(out.contains("removed "), "{out}");
    assert!(
        out.contains("  systemctl --user disable --now arcbench.service\n"),
        "{out}"
    );
    assert!(!sb.unit().exists());
    assert!(env_file.exists(), "uninstall keeps the data dir");
    let (_, out) = run(sb.cmd(&["service", "uninstall"]));
    assert!(out.contains("not installed"), "{out}");
    let (_, status) = run(sb.cmd(&["service", "status"]));
    assert!(
        status.contains("arcbench service: not installed\n"),
        "{status}"
    );
}

#[test]
fn defaults_to_home_config_and_the_current_directory() {
    let sb = Sandbox::new();
    let repo = TestRepo::new();
    let mut c = sb.cmd(&["service", "install", "--data-dir"]);
    c.arg(sb.path("data"))
        .env_remove("XDG_CONFIG_HOME")
        .current_dir(&repo.path);
    run(c);
    let unit = std::fs::read_to_string(sb.path("home/.config/systemd/user/arcbench.service"))
        .expect("unit under ~/.config");
    let repo_arg = format!("--repo {}", repo.path.canonicalize().unwrap().display());
    assert!(unit.contains(&repo_arg), "{unit}");
    assert!(!unit.contains("--port"), "serve's default port: {unit}");
}

#[test]
fn refuses_a_repository_serve_could_not_open() {
    let sb = Sandbox::new();
    let repo = TestRepo::new();
    let bare = repo.sibling("bare.git");
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let mut c = sb.cmd(&["service", "install", "--data-dir"]);
    c.arg(sb.path("data")).arg("--repo").arg(&bare);
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bare repository"), "{stderr}");
    assert!(!sb.unit().exists());
}
