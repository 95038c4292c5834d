//! Where a host keeps its data and finds its web UI, decided at run time (never from a path
//! compiled into the binary: an installed or copied binary must work too).

use std::path::{Path, PathBuf};

/// `$ARCBENCH_DATA_DIR`, else the platform's per-user data dir (XDG on Linux).
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ARCBENCH_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    if cfg!(target_os = "macos") {
        return home.join("Library/Application Support/arcbench");
    }
    std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".local/share"))
        .join("arcbench")
}

/// The built web UI: the folder named (which must hold `index.html`), else the first of: `ui/`
/// next to the binary, `../share/arcbench/ui` (an installed package), `src-ui/dist` in a folder
/// above the binary (a build in a source checkout: `target/<profile>/arcbench`), `src-ui/dist`
/// in the current directory.
pub fn find_ui_dir(named: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = named {
        return has_index(dir).then(|| dir.to_path_buf());
    }
    let exe = std::env::current_exe()
        .ok()
        .and_then(|e| e.canonicalize().ok());
    let exe_dir = exe.as_deref().and_then(Path::parent);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = exe_dir {
        candidates.push(dir.join("ui"));
        candidates.push(dir.join("../share/arcbench/ui"));
        candidates.extend(dir.ancestors().map(|a| a.join("src-ui/dist")));
    }
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join("src-ui/dist"));
    }
    candidates.into_iter().find(|d| has_index(d))
}

fn has_index(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}
