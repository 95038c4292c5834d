//! Native notifications for both Tauri apps, with a click that opens the notification's target:
//! a session in the desktop app, a host's session in the phone app.
//!
//! - Linux: straight to the notification server over D-Bus ([`dbus`]), whose click signal the
//!   notification plugin never listens for; the click comes back here as the target.
//! - iOS/Android: the notification plugin, the target's fields as the notification's extras;
//!   the platform hands a tap to the page (the plugin's `onAction`), which opens the target.
//! - macOS/Windows, or Linux without a session bus: the plugin; a click opens the app only.

#[cfg(target_os = "linux")]
pub mod dbus;

use arcbench_activity::Notice;
use serde::Serialize;
use tauri::plugin::PermissionState;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

pub struct Notifications<R: Runtime, T> {
    app: AppHandle<R>,
    #[cfg(target_os = "linux")]
    bus: Option<dbus::Notifier<T>>,
    #[cfg(not(target_os = "linux"))]
    _target: std::marker::PhantomData<fn(T)>,
}

impl<R: Runtime, T: Serialize + Send + 'static> Notifications<R, T> {
    /// `open` is called with a notification's target when the user clicks it (where the click
    /// comes back to the app: see the module's comment).
    pub async fn new(app: &AppHandle<R>, open: impl Fn(T) + Send + 'static) -> Self {
        #[cfg(target_os = "linux")]
        {
            let bus = match dbus::Notifier::connect(None).await {
                Ok((notifier, mut clicks)) => {
                    tauri::async_runtime::spawn(async move {
                        while let Some(target) = clicks.recv().await {
                            open(target);
                        }
                    });
                    Some(notifier)
                }
                Err(e) => {
                    tracing::info!("notifications through the plugin, clicks do nothing: {e}");
                    None
                }
            };
            Notifications {
                app: app.clone(),
                bus,
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = open;
            Notifications {
                app: app.clone(),
                _target: std::marker::PhantomData,
            }
        }
    }

    /// Shows `notice`; a click on it opens `target`.
    pub async fn show(&self, notice: &Notice, target: Option<T>) {
        #[cfg(target_os = "linux")]
        let target = match &self.bus {
            Some(bus) => match bus.show(notice, target).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::info!("{e}; trying the notification plugin");
                    None
                }
            },
            None => target,
        };
        let plugin = self.app.notification();
        // Android 13+ and iOS ask once; refused, the app stays quiet.
        let allowed = match plugin.permission_state() {
            Ok(PermissionState::Granted) => true,
            Ok(PermissionState::Denied) => false,
            _ => matches!(plugin.request_permission(), Ok(PermissionState::Granted)),
        };
        if !allowed {
            tracing::info!("notifications are not allowed: {}", notice.body);
            return;
        }
        let mut builder = plugin.builder().title(&notice.title).body(&notice.body);
        if let Some(serde_json::Value::Object(fields)) =
            target.and_then(|t| serde_json::to_value(t).ok())
        {
            for (key, value) in fields {
                builder = builder.extra(key, value);
            }
        }
        if let Err(e) = builder.show() {
            tracing::info!("no notification shown ({e}): {}", notice.body);
        }
    }
}
