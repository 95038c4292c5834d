//! The ArcBench desktop app: a Tauri 2 tray app around the same host `arcbench serve` runs.
//! It runs the host in-process (API server included, so phones reach it while the app runs) or
//! attaches to the one already running on its data dir (the user's service), shows the
//! dashboard (src-ui's desktop layout) and tells the user, by tray icon and notification, when
//! a turn finishes, changes wait for review or a budget warns.

pub mod backend;
#[macro_use]
pub mod commands;
pub mod error;
pub mod keychain;
#[cfg(target_os = "linux")]
mod platform;
mod tray;

use std::sync::Arc;

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tauri_specta::Event as _;

use backend::{Backend, Environment, HostMode};
use commands::{DesktopChanged, OpenSession, ShowPairing};

pub const MAIN_WINDOW: &str = "main";

/// Started by the OS at login: stay in the tray, no window.
const HIDDEN_FLAG: &str = "--hidden";

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let backend = Backend::new(Environment::from_env());
    let specta = specta_builder!(tauri::Wry);
    let hidden = std::env::args().any(|a| a == HIDDEN_FLAG);
    let app = tauri::Builder::default()
        // First: a second launch hands over to the running app (which shows its window) and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main(app);
        }))
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_shell::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_FLAG]),
        ))
        .manage(backend.clone())
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            let handle = app.handle().clone();
            let items = tray::create(&handle)?;
            if !hidden {
                show_main(&handle);
            }
            let backend = backend.clone();
            tauri::async_runtime::spawn(async move {
                backend
                    .set_autostart_flag(platform::autostart_enabled(&handle))
                    .await;
                let mut states = backend.subscribe();
                let mut notices = backend.notices();
                let follow = handle.clone();
                tauri::async_runtime::spawn(async move {
                    let clicked = follow.clone();
                    let shown =
                        arcbench_notify::Notifications::new(&follow, move |session: String| {
                            show_main_at(&clicked, Some(Route::Session(&session)));
                        })
                        .await;
                    while let Ok(n) = notices.recv().await {
                        shown.show(&n, n.session_id.clone()).await;
                    }
                });
                let launched = backend.launch().await;
                tray::update(&handle, &items, &launched);
                let _ = DesktopChanged(launched).emit(&handle);
                while states.changed().await.is_ok() {
                    let state = states.borrow_and_update().clone();
                    tray::update(&handle, &items, &state);
                    let _ = DesktopChanged(state).emit(&handle);
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the dashboard keeps the app (and the host) running in the tray.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == MAIN_WINDOW {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!())
        .expect("the desktop app could not be built");
    app.run(|app, event| {
        if let tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            // The last window closing is not a reason to stop the host: only "Quit" is.
            api.prevent_exit();
        } else if let tauri::RunEvent::Exit = event {
            let backend = app.state::<Arc<Backend>>().inner().clone();
            tauri::async_runtime::block_on(backend.shutdown());
        }
    });
}

/// A screen of the dashboard the tray or a notification asks for.
#[derive(Debug, Clone, Copy)]
pub enum Route<'a> {
    Pairing,
    Session(&'a str),
}

impl Route<'_> {
    /// The dashboard's hash route (src-ui's `routes.ts`), for a window opened on it.
    fn hash(self) -> String {
        match self {
            Route::Pairing => "#/pair".into(),
            // Session ids are the host's own ([A-Za-z0-9_-]); anything else is escaped.
            Route::Session(id) => format!(
                "#/s/{}",
                id.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            ),
        }
    }
}

/// Shows (creating it if needed) and focuses the dashboard.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    show_main_at(app, None);
}

/// Shows the dashboard on `route`. An open window is told by event; a window not yet created
/// (the app started hidden at login) opens on the route, since no page listens yet.
pub fn show_main_at<R: Runtime>(app: &AppHandle<R>, route: Option<Route<'_>>) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        let _ = match route {
            Some(Route::Pairing) => ShowPairing.emit(app),
            Some(Route::Session(id)) => OpenSession {
                session_id: id.to_owned(),
            }
            .emit(app),
            None => Ok(()),
        };
        return;
    }
    let page = format!("index.html{}", route.map(Route::hash).unwrap_or_default());
    let built = WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App(page.into()))
        .title("ArcBench")
        .inner_size(1200.0, 820.0)
        .min_inner_size(420.0, 560.0)
        .on_permission_request(|webview, kind| {
            arcbench_webview::media::permission(webview.url().ok().as_ref(), kind)
        })
        .build();
    match built {
        Ok(window) => arcbench_webview::media::enable(&window),
        Err(e) => tracing::error!("cannot open the dashboard window: {e}"),
    }
}

pub(crate) fn on_tray_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        "open" => show_main(app),
        "pair" => show_main_at(app, Some(Route::Pairing)),
        "pause" => {
            let backend = app.state::<Arc<Backend>>().inner().clone();
            tauri::async_runtime::spawn(async move {
                let result = match backend.state().mode {
                    HostMode::InProcess => backend.pause().await,
                    _ => backend.start().await,
                };
                if let Err(e) = result {
                    tracing::warn!("{}", e.message);
                }
            });
        }
        "quit" => {
            let app = app.clone();
            let backend = app.state::<Arc<Backend>>().inner().clone();
            tauri::async_runtime::spawn(async move {
                backend.shutdown().await;
                app.exit(0);
            });
        }
        _ => {}
    }
}
