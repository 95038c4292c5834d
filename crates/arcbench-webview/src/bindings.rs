//! The apps' stale-bindings check: the TypeScript tauri-specta generates from a builder, compared
//! with the committed file (or written there with `UPDATE_BINDINGS=1`).

use std::path::Path;

/// Fails (panics, from a test) when `committed` differs from what `builder` exports now;
/// `regenerate` is the command that updates it.
pub fn check<R: tauri::Runtime>(
    builder: tauri_specta::Builder<R>,
    typescript: specta_typescript::Typescript,
    committed: &Path,
    regenerate: &str,
) {
    let dir = std::env::temp_dir().join(format!(
        "arcbench-bindings-{}-{}",
        std::process::id(),
        committed
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("b")
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let fresh_path = dir.join("bindings.ts");
    builder
        .export(typescript, &fresh_path)
        .expect("commands export to TypeScript");
    let fresh = std::fs::read_to_string(&fresh_path).expect("the export");
    let _ = std::fs::remove_dir_all(&dir);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(committed.parent().expect("a folder")).expect("the folder");
        std::fs::write(committed, &fresh).expect("the bindings written");
        return;
    }
    let current = std::fs::read_to_string(committed).unwrap_or_default();
    assert!(
        current == fresh,
        "{} is stale: run `{regenerate}`",
        committed.display()
    );
}
