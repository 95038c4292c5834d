//! Resident memory and CPU time of a process, from /proc (Linux).

use std::process::Command;

#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub rss_kib: u64,
    /// utime + stime in clock ticks.
    pub cpu_ticks: u64,
    /// stime alone: time in the kernel on the process's behalf (on loopback it can include the
    /// receiving side of TCP, which the kernel often runs in the sender's context).
    pub sys_ticks: u64,
}

pub fn read(pid: u32) -> Figures {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process alive");
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process alive");
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed:
    // state is field 3, utime 14, stime 15.
    let rest: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    let sys_ticks = rest[12].parse::<u64>().unwrap();
    let cpu_ticks = rest[11].parse::<u64>().unwrap() + sys_ticks;
    Figures {
        rss_kib,
        cpu_ticks,
        sys_ticks,
    }
}

/// The peak resident set so far (`VmHWM`), in KiB.
pub fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process alive");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmHWM")
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run on).
pub fn ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The host's Aider bridge: its Python child (the host starts no other long-lived children).
pub fn aider_child(host: u32) -> Option<u32> {
    let out = Command::new("pgrep")
        .args(["-P", &host.to_string()])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.starts_with("python"))
        })
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
