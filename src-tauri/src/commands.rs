//! Tauri commands: the app's own (set-up, pause, settings, worktree) over [`Backend`], and the
//! host's API, one command per operation, generated from `arcbench_host::api_operations!`: each
//! calls the same host function its HTTP route calls, and fails with the API's `{code, message}`.
//! Typed with tauri-specta; the TypeScript bindings are generated and checked by a test.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shared_protocol::{ApiError, EventsQuery};
use specta::Type;
use tauri::{AppHandle, Runtime, State};

use crate::backend::{Backend, DesktopState, FeedMessage, HostOptions};
use crate::error::AppError;
use crate::keychain::KeyPlace;

type Shared<'a> = State<'a, Arc<Backend>>;

/// The app's state changed (mode, tray, settings, connection).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct DesktopChanged(pub DesktopState);

/// Show this session (a notification or the tray asked for it).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct OpenSession {
    pub session_id: String,
}

/// Show the pairing screen (the tray's "Pair a device…").
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct ShowPairing;

#[tauri::command]
#[specta::specta]
pub async fn get_state(backend: Shared<'_>) -> Result<DesktopState, AppError> {
    Ok(backend.state())
}

#[tauri::command]
#[specta::specta]
pub async fn choose_repository(
    backend: Shared<'_>,
    path: String,
) -> Result<DesktopState, AppError> {
    let backend: Arc<Backend> = backend.inner().clone();
    backend.choose_repository(path).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_repository(
    backend: Shared<'_>,
    path: String,
) -> Result<DesktopState, AppError> {
    backend.remove_repository(path).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_api_key(
    backend: Shared<'_>,
    key: String,
    place: KeyPlace,
) -> Result<DesktopState, AppError> {
    backend.save_api_key(key, place).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_demo(backend: Shared<'_>, on: bool) -> Result<DesktopState, AppError> {
    backend.set_demo(on).await
}

/// The host's model, addresses and port; a running in-process host restarts on them.
#[tauri::command]
#[specta::specta]
pub async fn set_host_options(
    backend: Shared<'_>,
    options: HostOptions,
) -> Result<DesktopState, AppError> {
    let backend: Arc<Backend> = backend.inner().clone();
    backend.set_host_options(options).await
}

/// Finishes the first run, or resumes a paused host.
#[tauri::command]
#[specta::specta]
pub async fn start_host(backend: Shared<'_>) -> Result<DesktopState, AppError> {
    let backend: Arc<Backend> = backend.inner().clone();
    backend.start().await
}

#[tauri::command]
#[specta::specta]
pub async fn pause_host(backend: Shared<'_>) -> Result<DesktopState, AppError> {
    backend.pause().await
}

#[tauri::command]
#[specta::specta]
pub async fn set_autostart<R: Runtime>(
    app: AppHandle<R>,
    backend: Shared<'_>,
    on: bool,
) -> Result<DesktopState, AppError> {
    crate::platform::set_autostart(&app, on)?;
    Ok(backend.set_autostart_flag(on).await)
}

/// Opens a session's worktree in the user's file manager (or the editor the OS picks).
#[tauri::command]
#[specta::specta]
pub async fn open_worktree<R: Runtime>(
    app: AppHandle<R>,
    backend: Shared<'_>,
    session_id: String,
) -> Result<(), AppError> {
    let dir = backend.worktree(session_id).await?;
    crate::platform::open_folder(&app, &dir)
}

/// The host's event feed over IPC, the WebSocket's twin for a host inside the app: events after
/// `query.since` on `channel` (subscribe, then replay), then its close code. Answers the feed's id.
#[tauri::command]
#[specta::specta]
pub async fn follow_events(
    backend: Shared<'_>,
    query: EventsQuery,
    channel: tauri::ipc::Channel<FeedMessage>,
) -> Result<u32, ApiError> {
    let backend: Arc<Backend> = backend.inner().clone();
    backend
        .follow_events(query.since, move |m| channel.send(m).is_ok())
        .await
}

/// Ends a feed `follow_events` started.
#[tauri::command]
#[specta::specta]
pub async fn unfollow_events(backend: Shared<'_>, id: u32) -> Result<(), ApiError> {
    backend.unfollow_events(id);
    Ok(())
}

/// Generates one command per host API operation, and `specta_builder!`, which registers the
/// app's own commands and all of those. (A macro defines the builder macro because only here is
/// the operations list spelled out; `collect_commands!` cannot name an outer generic runtime.)
macro_rules! with_api_commands {
    (; $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            #[tauri::command]
            #[specta::specta]
            pub async fn $name(backend: Shared<'_>, $($arg: $ty),*) -> Result<$ret, ApiError> {
                backend.api_host().await?.$name($($arg),*).await.map_err(|e| e.to_api())
            }
        )*

        /// The tauri-specta builder for runtime `$r`: the app's commands and the host API's.
        #[macro_export]
        macro_rules! specta_builder {
            ($r:ty) => {
                tauri_specta::Builder::<$r>::new()
                    .commands(tauri_specta::collect_commands![
                        $crate::commands::get_state,
                        $crate::commands::choose_repository,
                        $crate::commands::remove_repository,
                        $crate::commands::save_api_key,
                        $crate::commands::set_demo,
                        $crate::commands::set_host_options,
                        $crate::commands::start_host,
                        $crate::commands::pause_host,
                        $crate::commands::set_autostart::<$r>,
                        $crate::commands::open_worktree::<$r>,
                        $crate::commands::follow_events,
                        $crate::commands::unfollow_events,
                        $($crate::commands::$name,)*
                    ])
                    .events(tauri_specta::collect_events![
                        $crate::commands::DesktopChanged,
                        $crate::commands::OpenSession,
                        $crate::commands::ShowPairing,
                    ])
            };
        }
    };
}

arcbench_host::api_operations!(with_api_commands);

/// Where the generated bindings live, and their header.
pub const BINDINGS: &str = "../src-ui/src/lib/desktop/bindings.ts";

pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default().header(
        "// Generated from src-tauri's commands (tauri-specta). Do not edit by hand:\n\
         // UPDATE_BINDINGS=1 cargo test -p arcbench-desktop --lib bindings\n",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_are_current() {
        arcbench_webview::bindings::check(
            specta_builder!(tauri::Wry),
            super::typescript(),
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(super::BINDINGS),
            "UPDATE_BINDINGS=1 cargo test -p arcbench-desktop --lib bindings",
        );
    }
}
