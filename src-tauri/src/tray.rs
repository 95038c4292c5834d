//! The tray icon: its state (idle / running / needs review / budget warning / installing /
//! paused) as icon and tooltip, and its menu: open the dashboard, pair a device, pause or resume
//! the host, quit.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Runtime};

use crate::backend::{DesktopState, HostMode};
use arcbench_activity::TrayState;

pub const TRAY_ID: &str = "arcbench";

fn icon(state: TrayState) -> &'static [u8] {
    match state.icon() {
        "running" => include_bytes!("../../icons/tray/running@2x.png"),
        "review" => include_bytes!("../../icons/tray/review@2x.png"),
        "warning" => include_bytes!("../../icons/tray/warning@2x.png"),
        "installing" => include_bytes!("../../icons/tray/installing@2x.png"),
        _ => include_bytes!("../../icons/tray/idle@2x.png"),
    }
}

/// The menu items whose text follows the state.
pub struct TrayItems<R: Runtime> {
    status: MenuItem<R>,
    pause: MenuItem<R>,
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayItems<R>> {
    let status = MenuItem::with_id(app, "status", "ArcBench: starting…", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open dashboard", true, None::<&str>)?;
    let pair = MenuItem::with_id(app, "pair", "Pair a device…", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause host", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit ArcBench", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &pair,
            &pause,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(icon(TrayState::Idle))?)
        .tooltip("ArcBench")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| crate::on_tray_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(TrayItems { status, pause })
}

pub fn update<R: Runtime>(app: &AppHandle<R>, items: &TrayItems<R>, state: &DesktopState) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        if let Ok(img) = Image::from_bytes(icon(state.tray)) {
            let _ = tray.set_icon(Some(img));
        }
        let _ = tray.set_tooltip(Some(format!("ArcBench — {}", state.summary)));
    }
    let _ = items.status.set_text(&state.summary);
    let (text, enabled) = match state.mode {
        HostMode::Paused | HostMode::Failed => ("Resume host", true),
        HostMode::InProcess => ("Pause host", true),
        // The service is the user's to stop; set-up is finished in the window.
        HostMode::Attached | HostMode::Setup | HostMode::Starting => ("Pause host", false),
    };
    let _ = items.pause.set_text(text);
    let _ = items.pause.set_enabled(enabled);
}
