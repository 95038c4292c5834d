// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The desktop preview: the phone app's library in a phone-sized window.
fn main() {
    arcbench_mobile::run()
}
