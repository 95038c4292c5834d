//! `arcbench-awake-hold [--bus ADDRESS] [WHY]`: takes the same sleep inhibitor the host takes,
//! prints `held`, and keeps it until killed or interrupted.
//!
//! Two uses: on a real machine, a quick check that the login manager grants ArcBench its lock
//! (`systemd-inhibit --list` shows it while this runs); in tests, a holder process to kill with
//! SIGKILL. The bus defaults to `ARCBENCH_LOGIND_BUS`, else the system bus.

use arcbench_awake::{Bus, StayAwake};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let mut bus = Bus::from_env();
    let mut why = String::from("arcbench-awake-hold");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bus" => match args.next() {
                Some(address) => bus = Bus::Address(address),
                None => return usage(),
            },
            "-h" | "--help" => return usage(),
            _ => why = arg,
        }
    }
    let awake = StayAwake::new(bus);
    if let Err(err) = awake.hold(&why).await {
        eprintln!("arcbench-awake-hold: {err}");
        return std::process::ExitCode::FAILURE;
    }
    println!("held");
    // Ctrl-C releases through the drop below; SIGKILL releases through the kernel.
    let _ = tokio::signal::ctrl_c().await;
    drop(awake);
    std::process::ExitCode::SUCCESS
}

fn usage() -> std::process::ExitCode {
    eprintln!("usage: arcbench-awake-hold [--bus ADDRESS] [WHY]");
    std::process::ExitCode::from(2)
}
