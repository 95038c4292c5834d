//! The ArcBench phone app: src-ui's remote (the PWA's screens) inside a Tauri 2 shell, adding
//! what a browser does badly — several paired hosts with their keys in the platform's secure
//! storage, an outbox in the app's own files, QR pairing by camera, haptics and local
//! notifications. Its pages come from the app itself, so the microphone and storage work even
//! when a host is reached over plain WireGuard without HTTPS. The same library runs on Linux,
//! macOS and Windows as a desktop preview (`arcbench-remote`), which is what tests drive.

#[macro_use]
pub mod commands;
pub mod error;
mod files;
pub mod hosts;
pub mod notices;
pub mod secrets;

use std::sync::Arc;

use tauri::Manager;

use arcbench_activity::Notice;
use hosts::Remote;
use notices::{Notices, OpenSession, Show};
use secrets::Secrets;
use tauri_specta::Event as _;

pub const MAIN_WINDOW: &str = "main";

/// Tells the page (src-ui's `app` build, shared with the desktop app) which shell it runs in,
/// before any of its scripts.
const SHELL_MARK: &str = "window.__ARCBENCH_SHELL__ = 'remote';";

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let specta = remote_specta_builder!(tauri::Wry);
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(
            tauri::plugin::Builder::<tauri::Wry>::new("arcbench-shell")
                .js_init_script(SHELL_MARK.to_owned())
                .build(),
        )
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            let dir = app.path().app_data_dir()?;
            app.manage(Arc::new(Remote::open(
                dir.clone(),
                Secrets::detect(dir.clone()),
            )));
            app.manage(Arc::new(Notices::new(&dir, notify(app.handle()))));
            platform::setup(app.handle())?;
            Ok(())
        });
    platform::plugins(builder)
        .run(tauri::generate_context!())
        .expect("the ArcBench app could not start");
}

/// Local notifications through `arcbench_notify` (the notification server on Linux, the plugin
/// elsewhere), shown in order by one task. A tap that comes back to the app (the preview; on a
/// phone the page hears it from the plugin) brings the window up and tells the page to open the
/// session.
fn notify<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> Show {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Notice, Option<OpenSession>)>();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let opened = app.clone();
        let shown = arcbench_notify::Notifications::new(&app, move |target: OpenSession| {
            // On a phone the system brings the app up for the tap; the preview's window is ours.
            #[cfg(desktop)]
            if let Some(window) = opened.get_webview_window(MAIN_WINDOW) {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
            if let Err(e) = target.emit(&opened) {
                tracing::warn!("the page was not told to open a session: {e}");
            }
        })
        .await;
        while let Some((notice, target)) = rx.recv().await {
            shown.show(&notice, target).await;
        }
    });
    Arc::new(move |n, target| {
        let _ = tx.send((n.clone(), target));
    })
}

/// The desktop preview: a phone-sized window made here, with the microphone on.
#[cfg(desktop)]
mod platform {
    use tauri::{AppHandle, Builder, Runtime, WebviewUrl, WebviewWindowBuilder};

    pub fn plugins<R: Runtime>(builder: Builder<R>) -> Builder<R> {
        builder
    }

    pub fn setup<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
        let window = WebviewWindowBuilder::new(app, super::MAIN_WINDOW, WebviewUrl::default())
            .title("ArcBench")
            .inner_size(400.0, 820.0)
            .min_inner_size(320.0, 520.0)
            .on_permission_request(|webview, kind| {
                arcbench_webview::media::permission(webview.url().ok().as_ref(), kind)
            })
            .build()?;
        arcbench_webview::media::enable(&window);
        Ok(())
    }
}

/// iOS and Android: the window comes from `tauri.{ios,android}.conf.json`; the camera scanner
/// and haptics are plugins the page calls.
#[cfg(mobile)]
mod platform {
    use tauri::{AppHandle, Builder, Runtime};

    pub fn plugins<R: Runtime>(builder: Builder<R>) -> Builder<R> {
        builder
            .plugin(tauri_plugin_barcode_scanner::init())
            .plugin(tauri_plugin_haptics::init())
    }

    pub fn setup<R: Runtime>(_app: &AppHandle<R>) -> tauri::Result<()> {
        Ok(())
    }
}
