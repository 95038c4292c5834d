//! `fake-logind`: the stand-in login manager as a process, for tests where the program taking the
//! inhibitor is another process (and may be killed with SIGKILL).
//!
//! Prints `address ADDR` first when it started its own private bus, then `ready` once it owns
//! `org.freedesktop.login1`, then one line per event:
//! `taken INDEX pid=PID what=WHAT mode=MODE who=WHO why=WHY` and `released INDEX`.

use std::time::Duration;

use clap::Parser;
use fake_logind::{FakeLogind, PrivateBus};
use tokio::io::AsyncReadExt;

#[derive(Parser)]
#[command(about = "Local stand-in for the login manager (org.freedesktop.login1), tests only")]
struct Args {
    /// The D-Bus bus address to serve on; without it, starts a private bus and prints
    /// `address ADDR` first.
    #[arg(long)]
    address: Option<String>,
    /// Exit when standard input closes, so a test harness that dies takes the fake with it.
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // Kept alive for the whole run: dropping it kills the bus.
    let (address, own_bus) = PrivateBus::or_address(args.address)?;
    let mut fake = FakeLogind::start(&address).await?;
    println!("ready");

    let stdin_closed = async {
        if args.exit_on_stdin_eof {
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 256];
            while !matches!(stdin.read(&mut buf).await, Ok(0) | Err(_)) {}
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(stdin_closed);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // What has been reported: (taken, released) per lock index.
    let mut reported: Vec<(bool, bool)> = Vec::new();
    loop {
        for (i, record) in fake.inhibitors().iter().enumerate() {
            if reported.len() <= i {
                reported.push((false, false));
            }
            if !reported[i].0 {
                println!(
                    "taken {i} pid={} what={} mode={} who={} why={}",
                    record.pid, record.what, record.mode, record.who, record.why
                );
                reported[i].0 = true;
            }
            if record.released_at.is_some() && !reported[i].1 {
                println!("released {i}");
                reported[i].1 = true;
            }
        }
        tokio::select! {
            _ = &mut stdin_closed => break,
            // SIGTERM / SIGINT: leave through the drops below, which stop a private bus.
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = fake.changed(Duration::from_secs(3600)) => {}
        }
    }
    drop(fake);
    drop(own_bus);
    // Out now, as fake-notifications does: returning would drop the runtime, which waits for a
    // blocking stdin read (--exit-on-stdin-eof) that ends only once the harness closes our stdin,
    // which it may do only after we exit.
    std::process::exit(0)
}
