//! What both Tauri apps (the desktop app and the phone app's desktop preview) do to their
//! webviews the same way, written once.

pub mod media;
