//! The microphone in the apps' webviews (voice prompts): media streams on, and the permission
//! granted by the app itself, for its own pages only — a page from anywhere else (none should
//! ever load there) gets nothing.

use tauri::webview::{PermissionKind, PermissionResponse};

/// The answer to a page's permission request: the microphone for the app's own pages, never the
/// camera (QR codes come from the scanner plugin or a pasted link), the rest as the platform says.
pub fn permission(url: Option<&tauri::Url>, kind: PermissionKind) -> PermissionResponse {
    let own = url.is_some_and(|u| u.scheme() == "tauri" || u.host_str() == Some("tauri.localhost"));
    match kind {
        PermissionKind::Microphone if own => PermissionResponse::Allow,
        PermissionKind::Microphone | PermissionKind::Camera => PermissionResponse::Deny,
        _ => PermissionResponse::Default,
    }
}

/// Turns media streams on in `window` (WebKitGTK has them off by default).
#[cfg(target_os = "linux")]
pub fn enable<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    // Tests (no sound card under Xvfb) use WebKit's own fake capture devices.
    let mock = std::env::var_os("ARCBENCH_MOCK_MICROPHONE").is_some();
    let done = window.with_webview(move |wv| {
        use webkit2gtk::{SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&wv.inner()) {
            settings.set_enable_media_stream(true);
            settings.set_enable_mock_capture_devices(mock);
        }
    });
    if let Err(e) = done {
        tracing::warn!("the microphone stays off in this window: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn enable<R: tauri::Runtime>(_window: &tauri::WebviewWindow<R>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_microphone_is_for_the_apps_own_pages_only() {
        let own: tauri::Url = "tauri://localhost/index.html".parse().unwrap();
        let windows_own: tauri::Url = "http://tauri.localhost/index.html".parse().unwrap();
        let other: tauri::Url = "https://example.com/".parse().unwrap();
        let allow = |u: &tauri::Url| {
            matches!(
                permission(Some(u), PermissionKind::Microphone),
                PermissionResponse::Allow
            )
        };
        assert!(allow(&own));
        assert!(allow(&windows_own));
        assert!(!allow(&other));
        assert!(matches!(
            permission(None, PermissionKind::Microphone),
            PermissionResponse::Deny
        ));
        assert!(matches!(
            permission(Some(&own), PermissionKind::Camera),
            PermissionResponse::Deny
        ));
    }
}
