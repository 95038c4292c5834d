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

/// The host's session Aider bridge: a Python process that is not the agent template (whose
/// children the session bridges are when sessions start instantly), under the host or under
/// its template.
pub fn aider_child(host: u32) -> Option<u32> {
    let python = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with("python"))
    };
    let template = |pid: &u32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == b"--template"))
    };
    for pid in children(host).into_iter().filter(python) {
        if !template(&pid) {
            return Some(pid);
        }
        if let Some(child) = children(pid).into_iter().find(python) {
            return Some(child);
        }
    }
    None
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(out) = Command::new("pgrep")
        .args(["-P", &pid.to_string()])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<u32>().ok())
        .collect()
}

/// Memory only this process holds (USS: its private pages, clean and dirty), in KiB.
pub fn uss_kib(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    rollup
        .lines()
        .filter(|l| l.starts_with("Private_Clean:") || l.starts_with("Private_Dirty:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
