//! The desktop app's commands through Tauri's mock runtime (no display): the first run, bad
//! input at each step, the host started in-process and reached over its own API, pause and
//! resume, attaching to a host that already runs on the data dir, a taken port, no keychain.

use std::path::Path;
use std::sync::{Arc, Mutex};

use arcbench_desktop::backend::{Backend, Environment};
use arcbench_desktop::keychain::Keychain;
use arcbench_fixtures::{aider_python, TestRepo};
use arcbench_host::Settings;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Desk {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    backend: Arc<Backend>,
}

/// A host config in `data_dir`: any free port, no tailnet, no transcriber, no sleep inhibitor.
fn env(data_dir: &Path, keychain: Keychain, port: u16) -> Environment {
    let config = data_dir.join("config.toml");
    std::fs::create_dir_all(data_dir).unwrap();
    std::fs::write(
        &config,
        format!("port = {port}\nno_tailscale = true\ntranscriber = false\nstay_awake = false\n"),
    )
    .unwrap();
    Environment {
        data_dir: data_dir.to_path_buf(),
        base: Settings {
            data_dir: Some(data_dir.to_path_buf()),
            config: Some(config),
            python: Some(aider_python()),
            ..Settings::default()
        },
        keychain,
    }
}

fn desk(env: Environment) -> Desk {
    let backend = Backend::new(env);
    let specta = arcbench_desktop::specta_builder!(MockRuntime);
    let app = mock_builder()
        .manage(backend.clone())
        .invoke_handler(specta.invoke_handler())
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");
    Desk {
        _app: app,
        window,
        backend,
    }
}

impl Desk {
    /// Calls a command as the page would; `Ok(data)` or `Err({code, message})`.
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let answer = get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        );
        match answer {
            Ok(body) => Ok(body.deserialize::<Value>().unwrap()),
            Err(e) => Err(e),
        }
    }

    fn code(&self, cmd: &str, args: Value) -> String {
        let err = self.call(cmd, args).expect_err(cmd);
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
        err["code"].as_str().unwrap().to_owned()
    }
}

/// A desk whose first run is done with the demo on `repo`, its host started in-process; and
/// that state.
fn demo_desk(data: &Path, repo: &TestRepo) -> (Desk, Value) {
    let d = desk(env(data, memory_keychain(), 0));
    d.call("choose_repository", json!({"path": repo.path}))
        .unwrap();
    d.call("set_demo", json!({"on": true})).unwrap();
    let state = d.call("start_host", json!({})).unwrap();
    assert_eq!(state["mode"], "in_process", "{state}");
    (d, state)
}

fn memory_keychain() -> Keychain {
    Keychain::Memory(Arc::new(Mutex::new(None)))
}

fn status(origin: &str, key: &str) -> Value {
    let out = std::process::Command::new("curl")
        .args(["-sf", "-H", &format!("Authorization: Bearer {key}")])
        .arg(format!("{origin}/status"))
        .output()
        .unwrap();
    assert!(out.status.success(), "GET {origin}/status failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn first_run_with_the_demo_then_pause_and_resume() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let d = desk(env(data.path(), memory_keychain(), 0));

    let state = d.call("get_state", json!({})).unwrap();
    assert_eq!(state["mode"], "setup");
    assert_eq!(state["connection"], Value::Null);

    // Bad input changes nothing.
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(
        d.code("choose_repository", json!({"path": plain.path()})),
        "not_a_git_repo"
    );
    assert_eq!(
        d.code("choose_repository", json!({"path": "/no/such/folder"})),
        "not_a_git_repo"
    );
    let empty = TestRepo::empty();
    assert_eq!(
        d.code("choose_repository", json!({"path": empty.path})),
        "not_a_git_repo"
    );
    assert_eq!(d.code("start_host", json!({})), "setup_incomplete");

    let state = d
        .call("choose_repository", json!({"path": repo.path.join("src")}))
        .unwrap();
    let top = repo.path.canonicalize().unwrap();
    assert_eq!(state["repos"], json!([top.display().to_string()]));
    // Still no key and no demo.
    assert_eq!(d.code("start_host", json!({})), "setup_incomplete");
    assert_eq!(
        d.code(
            "save_api_key",
            json!({"key": "not a key", "place": "keychain"})
        ),
        "invalid_api_key"
    );
    d.call("set_demo", json!({"on": true})).unwrap();
    assert!(data.path().join("desktop.json").exists());

    let state = d.call("start_host", json!({})).unwrap();
    assert_eq!(state["mode"], "in_process", "{state}");
    let origin = state["connection"]["origin"].as_str().unwrap().to_owned();
    let key = state["connection"]["key"].as_str().unwrap().to_owned();
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    let s = status(&origin, &key);
    assert_eq!(s["demo"], true);
    assert_eq!(s["repos"].as_array().unwrap().len(), 1);

    // The host's own pairing and device functions, the same the HTTP routes call.
    let code = d.call("create_pairing_code", json!({})).unwrap();
    let shown = code["code"].as_str().unwrap();
    assert_eq!(shown.replace('-', "").len(), 12, "{shown}");
    assert!(code["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    assert!(code["links"][0]
        .as_str()
        .unwrap()
        .ends_with(&format!("#/pair?code={shown}")));
    assert_eq!(
        d.call("list_devices", json!({})).unwrap(),
        json!({"devices": []})
    );
    assert_eq!(d.code("revoke_device", json!({"id": "nope"})), "not_found");
    assert_eq!(
        d.code("open_worktree", json!({"sessionId": "nope"})),
        "not_found"
    );

    let state = d.call("pause_host", json!({})).unwrap();
    assert_eq!(state["mode"], "paused");
    assert_eq!(state["tray"], "paused");
    assert_eq!(state["connection"], Value::Null);
    assert!(
        std::net::TcpStream::connect(origin.trim_start_matches("http://")).is_err(),
        "a paused host listens nowhere"
    );
    // The host API's commands answer with the API's codes: no host here to ask.
    assert_eq!(d.code("create_pairing_code", json!({})), "conflict");

    // Paused survives a restart of the app; resuming starts the host again.
    let rt = tokio::runtime::Runtime::new().unwrap();
    drop(d);
    let again = desk(env(data.path(), memory_keychain(), 0));
    let state = rt.block_on(again.backend.launch());
    assert_eq!(state.mode, arcbench_desktop::backend::HostMode::Paused);
    let state = again.call("start_host", json!({})).unwrap();
    assert_eq!(state["mode"], "in_process", "{state}");
    let origin = state["connection"]["origin"].as_str().unwrap();
    assert_eq!(
        status(origin, state["connection"]["key"].as_str().unwrap())["demo"],
        true
    );
    rt.block_on(again.backend.shutdown());
}

#[test]
fn a_host_already_running_on_the_data_dir_is_attached_to_not_duplicated() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let environment = env(data.path(), memory_keychain(), 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The "service": the same host `arcbench serve` runs.
    let (service, origin) = rt.block_on(async {
        let config = arcbench_host::resolve(Settings {
            repos: vec![repo.path.clone()],
            demo: true,
            ..environment.base.clone()
        })
        .unwrap();
        let host = Arc::new(arcbench_host::Host::start(config).await.unwrap());
        let listeners = arcbench_server::bind(&host).await.unwrap();
        let origin = listeners.urls()[0].clone();
        tokio::spawn(arcbench_server::serve(
            host.clone(),
            listeners,
            std::future::pending(),
        ));
        (host, origin)
    });
    let d = desk(environment);
    let state = rt.block_on(d.backend.launch());
    assert_eq!(
        state.mode,
        arcbench_desktop::backend::HostMode::Attached,
        "{state:?}"
    );
    let connection = state.connection.unwrap();
    assert_eq!(connection.origin, origin);
    assert_eq!(connection.key, service.api_key());
    assert_eq!(status(&connection.origin, &connection.key)["demo"], true);
    // The service is the user's to stop.
    assert_eq!(d.code("pause_host", json!({})), "attached");
    drop(d);
    rt.block_on(service.shutdown());
}

#[test]
fn a_taken_port_is_a_clear_error_and_the_app_keeps_working() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let d = desk(env(data.path(), memory_keychain(), port));
    d.call("choose_repository", json!({"path": repo.path}))
        .unwrap();
    d.call("set_demo", json!({"on": true})).unwrap();
    assert_eq!(d.code("start_host", json!({})), "port_taken");
    let state = d.call("get_state", json!({})).unwrap();
    assert_eq!(state["mode"], "failed");
    assert_eq!(state["error"]["code"], "port_taken");
    assert!(
        state["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&port.to_string()),
        "{state}"
    );
    // The data dir's lock went with the failed host: another port, chosen in the window,
    // starts it at once.
    let state = d
        .call(
            "set_host_options",
            json!({"options": {"model": null, "binds": [], "insecure_lan": false, "port": 0}}),
        )
        .unwrap();
    assert_eq!(state["mode"], "in_process", "{state}");
    assert!(!state["connection"]["origin"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":{port}")));
    drop(taken);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(d.backend.shutdown());
}

#[test]
fn host_settings_pass_the_hosts_own_rules_and_restart_it_on_them() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let (d, first) = demo_desk(data.path(), &repo);
    let saved = || -> Value {
        serde_json::from_slice(&std::fs::read(data.path().join("desktop.json")).unwrap()).unwrap()
    };
    let options = |model: Value, binds: Value, lan: bool| json!({"options": {"model": model, "binds": binds, "insecure_lan": lan, "port": null}});

    // Refused, each with its reason; nothing saved, the host untouched.
    let refused = d
        .call(
            "set_host_options",
            options(Value::Null, json!(["nowhere"]), false),
        )
        .unwrap_err();
    assert_eq!(refused["code"], "bad_request");
    assert!(refused["message"].as_str().unwrap().contains("\"nowhere\""));
    // A LAN address without the plain-HTTP consent: the host's own rule says no.
    let refused = d
        .call(
            "set_host_options",
            options(Value::Null, json!(["192.0.2.7"]), false),
        )
        .unwrap_err();
    assert_eq!(refused["code"], "config", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("192.0.2.7"));
    assert_eq!(
        d.code(
            "set_host_options",
            options(json!("two words"), json!([]), false)
        ),
        "bad_request"
    );
    assert_eq!(saved()["host"]["binds"], json!([]));
    let state = d.call("get_state", json!({})).unwrap();
    assert_eq!(
        state["connection"], first["connection"],
        "still the same host"
    );

    // Accepted: saved, and the host runs on them now.
    let state = d
        .call(
            "set_host_options",
            options(json!(" claude-haiku-4-5 "), json!(["127.0.0.1"]), false),
        )
        .unwrap();
    assert_eq!(state["mode"], "in_process", "{state}");
    assert_eq!(state["model"], "claude-haiku-4-5");
    assert_eq!(state["host"]["model"], "claude-haiku-4-5");
    assert_eq!(saved()["host"]["binds"], json!(["127.0.0.1"]));
    let origin = state["connection"]["origin"].as_str().unwrap();
    assert_eq!(
        status(origin, state["connection"]["key"].as_str().unwrap())["demo"],
        true
    );

    // And on the next launch of the app.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(d.backend.shutdown());
    drop(d);
    let again = desk(env(data.path(), memory_keychain(), 0));
    let state = rt.block_on(again.backend.launch());
    assert_eq!(state.model.as_deref(), Some("claude-haiku-4-5"));
    rt.block_on(again.backend.shutdown());
}

#[test]
fn without_a_keychain_the_key_goes_to_the_private_env_file_on_request() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let d = desk(env(data.path(), Keychain::Unavailable, 0));
    let key = "sk-ant-api03-0123456789abcdefghij";
    assert_eq!(
        d.code("save_api_key", json!({"key": key, "place": "keychain"})),
        "keychain_unavailable"
    );
    assert!(
        !data.path().join("env").exists(),
        "nothing written half-way"
    );
    let state = d
        .call("save_api_key", json!({"key": key, "place": "env_file"}))
        .unwrap();
    assert_eq!(state["api_key"]["place"], "env_file");
    assert_eq!(state["api_key"]["keychain_available"], false);
    let file = data.path().join("env");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        arcbench_host::env_file::value(&file, "ANTHROPIC_API_KEY").as_deref(),
        Some(key)
    );
}

#[test]
fn the_keychain_holds_the_key_and_no_file_does() {
    let data = tempfile::tempdir().unwrap();
    let keychain = memory_keychain();
    let d = desk(env(data.path(), keychain.clone(), 0));
    let key = "sk-ant-api03-abcdefghij0123456789";
    let state = d
        .call(
            "save_api_key",
            json!({"key": format!("  {key}\n"), "place": "keychain"}),
        )
        .unwrap();
    assert_eq!(state["api_key"]["place"], "keychain");
    assert_eq!(keychain.get().unwrap().as_deref(), Some(key));
    for entry in walk(data.path()) {
        let text = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(key),
            "{} holds the key",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// One HTTP call to the host, as a phone makes it: (status, JSON body).
fn http(method: &str, url: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-s", "-X", method, "-w", "\n%{http_code}"])
        .args(["-H", &format!("Authorization: Bearer {key}")]);
    if let Some(body) = body {
        cmd.args([
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
        ]);
    }
    let out = cmd.arg(url).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (
        status.parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// The host's API through the app's generated commands and through HTTP, side by side on the same
/// in-process host: the same answers, the same error codes, one prompt per client id across both.
#[test]
fn the_api_answers_the_same_through_the_apps_commands_and_http() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let (d, state) = demo_desk(data.path(), &repo);
    let origin = state["connection"]["origin"].as_str().unwrap().to_owned();
    let key = state["connection"]["key"].as_str().unwrap().to_owned();
    let get = |path: &str| http("GET", &format!("{origin}{path}"), &key, None);
    let send = |method: &str, path: &str, body: Value| {
        http(method, &format!("{origin}{path}"), &key, Some(body))
    };

    // Every operation is a command (missing arguments are refused by the command, not unknown).
    for name in arcbench_host::api::OPERATIONS {
        if let Err(e) = d.call(name, json!({})) {
            let text = e.to_string();
            assert!(!text.contains("not found"), "{name}: {text}");
        }
    }

    let by_ipc = d
        .call("create_session", json!({"req": {"title": "over IPC"}}))
        .unwrap();
    let (status, by_http) = send("POST", "/sessions", json!({"title": "over HTTP"}));
    assert_eq!(status, 201);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&by_ipc), keys(&by_http), "one Session shape");
    let id = by_ipc["id"].as_str().unwrap().to_owned();

    // Reads: the same values.
    let same = |cmd: &str, args: Value, path: &str| {
        let ipc = d.call(cmd, args).unwrap();
        let (status, body) = get(path);
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(ipc, body, "{cmd} vs GET {path}");
    };
    same("list_sessions", json!({}), "/sessions");
    same(
        "session_detail",
        json!({"id": id}),
        &format!("/sessions/{id}"),
    );
    same(
        "snapshot",
        json!({"id": id}),
        &format!("/sessions/{id}/snapshot"),
    );
    same("diff", json!({"id": id}), &format!("/sessions/{id}/diff"));
    same(
        "history",
        json!({"id": id}),
        &format!("/sessions/{id}/history"),
    );
    same(
        "list_prompts",
        json!({"id": id}),
        &format!("/sessions/{id}/prompts"),
    );
    same("budget", json!({}), "/budget");
    same("usage", json!({}), "/usage");
    same("list_devices", json!({}), "/devices");
    same(
        "list_events",
        json!({"query": {"since": 0}}),
        "/events?since=0",
    );

    // Errors: the same codes.
    let code_of = |cmd: &str, args: Value| d.call(cmd, args).unwrap_err()["code"].clone();
    assert_eq!(code_of("diff", json!({"id": "nope"})), "not_found");
    assert_eq!(get("/sessions/nope/diff").1["code"], "not_found");
    let stale = json!({"ids": ["h-nope"]});
    let ipc_stale = code_of("approve_hunks", json!({"id": id, "req": stale}));
    let http_stale = send(
        "POST",
        &format!("/sessions/{id}/hunks/approve"),
        stale.clone(),
    )
    .1;
    assert_eq!(ipc_stale, http_stale["code"]);
    assert_eq!(
        code_of("revision_preview", json!({"id": id})),
        get(&format!("/sessions/{id}/revise")).1["code"]
    );
    let empty = json!({"text": "  ", "client_id": "c-empty"});
    assert_eq!(
        code_of("submit_prompt", json!({"id": id, "req": empty})),
        send("POST", &format!("/sessions/{id}/prompts"), empty.clone()).1["code"]
    );

    // Writes through one are seen through the other; a client id is one prompt across both.
    let limits = json!({"session_limit_usd": 5.0, "daily_limit_usd": null});
    let set = d.call("set_budget", json!({"budget": limits})).unwrap();
    assert_eq!(get("/budget").1, set);
    let prompt = json!({"text": "Write a note", "client_id": "c-both"});
    let first = d
        .call("submit_prompt", json!({"id": id, "req": prompt}))
        .unwrap();
    assert_eq!(first["created"], true);
    let (status, again) = send("POST", &format!("/sessions/{id}/prompts"), prompt.clone());
    assert_eq!(status, 200, "seen before: {again}");
    assert_eq!(again["id"], first["prompt"]["id"]);
    let repeat = d
        .call("submit_prompt", json!({"id": id, "req": prompt}))
        .unwrap();
    assert_eq!(repeat["created"], false);
    assert_eq!(repeat["prompt"]["id"], first["prompt"]["id"]);

    // The turn runs; both see it end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let prompts = d.call("list_prompts", json!({"id": id})).unwrap();
        let state = prompts["prompts"][0]["state"].clone();
        if state == "done" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the prompt did not finish: {prompts}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    same(
        "list_prompts",
        json!({"id": id}),
        &format!("/sessions/{id}/prompts"),
    );
    same("diff", json!({"id": id}), &format!("/sessions/{id}/diff"));

    let code = d.call("create_pairing_code", json!({})).unwrap();
    assert_eq!(code["code"].as_str().unwrap().replace('-', "").len(), 12);
    let deleted = d
        .call(
            "delete_session",
            json!({"id": by_http["id"], "options": {"delete_branch": true, "force": false}}),
        )
        .unwrap();
    assert_eq!(deleted, json!({"deleted": true, "branch_deleted": true}));
    assert_eq!(
        get(&format!("/sessions/{}", by_http["id"].as_str().unwrap())).1["code"],
        "not_found"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(d.backend.shutdown());
}

/// The window's event feed over IPC: replay then live, in order, each once; ended with the
/// WebSocket's close codes (bad since, unfollowed, host paused).
#[test]
fn the_event_feed_over_ipc_replays_then_follows_and_says_how_it_ended() {
    use arcbench_desktop::backend::FeedMessage;
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let (d, _) = demo_desk(data.path(), &repo);
    let first = d
        .call("create_session", json!({"req": {"title": "before"}}))
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let follow = |since: u64| {
        let (tx, rx) = std::sync::mpsc::channel::<FeedMessage>();
        let id = rt
            .block_on(d.backend.follow_events(since, move |m| tx.send(m).is_ok()))
            .unwrap();
        (id, rx)
    };
    let next = |rx: &std::sync::mpsc::Receiver<FeedMessage>| {
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("a feed message")
    };

    // Replayed from 0: the first session's creation; then live: the second's.
    let (id, rx) = follow(0);
    let mut seqs = Vec::new();
    let mut titles = Vec::new();
    d.call("create_session", json!({"req": {"title": "after"}}))
        .unwrap();
    while titles.len() < 2 {
        match next(&rx) {
            FeedMessage::Event { event } => {
                seqs.push(event.seq);
                if let shared_protocol::EventBody::SessionCreated { session } = &event.body {
                    titles.push(session.title.clone());
                }
            }
            FeedMessage::Closed { code, reason } => panic!("closed {code}: {reason}"),
        }
    }
    assert_eq!(titles, ["before", "after"], "{first}");
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "gapless: {seqs:?}"
    );
    d.backend.unfollow_events(id);
    loop {
        if let FeedMessage::Closed { code, .. } = next(&rx) {
            assert_eq!(code, 1000);
            break;
        }
    }

    // A since from the future: the WebSocket's 4400.
    let (_, rx) = follow(1_000_000);
    assert!(matches!(next(&rx), FeedMessage::Closed { code: 4400, .. }));

    // Pausing the host ends every feed (1001), and frees the host.
    let (_, rx) = follow(*seqs.last().unwrap());
    d.call("pause_host", json!({})).unwrap();
    loop {
        if let FeedMessage::Closed { code, .. } = next(&rx) {
            assert_eq!(code, 1001);
            break;
        }
    }
    assert_eq!(
        rt.block_on(d.backend.follow_events(0, |_| true))
            .unwrap_err()
            .code,
        shared_protocol::ErrorCode::Conflict
    );
}
