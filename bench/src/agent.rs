//! Issue 3: prompt → first streamed answer text. One warm `AiderExecutor` (a bridge process that
//! keeps Aider imported and its Coder alive) reused for every prompt, against the obvious
//! alternative: one `aider --message` process per prompt. Both talk to the same local fake API,
//! which waits a fixed time-to-first-token, so what differs is only what each side does around it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arcbench_agent::aider::{install_bridge, AiderConfig, AiderExecutor};
use arcbench_agent::{AgentEvent, Executor, Outcome, PromptRequest};
use arcbench_fixtures::TestRepo;
use fake_claude::{FakeClaude, TextReply};
use tokio::sync::mpsc;

use crate::table::{ms, print, print_grid, ratio, summarize, Row};

/// The fake's fixed wait before the first text chunk: a stand-in for the API's own latency.
const TTFT: Duration = Duration::from_millis(50);
/// The answer starts with a marker found nowhere else on Aider's stdout (banner, prompt echo), so
/// the one-shot baseline can tell when the answer's first chunk was printed.
const MARKER: &str = "XYZZY";
const ANSWER: &str = "XYZZY: a short answer from the fake.";
const MODEL: &str = "claude-sonnet-4-5";
const WEAK_MODEL: &str = "claude-haiku-4-5";

/// What `--model-metadata-file` must hold so the CLI never fetches model info (aider-facts.md).
const MODEL_METADATA: &str = r#"{
  "claude-sonnet-4-5": {"max_tokens": 64000, "max_input_tokens": 200000, "max_output_tokens": 64000,
    "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
    "litellm_provider": "anthropic", "mode": "chat"},
  "claude-haiku-4-5": {"max_tokens": 64000, "max_input_tokens": 200000, "max_output_tokens": 64000,
    "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06,
    "litellm_provider": "anthropic", "mode": "chat"}
}"#;

pub fn run(quick: bool) {
    let n = if quick { 5 } else { 20 };
    // Each start imports litellm (seconds); a few samples show its spread without dominating.
    let starts = if quick { 1 } else { 3 };
    let rt = crate::runtime();
    let claude = rt
        .block_on(
            FakeClaude::builder()
                .responder(|_| {
                    TextReply::new(ANSWER)
                        .first_token_delay(TTFT)
                        .chunk_chars(8)
                        .into()
                })
                .start(),
        )
        .expect("fake-claude starts");
    let scratch = tempfile::tempdir().unwrap();
    let python = arcbench_fixtures::aider_python();
    let cfg = AiderConfig {
        python: python.clone(),
        bridge: install_bridge(&scratch.path().join("bridge")).unwrap(),
        model: MODEL.into(),
        weak_model: Some(WEAK_MODEL.into()),
        api_base: claude.base_url(),
        api_key: "sk-bench".into(),
        home: scratch.path().join("home-bridge"),
        retry_timeout: None,
        // Same as the CLI's `--map-tokens 0`: no repo map on either side.
        map_tokens: Some(0),
    };

    let warm_repo = TestRepo::new();
    let warm = rt.block_on(warm_executor(&cfg, &warm_repo.path, starts, n));

    let cli_repo = TestRepo::new();
    let meta = scratch.path().join("model-metadata.json");
    std::fs::write(&meta, MODEL_METADATA).unwrap();
    let one_shot = OneShot {
        aider: python.with_file_name("aider"),
        repo: cli_repo.path.clone(),
        home: scratch.path().join("home-cli"),
        meta,
        api_base: claude.base_url(),
    };
    std::fs::create_dir_all(&one_shot.home).unwrap();
    let cli: Vec<Duration> = (0..n).map(|i| one_shot.first_text(i)).collect();

    let ours = summarize(warm.prompts, 0.95);
    let base = summarize(cli, 0.95);
    print(
        &format!(
            "Agent: prompt → first answer text (fake API, TTFT {} ms, n = {n})",
            TTFT.as_millis()
        ),
        "warm executor",
        "aider --message",
        &[Row {
            case: "prompt → first `Text` / first answer byte on stdout".into(),
            ours,
            base,
        }],
    );
    println!(
        "\nWarm: `AiderExecutor::prompt` → first `AgentEvent::Text`, prompts 2..{} of one executor. \
         Baseline: spawn of `aider --message` → the answer's first chunk on its stdout (one process per prompt).",
        n + 1
    );

    let (start50, start_max) = (median(&warm.starts), *warm.starts.iter().max().unwrap());
    let (first50, first_max) = (median(&warm.firsts), *warm.firsts.iter().max().unwrap());
    print_grid(
        "Agent: the warm executor's one-time start cost",
        &[
            "step",
            "p50",
            "max",
            "samples",
            "vs one `aider --message` prompt (p50)",
        ],
        &[
            vec![
                "`AiderExecutor::start` (spawn → bridge ready)".into(),
                ms(start50),
                ms(start_max),
                starts.to_string(),
                ratio(start50.as_secs_f64(), base.0.as_secs_f64()),
            ],
            vec![
                "first prompt on a fresh executor → first `Text`".into(),
                ms(first50),
                ms(first_max),
                starts.to_string(),
                ratio(first50.as_secs_f64(), base.0.as_secs_f64()),
            ],
        ],
    );
    // Prompts after which one warm executor (start + first prompt + later prompts) has cost no
    // more wall time than one process per prompt.
    let ahead = (1..=1000).find(|&k| start50 + first50 + ours.0 * (k - 1) <= base.0 * k);
    if let Some(k) = ahead {
        println!(
            "\nThe start is paid once per session: at p50, one warm executor has spent less wall time \
             than one `aider --message` per prompt from prompt {k} on."
        );
    }
}

fn median(d: &[Duration]) -> Duration {
    summarize(d.to_vec(), 0.5).0
}

struct Warm {
    starts: Vec<Duration>,
    /// First prompt of each fresh executor (Aider builds its prompts and caches lazily).
    firsts: Vec<Duration>,
    /// Later prompts of the last executor: the steady state the host runs in.
    prompts: Vec<Duration>,
}

async fn warm_executor(cfg: &AiderConfig, repo: &Path, starts: usize, n: usize) -> Warm {
    let mut w = Warm {
        starts: Vec::new(),
        firsts: Vec::new(),
        prompts: Vec::new(),
    };
    let mut kept = None;
    for _ in 0..starts {
        if let Some(old) = kept.take() {
            AiderExecutor::shutdown(old).await;
        }
        // Usage that arrives after a prompt ended (history summaries) is not needed here.
        let (late, _late_rx) = mpsc::unbounded_channel();
        let t = Instant::now();
        let mut exec = AiderExecutor::start(cfg, repo, late)
            .await
            .expect("the bridge starts");
        w.starts.push(t.elapsed());
        w.firsts.push(first_text(&mut exec, "p-first").await);
        kept = Some(exec);
    }
    let mut exec = kept.expect("at least one start");
    for i in 0..n {
        w.prompts
            .push(first_text(&mut exec, &format!("p{i}")).await);
    }
    exec.shutdown().await;
    w
}

/// Time from `prompt()` to the first text event; drains the prompt to its end so the next one
/// starts on an idle bridge.
async fn first_text(exec: &mut AiderExecutor, id: &str) -> Duration {
    let t = Instant::now();
    let mut rx = exec
        .prompt(PromptRequest {
            id: id.into(),
            text: format!("say something short ({id})"),
            files: Vec::new(),
        })
        .await
        .expect("prompt accepted");
    let mut first = None;
    while let Some(e) = tokio::time::timeout(Duration::from_secs(120), rx.recv())
        .await
        .expect("the bridge answers")
    {
        match e {
            AgentEvent::Text(_) if first.is_none() => first = Some(t.elapsed()),
            AgentEvent::Finished(o) => {
                assert_eq!(o, Outcome::Done, "prompt {id}");
                break;
            }
            _ => {}
        }
    }
    first.expect("the answer streamed some text")
}

/// The baseline: a fresh `aider --message` process per prompt.
struct OneShot {
    aider: PathBuf,
    repo: PathBuf,
    home: PathBuf,
    meta: PathBuf,
    api_base: String,
}

impl OneShot {
    fn first_text(&self, i: usize) -> Duration {
        assert!(
            self.aider.exists(),
            "no aider at {}: run scripts/setup-aider.sh",
            self.aider.display()
        );
        let t = Instant::now();
        let mut child = Command::new(&self.aider)
            .args(["--model", MODEL, "--weak-model", WEAK_MODEL])
            .args([
                "--no-auto-commits",
                "--no-check-update",
                "--no-analytics",
                "--no-show-release-notes",
                "--no-gitignore",
                "--no-pretty",
                "--yes-always",
                "--map-tokens",
                "0",
                "--chat-history-file",
                "/dev/null",
                "--input-history-file",
                "/dev/null",
            ])
            .arg("--model-metadata-file")
            .arg(&self.meta)
            .arg("--message")
            .arg(format!("say something short (cli {i})"))
            // Same isolation as the bridge: nothing inherited can redirect the API or read caches.
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env("HOME", &self.home)
            .env("LANG", "C.UTF-8")
            .env("ANTHROPIC_API_BASE", &self.api_base)
            .env("ANTHROPIC_API_KEY", "sk-bench")
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .current_dir(&self.repo)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("aider runs");
        let mut out = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let first = loop {
            let k = out.read(&mut buf).expect("read aider's stdout");
            assert!(
                k > 0,
                "aider exited without printing the answer:\n{}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..k]);
            if seen.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()) {
                break t.elapsed();
            }
        };
        // Let it finish (token report, exit) outside the timed part so runs never overlap.
        std::io::copy(&mut out, &mut std::io::sink()).unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "aider --message failed: {status}");
        first
    }
}
