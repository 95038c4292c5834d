//! Provisioning, one mechanism for every managed Python runtime the host needs (Aider now; a
//! transcriber or a pre-started agent template later): a venv in the data dir, made or repaired
//! by a script under a file lock (two hosts never install into one venv at once), progress
//! reported line by line, and the interpreter's path as the answer.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// A Python runtime the host installs and repairs itself.
pub struct ManagedRuntime {
    /// What it is, for messages ("Aider").
    pub name: &'static str,
    pub venv: PathBuf,
    /// The bash script that makes or repairs it; its last stdout line is the interpreter.
    script: &'static str,
}

impl ManagedRuntime {
    /// The pinned Aider in `<data dir>/aider-venv` (the steps of `scripts/setup-aider.sh`).
    pub fn aider(data_dir: &Path) -> Self {
        ManagedRuntime {
            name: "Aider",
            venv: crate::agent::managed_venv(data_dir),
            script: arcbench_agent::python::SETUP_SCRIPT,
        }
    }

    /// Makes (or repairs) the runtime, calling `progress` with each line the installer prints;
    /// returns its interpreter. The error says what failed and how to fix it.
    pub async fn provision(
        &self,
        mut progress: impl FnMut(&str) + Send,
    ) -> Result<PathBuf, String> {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(self.script)
            .arg("provision")
            .arg(&self.venv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run bash to install {}: {e}", self.name))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let out = tokio::spawn(async move {
            let mut last = String::new();
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if !l.trim().is_empty() {
                    last = l;
                }
            }
            last
        });
        let mut tail = Vec::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            progress(line);
            tail.push(line.to_owned());
            if tail.len() > 5 {
                tail.remove(0);
            }
        }
        let status = child
            .wait()
            .await
            .map_err(|e| format!("installing {}: {e}", self.name))?;
        let python = out.await.unwrap_or_default();
        if !status.success() || python.is_empty() {
            return Err(format!(
                "installing {} into {} failed ({status}): {}. Fix: check the network to the \
                 package registry and the disk space, then restart the host (or run `arcbench \
                 setup-aider`)",
                self.name,
                self.venv.display(),
                tail.join(" / ")
            ));
        }
        Ok(PathBuf::from(python.trim()))
    }
}
