//! The OS parts the commands need: start at login (autostart plugin), opening a folder (shell
//! plugin). Native notifications are `arcbench_notify`'s, shared with the phone app.

use std::path::Path;

use tauri::{AppHandle, Runtime};

use crate::error::{AppError, Code};

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
