//! The OS parts the commands need: start at login (autostart plugin), opening a folder (shell
//! plugin), native notifications (the notification server on Linux, else the notification plugin).

use std::path::Path;

use tauri::{AppHandle, Runtime};

use crate::error::{AppError, Code};
use arcbench_activity::Notice;

pub fn set_autostart<R: Runtime>(app: &AppHandle<R>, on: bool) -> Result<(), AppError> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let done = if on {
        launcher.enable()
    } else {
        launcher.disable()
    };
    done.map_err(|e| AppError::new(Code::Os, format!("cannot change start at login: {e}")))
}

pub fn autostart_enabled<R: Runtime>(app: &AppHandle<R>) -> bool {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().unwrap_or(false)
}

pub fn open_folder<R: Runtime>(app: &AppHandle<R>, dir: &Path) -> Result<(), AppError> {
    use tauri_plugin_shell::ShellExt;
    // `open` hands the path to the OS (xdg-open, `open`, `start`): the user's own file manager or
    // editor. Deprecated in favour of the opener plugin, which the product card does not name.
    #[allow(deprecated)]
    app.shell()
        .open(dir.display().to_string(), None)
        .map_err(|e| AppError::new(Code::Os, format!("cannot open {}: {e}", dir.display())))
}

/// Native notifications. On Linux they go straight to the notification server, so a click opens
/// the notice's session ([`crate::notifier`]); where that is not possible (no session bus, and
/// macOS/Windows, whose plugin path reports no clicks) the notification plugin shows them.
pub struct Notifications<R: Runtime> {
    app: AppHandle<R>,
    #[cfg(target_os = "linux")]
    bus: Option<crate::notifier::Notifier>,
}

impl<R: Runtime> Notifications<R> {
    /// `open` is called with a session id when the user clicks that session's notification.
    pub async fn new(app: &AppHandle<R>, open: impl Fn(String) + Send + 'static) -> Self {
        #[cfg(target_os = "linux")]
        {
            let bus = match crate::notifier::Notifier::connect(None).await {
                Ok((notifier, mut clicks)) => {
                    tauri::async_runtime::spawn(async move {
                        while let Some(session) = clicks.recv().await {
                            open(session);
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
            Notifications { app: app.clone() }
        }
    }

    pub async fn show(&self, notice: &Notice) {
        #[cfg(target_os = "linux")]
        if let Some(bus) = &self.bus {
            match bus.show(notice).await {
                Ok(_) => return,
                Err(e) => tracing::info!("{e}; trying the notification plugin"),
            }
        }
        use tauri_plugin_notification::NotificationExt;
        if let Err(e) = self
            .app
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show()
        {
            tracing::info!("no notification shown ({e}): {}", notice.body);
        }
    }
}
