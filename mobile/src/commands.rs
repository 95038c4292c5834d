//! The phone app's commands: thin adapters over [`Remote`] (paired hosts, their keys and
//! outboxes) and what the platform offers. Typed with tauri-specta; the TypeScript bindings are
//! generated and checked by a test. Everything that talks to a host goes from the page over the
//! network (REST + WebSocket), exactly as in the PWA: nothing of the host API is repeated here.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::State;

use arcbench_activity::Notice;
use shared_protocol::Event;

use crate::error::{Code, RemoteError};
use crate::hosts::{HostCredentials, HostsState, NewHost, OutboxEntry, PairedHost, Remote};
use crate::notices::{NoticeSettings, Notices, SessionTitle};
use crate::secrets::KeyPlace;

type Shared<'a> = State<'a, Arc<Remote>>;

/// Disk and keychain calls can block (a keychain may wait on D-Bus): off the async workers.
async fn blocking<T: Send + 'static>(
    remote: &Shared<'_>,
    f: impl FnOnce(&Remote) -> Result<T, RemoteError> + Send + 'static,
) -> Result<T, RemoteError> {
    let remote = remote.inner().clone();
    tauri::async_runtime::spawn_blocking(move || f(&remote))
        .await
        .map_err(|e| RemoteError::new(Code::Storage, format!("the storage task failed: {e}")))?
}

/// What this build of the app can do on this device.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct Platform {
    /// `android`, `ios`, `linux`, `macos`, `windows`.
    pub os: String,
    /// A phone build (false: the desktop preview).
    pub mobile: bool,
    /// QR codes by camera (the barcode-scanner plugin); the preview takes pasted links.
    pub scanner: bool,
    /// A haptic tick on approve/reject.
    pub haptics: bool,
    /// Where new device keys go.
    pub key_place: KeyPlace,
}

#[tauri::command]
#[specta::specta]
pub async fn platform(remote: Shared<'_>) -> Result<Platform, RemoteError> {
    let mobile = cfg!(mobile);
    Ok(Platform {
        os: std::env::consts::OS.to_owned(),
        mobile,
        scanner: mobile,
        haptics: mobile,
        key_place: remote.key_place(),
    })
}

/// The paired hosts and the one shown.
#[tauri::command]
#[specta::specta]
pub async fn hosts(remote: Shared<'_>) -> Result<HostsState, RemoteError> {
    blocking(&remote, |r| r.state()).await
}

/// Keeps a pairing: the key in secure storage, the host in the list, and shows it.
#[tauri::command]
#[specta::specta]
pub async fn add_host(remote: Shared<'_>, host: NewHost) -> Result<PairedHost, RemoteError> {
    blocking(&remote, move |r| r.add(host)).await
}

/// Forgets a host on this device: its key and its unsent prompts.
#[tauri::command]
#[specta::specta]
pub async fn forget_host(
    remote: Shared<'_>,
    notices: State<'_, Arc<Notices>>,
    id: String,
) -> Result<HostsState, RemoteError> {
    let gone = id.clone();
    let state = blocking(&remote, move |r| r.forget(&id)).await?;
    notices.forget(&gone);
    Ok(state)
}

#[tauri::command]
#[specta::specta]
pub async fn select_host(remote: Shared<'_>, id: String) -> Result<HostsState, RemoteError> {
    blocking(&remote, move |r| r.select(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn rename_host(
    remote: Shared<'_>,
    id: String,
    name: String,
) -> Result<PairedHost, RemoteError> {
    blocking(&remote, move |r| r.rename(&id, &name)).await
}

/// The address and device key a page uses for one host.
#[tauri::command]
#[specta::specta]
pub async fn host_credentials(
    remote: Shared<'_>,
    id: String,
) -> Result<HostCredentials, RemoteError> {
    blocking(&remote, move |r| r.credentials(&id)).await
}

/// One host's unsent prompts, oldest first (the PWA's IndexedDB outbox, natively).
#[tauri::command]
#[specta::specta]
pub async fn outbox_all(
    remote: Shared<'_>,
    host_id: String,
) -> Result<Vec<OutboxEntry>, RemoteError> {
    blocking(&remote, move |r| r.outbox(&host_id)).await
}

/// Keeps one prompt for a host; on disk when this answers.
#[tauri::command]
#[specta::specta]
pub async fn outbox_put(
    remote: Shared<'_>,
    host_id: String,
    entry: OutboxEntry,
) -> Result<(), RemoteError> {
    blocking(&remote, move |r| r.outbox_put(&host_id, entry)).await
}

#[tauri::command]
#[specta::specta]
pub async fn outbox_remove(
    remote: Shared<'_>,
    host_id: String,
    client_id: String,
) -> Result<(), RemoteError> {
    blocking(&remote, move |r| r.outbox_remove(&host_id, &client_id)).await
}

/// A host's live events, as the page received them: a local notification for each worth one (a
/// turn finished, with the hunks awaiting review; a turn that stopped; a budget) and of a kind
/// this device wants, none about `looking` (the session on screen while the app is in front).
/// Answers what was shown.
#[tauri::command]
#[specta::specta]
pub async fn note_events(
    notices: State<'_, Arc<Notices>>,
    host_id: String,
    titles: Vec<SessionTitle>,
    events: Vec<Event>,
    looking: Option<String>,
) -> Result<Vec<Notice>, RemoteError> {
    notices.fold(&host_id, &titles, &events, looking.as_deref())
}

/// Which kinds of event notify on this device (all until the user says otherwise).
#[tauri::command]
#[specta::specta]
pub async fn notice_settings(
    notices: State<'_, Arc<Notices>>,
) -> Result<NoticeSettings, RemoteError> {
    notices.settings()
}

#[tauri::command]
#[specta::specta]
pub async fn set_notice_settings(
    notices: State<'_, Arc<Notices>>,
    settings: NoticeSettings,
) -> Result<NoticeSettings, RemoteError> {
    notices.set_settings(settings)
}

/// The tauri-specta builder for runtime `$r` (a macro: `collect_commands!` cannot name an outer
/// generic runtime).
#[macro_export]
macro_rules! remote_specta_builder {
    ($r:ty) => {
        tauri_specta::Builder::<$r>::new()
            .commands(tauri_specta::collect_commands![
                $crate::commands::platform,
                $crate::commands::hosts,
                $crate::commands::add_host,
                $crate::commands::forget_host,
                $crate::commands::select_host,
                $crate::commands::rename_host,
                $crate::commands::host_credentials,
                $crate::commands::outbox_all,
                $crate::commands::outbox_put,
                $crate::commands::outbox_remove,
                $crate::commands::note_events,
                $crate::commands::notice_settings,
                $crate::commands::set_notice_settings,
            ])
            .events(tauri_specta::collect_events![$crate::notices::OpenSession])
    };
}

/// Where the generated bindings live, and their header.
pub const BINDINGS: &str = "../src-ui/src/lib/remote/bindings.ts";

pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default().header(
        "// Generated from mobile/'s commands (tauri-specta). Do not edit by hand:\n\
         // UPDATE_BINDINGS=1 cargo test -p arcbench-mobile --lib bindings\n",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_are_current() {
        arcbench_webview::bindings::check(
            remote_specta_builder!(tauri::Wry),
            super::typescript(),
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(super::BINDINGS),
            "UPDATE_BINDINGS=1 cargo test -p arcbench-mobile --lib bindings",
        );
    }
}
