//! The phone app's commands through Tauri's mock runtime (no display, no phone): pairing with
//! several hosts, their keys and outboxes kept apart and on disk across a restart of the app,
//! bad input refused with `{code, message}` and nothing changed half-way.

use std::path::Path;
use std::sync::Arc;

use std::sync::Mutex;

use arcbench_activity::Notice;
use arcbench_mobile::hosts::Remote;
use arcbench_mobile::notices::{Notices, OpenSession};
use arcbench_mobile::secrets::Secrets;
use serde_json::{json, Value};
use shared_protocol::{BudgetScope, Event, EventBody, PromptState, Usage};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

/// What the app showed as local notifications, and what a tap on each opens.
type Shown = Arc<Mutex<Vec<(Notice, Option<OpenSession>)>>>;

struct Phone {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    shown: Shown,
}

/// The app over `dir`, keys in files there (as on Android, or without a keychain).
fn phone(dir: &Path) -> Phone {
    let remote = Arc::new(Remote::open(dir, Secrets::Files(dir.join("keys.json"))));
    let specta = arcbench_mobile::remote_specta_builder!(MockRuntime);
    let shown: Shown = Arc::default();
    let record = shown.clone();
    let notices = Arc::new(Notices::new(
        dir,
        Arc::new(move |n: &Notice, target: Option<OpenSession>| {
            record.lock().unwrap().push((n.clone(), target))
        }),
    ));
    let app = mock_builder()
        .manage(remote)
        .manage(notices)
        .invoke_handler(specta.invoke_handler())
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");
    Phone {
        _app: app,
        window,
        shown,
    }
}

impl Phone {
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
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
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// The error's code; its message must say something.
    fn code(&self, cmd: &str, args: Value) -> String {
        let err = self.call(cmd, args).expect_err(cmd);
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
        err["code"].as_str().unwrap().to_owned()
    }
}

fn entry(client_id: &str, origin: &str, text: &str, at: f64) -> Value {
    json!({
        "client_id": client_id, "session_id": "s1", "origin": origin, "text": text,
        "created_at": at, "state": "queued", "error": null, "attempts": 0
    })
}

#[test]
fn two_hosts_each_with_its_key_and_outbox_and_all_of_it_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let p = phone(dir.path());
    assert_eq!(
        p.ok("hosts", json!({})),
        json!({"hosts": [], "selected": null})
    );
    let platform = p.ok("platform", json!({}));
    assert_eq!(platform["mobile"], false);
    assert_eq!(platform["scanner"], false);
    assert_eq!(platform["key_place"], "app_storage");

    let desk = p.ok(
        "add_host",
        json!({"host": {"origin": "http://100.101.102.103:8000/", "key": "key-desk", "device_id": "dev-1", "name": null}}),
    );
    assert_eq!(desk["origin"], "http://100.101.102.103:8000");
    assert_eq!(desk["name"], "100.101.102.103");
    assert_eq!(desk["key_place"], "app_storage");
    let laptop = p.ok(
        "add_host",
        json!({"host": {"origin": "https://laptop.tail1234.ts.net", "key": "key-laptop", "device_id": null, "name": "Laptop"}}),
    );
    let (desk_id, laptop_id) = (desk["id"].as_str().unwrap(), laptop["id"].as_str().unwrap());
    assert_ne!(desk_id, laptop_id);
    let state = p.ok("hosts", json!({}));
    assert_eq!(state["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(state["selected"], laptop_id, "a new pairing is shown");

    assert_eq!(
        p.ok("host_credentials", json!({"id": desk_id})),
        json!({"origin": "http://100.101.102.103:8000", "key": "key-desk", "device_id": "dev-1"})
    );
    p.ok("outbox_put", json!({"hostId": desk_id, "entry": entry("c2", "http://100.101.102.103:8000", "second", 2.0)}));
    p.ok("outbox_put", json!({"hostId": desk_id, "entry": entry("c1", "http://100.101.102.103:8000", "first", 1.0)}));
    p.ok("outbox_put", json!({"hostId": laptop_id, "entry": entry("c3", "https://laptop.tail1234.ts.net", "elsewhere", 3.0)}));
    // An update of the same prompt replaces it.
    let mut sending = entry("c1", "http://100.101.102.103:8000", "first", 1.0);
    sending["state"] = json!("sending");
    sending["attempts"] = json!(1);
    p.ok("outbox_put", json!({"hostId": desk_id, "entry": sending}));
    p.ok("select_host", json!({"id": desk_id}));
    drop(p);

    // The app starts again (a kill, a reboot): everything is where it was.
    let p = phone(dir.path());
    let state = p.ok("hosts", json!({}));
    assert_eq!(state["selected"], desk_id);
    let desk_box = p.ok("outbox_all", json!({"hostId": desk_id}));
    let texts: Vec<_> = desk_box
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].clone())
        .collect();
    assert_eq!(texts, vec![json!("first"), json!("second")], "oldest first");
    assert_eq!(desk_box[0]["state"], "sending");
    assert_eq!(desk_box[0]["attempts"], 1);
    assert_eq!(
        p.ok("outbox_all", json!({"hostId": laptop_id}))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Sent: gone from its host's outbox only.
    p.ok(
        "outbox_remove",
        json!({"hostId": desk_id, "clientId": "c1"}),
    );
    p.ok(
        "outbox_remove",
        json!({"hostId": desk_id, "clientId": "c1"}),
    );
    assert_eq!(
        p.ok("outbox_all", json!({"hostId": desk_id}))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Re-pairing the same host (after a revoke) keeps its id, name and queued prompts.
    let again = p.ok(
        "add_host",
        json!({"host": {"origin": "http://100.101.102.103:8000", "key": "key-desk-2", "device_id": "dev-9", "name": null}}),
    );
    assert_eq!(again["id"], desk_id);
    assert_eq!(again["name"], "100.101.102.103");
    assert_eq!(
        p.ok("host_credentials", json!({"id": desk_id}))["key"],
        "key-desk-2"
    );
    assert_eq!(
        p.ok("outbox_all", json!({"hostId": desk_id}))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let renamed = p.ok(
        "rename_host",
        json!({"id": laptop_id, "name": "  Work laptop "}),
    );
    assert_eq!(renamed["name"], "Work laptop");

    // Forgetting one host drops its key and prompts; the other is untouched and shown.
    let state = p.ok("forget_host", json!({"id": desk_id}));
    assert_eq!(state["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(state["selected"], laptop_id);
    assert_eq!(
        p.code("host_credentials", json!({"id": desk_id})),
        "not_found"
    );
    assert_eq!(
        p.code("outbox_all", json!({"hostId": desk_id})),
        "not_found"
    );
    let keys = std::fs::read_to_string(dir.path().join("keys.json")).unwrap();
    assert!(
        !keys.contains("key-desk"),
        "the forgotten key is gone: {keys}"
    );
    assert!(!dir
        .path()
        .join("outbox")
        .join(format!("{desk_id}.json"))
        .exists());
    assert_eq!(
        p.ok("host_credentials", json!({"id": laptop_id}))["key"],
        "key-laptop"
    );
    assert_eq!(
        p.ok("outbox_all", json!({"hostId": laptop_id}))
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = phone(dir.path());
    for origin in [
        "",
        "desk:8000",
        "ftp://desk",
        "http://desk:8000/app/",
        "http://user:pw@desk:8000",
        "http://desk:8000/?key=x",
        "javascript:alert(1)",
    ] {
        assert_eq!(
            p.code(
                "add_host",
                json!({"host": {"origin": origin, "key": "k", "device_id": null, "name": null}})
            ),
            "bad_request",
            "{origin:?}"
        );
    }
    for key in ["", "   ", "two words", "line\nbreak"] {
        assert_eq!(
            p.code("add_host", json!({"host": {"origin": "http://desk:8000", "key": key, "device_id": null, "name": null}})),
            "bad_request",
            "{key:?}"
        );
    }
    assert_eq!(
        p.code("add_host", json!({"host": {"origin": "http://desk:8000", "key": "k", "device_id": null, "name": "x".repeat(61)}})),
        "bad_request"
    );
    assert_eq!(
        p.ok("hosts", json!({})),
        json!({"hosts": [], "selected": null})
    );
    assert!(
        !dir.path().join("keys.json").exists(),
        "no key kept for a refused pairing"
    );

    let host = p.ok("add_host", json!({"host": {"origin": "http://desk:8000", "key": "k", "device_id": null, "name": null}}));
    let id = host["id"].as_str().unwrap();
    assert_eq!(p.code("select_host", json!({"id": "nope"})), "not_found");
    assert_eq!(p.code("forget_host", json!({"id": "nope"})), "not_found");
    assert_eq!(
        p.code("rename_host", json!({"id": id, "name": "  "})),
        "bad_request"
    );
    assert_eq!(
        p.code("rename_host", json!({"id": id, "name": "a\nb"})),
        "bad_request"
    );
    // An outbox entry for another host, a bad client id, no session: refused, outbox unchanged.
    assert_eq!(
        p.code(
            "outbox_put",
            json!({"hostId": id, "entry": entry("c1", "http://other:8000", "t", 1.0)})
        ),
        "bad_request"
    );
    assert_eq!(
        p.code(
            "outbox_put",
            json!({"hostId": id, "entry": entry("../../etc", "http://desk:8000", "t", 1.0)})
        ),
        "bad_request"
    );
    let mut no_session = entry("c1", "http://desk:8000", "t", 1.0);
    no_session["session_id"] = json!("");
    assert_eq!(
        p.code("outbox_put", json!({"hostId": id, "entry": no_session})),
        "bad_request"
    );
    assert_eq!(
        p.code(
            "outbox_put",
            json!({"hostId": "nope", "entry": entry("c1", "http://desk:8000", "t", 1.0)})
        ),
        "not_found"
    );
    assert_eq!(p.ok("outbox_all", json!({"hostId": id})), json!([]));
    // A malformed entry never reaches the command.
    assert!(p
        .call(
            "outbox_put",
            json!({"hostId": id, "entry": {"client_id": "c1"}})
        )
        .is_err());
}

#[test]
fn a_damaged_host_list_is_an_error_not_an_empty_list() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hosts.json"), b"{ not json").unwrap();
    let p = phone(dir.path());
    assert_eq!(p.code("hosts", json!({})), "storage");
    // And pairing does not overwrite it (the user's other hosts may be recoverable).
    assert_eq!(
        p.code("add_host", json!({"host": {"origin": "http://desk:8000", "key": "k", "device_id": null, "name": null}})),
        "storage"
    );
    assert_eq!(
        std::fs::read(dir.path().join("hosts.json")).unwrap(),
        b"{ not json"
    );
}

#[cfg(unix)]
#[test]
fn keys_and_lists_are_private_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = phone(dir.path());
    p.ok("add_host", json!({"host": {"origin": "http://desk:8000", "key": "k", "device_id": null, "name": null}}));
    for f in ["keys.json", "hosts.json"] {
        let mode = std::fs::metadata(dir.path().join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
}

fn event(seq: u64, session: Option<&str>, body: EventBody) -> Value {
    serde_json::to_value(Event {
        seq,
        ts: "2026-11-26T10:00:00Z".into(),
        session_id: session.map(str::to_owned),
        body,
    })
    .unwrap()
}

#[test]
fn live_events_become_local_notifications_but_not_about_the_session_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let p = phone(dir.path());
    let host = p.ok(
        "add_host",
        json!({"host": {"origin": "http://desk:8000", "key": "k", "device_id": null, "name": null}}),
    );
    let id = host["id"].as_str().unwrap();
    let titles = json!([{"id": "s1", "title": "Rate limits"}, {"id": "s2", "title": "Docs"}]);
    let finished = |seq, session: &str| {
        event(
            seq,
            Some(session),
            EventBody::PromptFinished {
                prompt_id: format!("p{seq}"),
                state: PromptState::Done,
                usage: Usage::default(),
                reason: None,
            },
        )
    };
    let diff = |seq, session: &str, hunks| {
        event(
            seq,
            Some(session),
            EventBody::DiffUpdated {
                files: 1,
                hunks,
                approved: 0,
            },
        )
    };

    // A turn on s1 leaving two hunks: one notification, naming the session and the hunks.
    let shown = p.ok(
        "note_events",
        json!({"hostId": id, "titles": titles, "events": [diff(1, "s1", 2), finished(2, "s1")], "looking": null}),
    );
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown[0]["title"], "Turn finished");
    assert_eq!(shown[0]["session_id"], "s1");
    assert_eq!(shown[0]["body"], "Rate limits: 2 hunks await review");
    assert_eq!(
        p.shown.lock().unwrap().len(),
        1,
        "shown through the notifier"
    );
    assert_eq!(
        p.shown.lock().unwrap()[0].1,
        Some(OpenSession {
            host_id: id.to_owned(),
            session_id: "s1".into()
        }),
        "a tap opens that host's session"
    );

    // The user looks at s2: its turn says nothing; a budget warning still does.
    let budget = event(
        4,
        None,
        EventBody::BudgetWarning {
            scope: BudgetScope::Daily,
            spent_usd: 8.5,
            limit_usd: 10.0,
        },
    );
    let shown = p.ok(
        "note_events",
        json!({"hostId": id, "titles": [], "events": [finished(3, "s2"), budget], "looking": "s2"}),
    );
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown[0]["title"], "Budget warning");
    assert_eq!(shown[0]["body"], "Today's budget: $8.50 of $10.00 spent");

    // Events that are nothing to tell: nothing shown.
    let shown = p.ok(
        "note_events",
        json!({"hostId": id, "titles": [], "events": [diff(5, "s1", 0)], "looking": null}),
    );
    assert_eq!(shown, json!([]));
    assert_eq!(p.shown.lock().unwrap().len(), 2);

    // A malformed event is refused as a whole, nothing shown.
    assert!(p
        .call(
            "note_events",
            json!({"hostId": id, "titles": [], "events": [{"seq": 1}], "looking": null})
        )
        .is_err());
    assert_eq!(p.shown.lock().unwrap().len(), 2);
}

#[test]
fn which_kinds_notify_is_this_devices_setting_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let p = phone(dir.path());
    let all = json!({"events": ["turn_finished", "needs_you", "budget"]});
    assert_eq!(
        p.ok("notice_settings", json!({})),
        all,
        "all until told otherwise"
    );

    // Budget only (given twice and out of order: kept once, in the listed order).
    let kept = p.ok(
        "set_notice_settings",
        json!({"settings": {"events": ["budget", "budget"]}}),
    );
    assert_eq!(kept, json!({"events": ["budget"]}));
    let host = p.ok(
        "add_host",
        json!({"host": {"origin": "http://desk:8000", "key": "k", "device_id": null, "name": null}}),
    );
    let id = host["id"].as_str().unwrap();
    let events = [
        event(
            1,
            Some("s1"),
            EventBody::PromptFinished {
                prompt_id: "p1".into(),
                state: PromptState::Failed,
                usage: Usage::default(),
                reason: Some("the API refused".into()),
            },
        ),
        event(
            2,
            None,
            EventBody::BudgetExceeded {
                scope: BudgetScope::Daily,
                spent_usd: 10.0,
                limit_usd: 10.0,
            },
        ),
    ];
    let shown = p.ok(
        "note_events",
        json!({"hostId": id, "titles": [], "events": events, "looking": null}),
    );
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown[0]["kind"], "budget");
    let shown = p.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].1, None, "no session: nothing to open");

    // Kept across a restart of the app; an unknown kind is refused, nothing changed.
    drop(p);
    let p = phone(dir.path());
    assert_eq!(
        p.ok("notice_settings", json!({})),
        json!({"events": ["budget"]})
    );
    assert!(p
        .call(
            "set_notice_settings",
            json!({"settings": {"events": ["everything"]}})
        )
        .is_err());
    assert_eq!(
        p.ok("notice_settings", json!({})),
        json!({"events": ["budget"]})
    );
}
