//! Voice prompts, transcribed on the host: audio never leaves the user's machine and mesh.
//!
//! One warm faster-whisper process (the host's managed `transcriber` runtime, provisioned like
//! Aider) answers JSON lines; requests queue behind one lock. The WAV is checked here first (16
//! kHz mono 16-bit PCM, at most [`MAX_SECONDS`], not silent), so bad audio never reaches the model
//! and gets a clear answer. A prompt listing the session's file and folder words steers the model
//! toward the project's vocabulary.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use arcbench_engine::Engine;

use crate::{provision, HostConfig, PROGRESS_EVERY};

use shared_protocol::{ErrorCode, TranscriberState, TranscriberStatus, Transcript};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The longest recording transcribed.
pub const MAX_SECONDS: f64 = 60.0;
/// The one audio format accepted (what the remote encodes in the page).
pub const SAMPLE_RATE: u32 = 16_000;
/// The biggest upload: 60 s of 16 kHz 16-bit mono plus headers.
pub const MAX_UPLOAD: usize = (SAMPLE_RATE as usize * 2 * 60) + 64 * 1024;
/// Shorter than this is a slip of the finger, not a prompt.
const MIN_SECONDS: f64 = 0.2;
/// Peak amplitude below which a recording is silence (about -50 dBFS).
const SILENCE_PEAK: i16 = 100;
/// Loading the model once; transcribing one minute of audio on two cores.
const LOAD_DEADLINE: Duration = Duration::from_secs(180);
const ANSWER_DEADLINE: Duration = Duration::from_secs(120);

const SCRIPT: &str = include_str!("../transcriber/arcbench_transcriber.py");

/// Why a recording was not transcribed. Each maps to one API error.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("{0}")]
    BadAudio(String),
    #[error("{0}")]
    TooLong(String),
    #[error("nothing was said in the recording (it is silent); hold the mic and speak")]
    NoSpeech,
    #[error("{0}")]
    Unavailable(String),
}

impl VoiceError {
    pub fn code(&self) -> ErrorCode {
        match self {
            VoiceError::BadAudio(_) => ErrorCode::BadRequest,
            VoiceError::TooLong(_) => ErrorCode::PayloadTooLarge,
            VoiceError::NoSpeech => ErrorCode::NoSpeech,
            VoiceError::Unavailable(_) => ErrorCode::TranscriberUnavailable,
        }
    }
}

/// What a WAV holds, once checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clip {
    pub seconds: f64,
    pub peak: i16,
}

/// Checks a WAV: RIFF/WAVE, PCM 16-bit mono at 16 kHz, [`MIN_SECONDS`] to [`MAX_SECONDS`] long.
pub fn check_wav(bytes: &[u8]) -> Result<Clip, VoiceError> {
    let bad = |m: &str| VoiceError::BadAudio(m.to_owned());
    if bytes.is_empty() {
        return Err(bad("the recording is empty"));
    }
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("the upload is not a WAV file (RIFF/WAVE)"));
    }
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        let body = at + 8;
        if id == b"fmt " {
            if len < 16 || body + 16 > bytes.len() {
                return Err(bad("the WAV's format chunk is cut short"));
            }
            let f = &bytes[body..body + 16];
            let le16 = |i: usize| u16::from_le_bytes([f[i], f[i + 1]]);
            let rate = u32::from_le_bytes(f[4..8].try_into().expect("4 bytes"));
            format = Some((le16(0), le16(2), rate, le16(14)));
        } else if id == b"data" {
            let Some((audio, channels, rate, bits)) = format else {
                return Err(bad("the WAV has no format chunk before its data"));
            };
            if (audio, channels, rate, bits) != (1, 1, SAMPLE_RATE, 16) {
                return Err(VoiceError::BadAudio(format!(
                    "the WAV must be 16 kHz mono 16-bit PCM; this one is {channels} channel(s) at \
                     {rate} Hz, {bits}-bit, format {audio}"
                )));
            }
            let end = (body + len).min(bytes.len());
            let data = &bytes[body..end];
            let seconds = data.len() as f64 / (SAMPLE_RATE as f64 * 2.0);
            if seconds > MAX_SECONDS {
                return Err(VoiceError::TooLong(format!(
                    "the recording is {seconds:.0} s long; at most {MAX_SECONDS:.0} s"
                )));
            }
            if seconds < MIN_SECONDS {
                return Err(bad("the recording is too short to hold a prompt"));
            }
            let peak = data
                .chunks_exact(2)
                .map(|s| i16::from_le_bytes([s[0], s[1]]).saturating_abs())
                .max()
                .unwrap_or(0);
            return Ok(Clip { seconds, peak });
        }
        // Chunks are padded to an even length.
        at = body + len + (len & 1);
    }
    Err(bad("the WAV has no audio data"))
}

/// Up to this many words of the session's vocabulary go into the model's prompt.
const VOCABULARY_WORDS: usize = 80;

/// Words from the worktree's file and folder names (`rate_limit.rs` → "rate limit"), most
/// frequent first: what people say when they talk about this code.
pub fn vocabulary(worktree: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(worktree)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for path in out.stdout.split(|b| *b == 0).take(5000) {
        let path = String::from_utf8_lossy(path);
        for part in path.split(['/', '.', '_', '-', ' ']) {
            for word in split_camel(part) {
                let w = word.to_lowercase();
                if w.len() > 2 && w.chars().all(|c| c.is_ascii_alphabetic()) {
                    *counts.entry(w).or_default() += 1;
                }
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let words: Vec<String> = words
        .into_iter()
        .take(VOCABULARY_WORDS)
        .map(|(w, _)| w)
        .collect();
    (!words.is_empty()).then(|| format!("A change to the code: {}.", words.join(", ")))
}

fn split_camel(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let b = s.as_bytes();
    for i in 1..b.len() {
        if b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase() {
            parts.push(&s[start..i]);
            start = i;
        }
    }
    parts.push(&s[start..]);
    parts
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    model: String,
}

/// The host's transcriber: its state, and the warm process once the first recording comes.
pub struct Transcriber {
    status: RwLock<TranscriberStatus>,
    python: RwLock<Option<PathBuf>>,
    model: String,
    dir: PathBuf,
    /// The queue: one recording at a time through the one process.
    worker: tokio::sync::Mutex<Option<Worker>>,
    next: AtomicU64,
}

impl Transcriber {
    pub fn new(state: TranscriberState, model: String, dir: PathBuf) -> Arc<Transcriber> {
        Arc::new(Transcriber {
            status: RwLock::new(TranscriberStatus {
                state,
                model: model.clone(),
                detail: None,
            }),
            python: RwLock::new(None),
            model,
            dir,
            worker: tokio::sync::Mutex::new(None),
            next: AtomicU64::new(1),
        })
    }

    pub fn status(&self) -> TranscriberStatus {
        self.status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set(&self, state: TranscriberState, detail: Option<String>) -> TranscriberStatus {
        let mut s = self.status.write().unwrap_or_else(|p| p.into_inner());
        s.state = state;
        s.detail = detail;
        s.clone()
    }

    /// The Python (with faster-whisper) to run; the transcriber is ready from now on.
    pub(crate) fn set_python(&self, python: PathBuf) -> TranscriberStatus {
        *self.python.write().unwrap_or_else(|p| p.into_inner()) = Some(python);
        self.set(TranscriberState::Ready, None)
    }

    /// Transcribes a checked recording, waiting for the ones before it.
    pub async fn transcribe(
        &self,
        wav: &[u8],
        prompt: Option<String>,
    ) -> Result<Transcript, VoiceError> {
        let clip = check_wav(wav)?;
        let status = self.status();
        if status.state != TranscriberState::Ready {
            return Err(VoiceError::Unavailable(match status.state {
                TranscriberState::Installing => format!(
                    "the transcriber is being installed ({}); try again in a minute",
                    status
                        .detail
                        .as_deref()
                        .unwrap_or("about a minute the first time")
                ),
                TranscriberState::Failed => format!(
                    "the transcriber could not be set up: {}",
                    status.detail.as_deref().unwrap_or("unknown reason")
                ),
                _ => "voice transcription is turned off on this host (transcriber = false)".into(),
            }));
        }
        if clip.peak < SILENCE_PEAK {
            return Err(VoiceError::NoSpeech);
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| VoiceError::Unavailable(format!("the transcriber's folder: {e}")))?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let file = self
            .dir
            .join(format!("clip-{}-{id}.wav", std::process::id()));
        std::fs::write(&file, wav)
            .map_err(|e| VoiceError::Unavailable(format!("saving the recording: {e}")))?;
        let answer = self.ask(id, &file, prompt).await;
        let _ = std::fs::remove_file(&file);
        let (text, model) = answer?;
        if text.trim().is_empty() {
            return Err(VoiceError::NoSpeech);
        }
        Ok(Transcript {
            text: text.trim().to_owned(),
            duration_s: (clip.seconds * 1000.0).round() / 1000.0,
            model,
        })
    }

    async fn ask(
        &self,
        id: u64,
        file: &Path,
        prompt: Option<String>,
    ) -> Result<(String, String), VoiceError> {
        let mut slot = self.worker.lock().await;
        if slot.is_none() {
            *slot = Some(self.spawn().await?);
        }
        let worker = slot.as_mut().expect("just set");
        let line = serde_json::json!({"id": id, "wav": file, "initial_prompt": prompt}).to_string();
        let answer = async {
            worker.stdin.write_all(line.as_bytes()).await?;
            worker.stdin.write_all(b"\n").await?;
            worker.stdin.flush().await?;
            loop {
                let Some(l) = worker.stdout.next_line().await? else {
                    return Err(std::io::Error::other("the transcriber stopped"));
                };
                let v: serde_json::Value = serde_json::from_str(&l).unwrap_or_default();
                if v["id"].as_u64() == Some(id) {
                    return Ok(v);
                }
            }
        };
        match tokio::time::timeout(ANSWER_DEADLINE, answer).await {
            Ok(Ok(v)) => match v["error"].as_str() {
                Some(e) => Err(VoiceError::BadAudio(format!(
                    "the transcriber could not read the recording: {e}"
                ))),
                None => Ok((
                    v["text"].as_str().unwrap_or_default().to_owned(),
                    worker.model.clone(),
                )),
            },
            failed => {
                // A crashed or stuck process is replaced at the next recording.
                if let Some(mut w) = slot.take() {
                    let _ = w.child.start_kill();
                }
                let why = match failed {
                    Err(_) => "took too long".to_owned(),
                    Ok(Err(e)) => e.to_string(),
                    Ok(Ok(_)) => unreachable!(),
                };
                tracing::warn!(%why, "the transcriber failed; it restarts with the next recording");
                Err(VoiceError::Unavailable(format!(
                    "the transcriber stopped ({why}); try again"
                )))
            }
        }
    }

    async fn spawn(&self) -> Result<Worker, VoiceError> {
        let python = self
            .python
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| VoiceError::Unavailable("the transcriber is not set up".into()))?;
        let script = self.dir.join("arcbench_transcriber.py");
        std::fs::write(&script, SCRIPT)
            .map_err(|e| VoiceError::Unavailable(format!("installing the transcriber: {e}")))?;
        let mut cmd = Command::new(&python);
        cmd.arg(&script)
            .arg(&self.model)
            .env("PYTHONUNBUFFERED", "1")
            // faster-whisper asks the network only for model names it does not have; never for
            // the bundled model, and never for telemetry.
            .env("HF_HUB_DISABLE_TELEMETRY", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            VoiceError::Unavailable(format!("cannot start {}: {e}", python.display()))
        })?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let first = tokio::time::timeout(LOAD_DEADLINE, stdout.next_line()).await;
        let v: serde_json::Value = match first {
            Ok(Ok(Some(l))) => serde_json::from_str(&l).unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        if v["type"] != "ready" {
            let why = v["error"]
                .as_str()
                .unwrap_or("it exited while loading the model")
                .to_owned();
            return Err(VoiceError::Unavailable(format!(
                "the transcriber did not start: {why}"
            )));
        }
        Ok(Worker {
            child,
            stdin,
            stdout,
            model: v["model"].as_str().unwrap_or(&self.model).to_owned(),
        })
    }
}

/// The voice transcriber: off, a Python named by the user, or the managed runtime (made or
/// repaired in the background like the agent's, its progress told by `transcriber.state`).
pub(crate) fn start(config: &HostConfig, engine: &Arc<Engine>) -> Arc<Transcriber> {
    use shared_protocol::TranscriberState;
    let dir = config.data_dir.join("transcriber");
    if !config.transcriber {
        return Transcriber::new(TranscriberState::Off, config.transcriber_model.clone(), dir);
    }
    let t = Transcriber::new(
        TranscriberState::Installing,
        config.transcriber_model.clone(),
        dir,
    );
    if let Some(python) = &config.transcriber_python {
        t.set_python(python.clone());
        return t;
    }
    let runtime = provision::ManagedRuntime::new(provision::TRANSCRIBER, &config.data_dir);
    let (engine, t2) = (engine.clone(), t.clone());
    tokio::spawn(async move {
        let tell = |s: shared_protocol::TranscriberStatus| {
            if let Err(e) = engine.announce_transcriber(s) {
                tracing::error!(%e, "recording the transcriber's state");
            }
        };
        tell(t2.set(
            TranscriberState::Installing,
            Some(format!("checking {}", runtime.venv.display())),
        ));
        let mut last = Instant::now() - PROGRESS_EVERY;
        let (e2, t3) = (engine.clone(), t2.clone());
        let done = runtime
            .provision(move |line| {
                if last.elapsed() >= PROGRESS_EVERY {
                    last = Instant::now();
                    let s = t3.set(TranscriberState::Installing, Some(line.to_owned()));
                    let _ = e2.announce_transcriber(s);
                }
            })
            .await;
        match done {
            Ok(python) => {
                tracing::info!("voice transcriber ready");
                tell(t2.set_python(python));
            }
            Err(reason) => {
                tracing::warn!(%reason, "the voice transcriber could not be set up");
                tell(t2.set(TranscriberState::Failed, Some(reason)));
            }
        }
    });
    t
}

/// Renders `text` as speech (WAV) with espeak-ng, for pages without `speechSynthesis` voices.
pub async fn speak(text: &str) -> Result<Vec<u8>, SpeechError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 1000 {
        return Err(SpeechError::BadText);
    }
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("espeak-ng")
            .args(["--stdout", "-s", "165", "--", text])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| SpeechError::Unavailable("espeak-ng took too long".into()))?
    .map_err(|e| {
        SpeechError::Unavailable(format!(
            "espeak-ng is not installed on the host ({e}); install it (Debian: apt install espeak-ng)"
        ))
    })?;
    if !out.status.success() || out.stdout.len() < 44 {
        return Err(SpeechError::Unavailable("espeak-ng failed".into()));
    }
    Ok(out.stdout)
}

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("text must be 1 to 1000 characters")]
    BadText,
    #[error("{0}")]
    Unavailable(String),
}

impl SpeechError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SpeechError::BadText => ErrorCode::BadRequest,
            SpeechError::Unavailable(_) => ErrorCode::SpeechUnavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, channels: u16, bits: u16, samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut w = Vec::new();
        w.extend_from_slice(b"RIFF");
        w.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        w.extend_from_slice(b"WAVEfmt ");
        w.extend_from_slice(&16u32.to_le_bytes());
        w.extend_from_slice(&1u16.to_le_bytes());
        w.extend_from_slice(&channels.to_le_bytes());
        w.extend_from_slice(&rate.to_le_bytes());
        w.extend_from_slice(&(rate * 2).to_le_bytes());
        w.extend_from_slice(&2u16.to_le_bytes());
        w.extend_from_slice(&bits.to_le_bytes());
        w.extend_from_slice(b"data");
        w.extend_from_slice(&(data.len() as u32).to_le_bytes());
        w.extend_from_slice(&data);
        w
    }

    #[test]
    fn wav_checks() {
        let tone: Vec<i16> = (0..16_000).map(|i| ((i % 40) as i16 - 20) * 500).collect();
        let clip = check_wav(&wav(16_000, 1, 16, &tone)).unwrap();
        assert_eq!(clip.seconds, 1.0);
        assert!(clip.peak >= 9_500);
        let silence = check_wav(&wav(16_000, 1, 16, &[0; 16_000])).unwrap();
        assert!(silence.peak < SILENCE_PEAK);
        let code = |b: &[u8]| check_wav(b).unwrap_err().code();
        assert_eq!(code(b""), ErrorCode::BadRequest);
        assert_eq!(code(b"ID3 not a wav at all"), ErrorCode::BadRequest);
        assert_eq!(code(&wav(44_100, 1, 16, &tone)), ErrorCode::BadRequest);
        assert_eq!(code(&wav(16_000, 2, 16, &tone)), ErrorCode::BadRequest);
        assert_eq!(
            code(&wav(16_000, 1, 16, &tone[..100])),
            ErrorCode::BadRequest
        );
        let long = vec![1000i16; 16_000 * 61];
        assert_eq!(code(&wav(16_000, 1, 16, &long)), ErrorCode::PayloadTooLarge);
    }

    #[test]
    fn vocabulary_words_come_from_paths() {
        assert_eq!(
            split_camel("rateLimitMiddleware"),
            ["rate", "Limit", "Middleware"]
        );
        let repo = arcbench_fixtures::TestRepo::new();
        std::fs::create_dir_all(repo.path.join("src/sessions")).unwrap();
        std::fs::write(repo.path.join("src/sessions/rate_limit.rs"), "x").unwrap();
        std::fs::write(repo.path.join("src/sessions/endpointHandler.ts"), "x").unwrap();
        arcbench_fixtures::git(&repo.path, &["add", "-A"]);
        let v = vocabulary(&repo.path).unwrap();
        for w in ["sessions", "rate", "limit", "endpoint", "handler"] {
            assert!(v.contains(w), "{w} in {v}");
        }
    }
}
