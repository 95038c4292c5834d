//! `fake-claude` binary: the test stand-in for the Anthropic Messages API, for tests that are
//! not written in Rust (Python, Playwright). Script it through `/_control/*`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fake_claude::{FakeClaude, Reply};
use tokio::io::AsyncReadExt;

/// Local stand-in for the Anthropic Messages API (tests and the labelled demo mode only).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one (use --print-port to learn it).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Print `listening on http://127.0.0.1:PORT` on stdout once ready (else it goes to stderr).
    #[arg(long)]
    print_port: bool,
    /// Answer 401 to requests with any other key (x-api-key or bearer token).
    #[arg(long)]
    api_key: Option<String>,
    /// JSON file with an array of replies to queue before serving.
    #[arg(long)]
    replies: Option<PathBuf>,
    /// Exit when stdin closes, so a crashed test runner does not leave the server behind.
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fake-claude: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let replies = match &args.replies {
        Some(path) => read_replies(path)?,
        None => Vec::new(),
    };
    let mut builder = FakeClaude::builder().port(args.port);
    if let Some(key) = args.api_key {
        builder = builder.api_key(key);
    }
    let claude = builder
        .start()
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    claude.push_all(replies);

    let line = format!("listening on {}", claude.base_url());
    if args.print_port {
        // Test harnesses block on this line; it must not sit in a buffer.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|e| e.to_string())?;
    } else {
        eprintln!("{line}");
    }

    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = stdin_closed(), if args.exit_on_stdin_eof => {}
    }
    claude.shutdown().await;
    Ok(())
}

fn read_replies(path: &PathBuf) -> Result<Vec<Reply>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("bad replies in {}: {e}", path.display()))
}

async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 256];
    while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
}
