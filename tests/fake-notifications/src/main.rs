//! `fake-notifications`: the stand-in notification server as a process, for end-to-end tests
//! whose notifying program is another process (the desktop app).
//!
//! Prints `address ADDR` first when it started its own private bus, then `ready` once it owns
//! `org.freedesktop.Notifications`, then one line per notification shown: `shown JSON` (id,
//! app_name, summary, body, actions). Reads commands from standard input, one per line:
//! `invoke ID KEY` plays the user clicking (`default`) or pressing button `KEY`, answered by
//! `invoked ID` or `error MESSAGE`. Exits when standard input closes or on SIGTERM.

use clap::Parser;
use fake_notifications::{FakeNotifications, PrivateBus};
use tokio::io::AsyncBufReadExt;

#[derive(Parser)]
#[command(about = "Local stand-in for the desktop notification server, tests only")]
struct Args {
    /// The D-Bus bus address to serve on; without it, starts a private bus and prints
    /// `address ADDR` first.
    #[arg(long)]
    address: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // Kept alive for the whole run: dropping it kills the bus.
    let (address, own_bus) = PrivateBus::or_address(args.address)?;
    let mut fake = FakeNotifications::start(&address).await?;
    println!("ready");

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut reported = 0;
    loop {
        for shown in fake.shown().into_iter().skip(reported) {
            println!("shown {}", serde_json::to_string(&shown)?);
            reported += 1;
        }
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = terminate.recv() => break,
            _ = fake.changed(std::time::Duration::from_secs(3600)) => continue,
        };
        match line {
            Ok(Some(line)) => println!("{}", command(&fake, &line).await),
            // Standard input closed: the harness is gone.
            _ => break,
        }
    }
    drop(fake);
    drop(own_bus);
    // Out now: returning would drop the runtime, which waits for its blocking stdin reader, and
    // that read ends only when the harness closes our stdin — which it does once we exit.
    std::process::exit(0)
}

async fn command(fake: &FakeNotifications, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["invoke", id, key] => match id.parse::<u32>() {
            Ok(id) => match fake.invoke(id, key).await {
                Ok(()) => format!("invoked {id}"),
                Err(e) => format!("error {e}"),
            },
            Err(_) => format!("error not a notification id: {id}"),
        },
        _ => format!("error unknown command (want `invoke ID KEY`): {line}"),
    }
}
