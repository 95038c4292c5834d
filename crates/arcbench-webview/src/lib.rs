//! What both Tauri apps (the desktop app and the phone app, with its desktop preview) do the
//! same way, written once: their webviews' microphone, and the check of their generated bindings.

pub mod bindings;
pub mod media;
