//! Keeping the machine awake while a prompt runs.
//!
//! ArcBench runs a coding agent around the clock on a laptop; a laptop that suspends after ten idle
//! minutes would freeze a prompt half-way. While the queue has work, the host asks the OS not to
//! sleep, and lets go as soon as the queue is idle so the machine's own power policy applies again.
//!
//! - Linux: an inhibitor lock from the login manager (systemd-logind's
//!   `org.freedesktop.login1.Manager.Inhibit`, over D-Bus with zbus). `Inhibit` returns a file
//!   descriptor and the lock lasts exactly as long as that descriptor is open: releasing is
//!   closing it, and when the process dies for any reason, kill -9 included, the kernel closes it
//!   and the login manager drops the lock. That is why this design is crash-safe: no lock can
//!   outlive the host, and there is no "release on exit" step to miss.
//! - macOS: an IOKit power assertion (`PreventUserIdleSystemSleep`), which powerd likewise drops
//!   when the process that made it exits. Written to the documented API but not compiled or tested
//!   here (no macOS machine): see `macos.rs`.
//! - Elsewhere: nothing is done, and the status says so.
//!
//! [`StayAwake`] is the lock itself (hold / release); [`Keeper`] is the driver the host uses: told
//! whether the queue is busy, it takes and releases the lock in a task of its own, never fails or
//! blocks the caller, and warns once when the login manager cannot be reached.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

#[cfg(target_os = "linux")]
mod logind;
#[cfg(target_os = "linux")]
use logind as imp;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as imp;

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod unsupported;
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
use unsupported as imp;

/// The environment variable naming the D-Bus bus where the login manager lives, for tests and
/// unusual set-ups; unset or empty means the system bus.
pub const BUS_ENV: &str = "ARCBENCH_LOGIND_BUS";

/// What the lock blocks: system sleep (suspend, hibernate, lid-close when it means suspend) and
/// idle actions (automatic suspend after inactivity).
pub const INHIBIT_WHAT: &str = "sleep:idle";
/// Who asks, as `systemd-inhibit --list` shows it.
pub const INHIBIT_WHO: &str = "ArcBench";
/// "block" rather than "delay": a delay lock only postpones sleep by a few seconds.
pub const INHIBIT_MODE: &str = "block";

/// The reason the [`Keeper`] gives for its lock.
pub const KEEPER_WHY: &str = "A coding agent prompt is running";

/// How long taking a lock may take (connecting plus the call) before giving up: a hung bus must
/// not leave the keeper stuck in a hold while the queue moves on.
const HOLD_TIMEOUT: Duration = Duration::from_secs(25);

/// Where the login manager lives. Ignored off Linux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// The system bus (`DBUS_SYSTEM_BUS_ADDRESS`, or its standard socket): production.
    System,
    /// A bus at this D-Bus address (`unix:path=...`): tests, or an override.
    Address(String),
}

impl Bus {
    /// [`BUS_ENV`] when set and not empty, else the system bus.
    pub fn from_env() -> Bus {
        Bus::from_setting(std::env::var(BUS_ENV).ok().as_deref())
    }

    fn from_setting(value: Option<&str>) -> Bus {
        match value.map(str::trim) {
            Some(address) if !address.is_empty() => Bus::Address(address.to_owned()),
            _ => Bus::System,
        }
    }
}

impl fmt::Display for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bus::System => f.write_str("the system bus"),
            Bus::Address(address) => write!(f, "the D-Bus bus at {address}"),
        }
    }
}

/// Why the machine could not be kept awake. Every message says what follows for the user.
#[derive(Debug, thiserror::Error)]
pub enum AwakeError {
    /// Nothing owns `org.freedesktop.login1` on the bus (no systemd-logind: a container, a
    /// distribution without it, or a test bus without the fake).
    #[error(
        "no login manager on {bus} (org.freedesktop.login1): the machine may sleep during a prompt"
    )]
    NoLoginManager { bus: Bus },
    /// The bus itself could not be reached.
    #[cfg(target_os = "linux")]
    #[error(
        "cannot connect to {bus} to reach the login manager (org.freedesktop.login1): {source}; \
         the machine may sleep during a prompt"
    )]
    Connect {
        bus: Bus,
        // Boxed: zbus::Error is large, and errors travel by value.
        #[source]
        source: Box<zbus::Error>,
    },
    /// The login manager answered with an error (for example a polkit denial).
    #[error(
        "the login manager refused the sleep inhibitor ({name}: {detail}): the machine may sleep \
         during a prompt"
    )]
    Refused { name: String, detail: String },
    /// The bus connection failed during the call.
    #[cfg(target_os = "linux")]
    #[error(
        "D-Bus error while asking the login manager on {bus} for a sleep inhibitor: {source}; \
         the machine may sleep during a prompt"
    )]
    Bus {
        bus: Bus,
        #[source]
        source: Box<zbus::Error>,
    },
    /// The login manager replied, but not with a file descriptor.
    #[cfg(target_os = "linux")]
    #[error(
        "the login manager's reply to Inhibit carried no file descriptor ({0}): the machine may \
         sleep during a prompt"
    )]
    BadReply(#[source] Box<zbus::Error>),
    /// No answer in time.
    #[error(
        "no answer from the login manager on {bus} within {after:?}: the machine may sleep during \
         a prompt"
    )]
    Timeout { bus: Bus, after: Duration },
    /// IOKit refused the power assertion (the IOReturn code).
    #[cfg(target_os = "macos")]
    #[error(
        "macOS refused the power assertion (IOReturn {0:#x}): the machine may sleep during a prompt"
    )]
    PowerAssertion(i32),
    /// No way to keep this OS awake is implemented.
    #[error("not supported on this OS")]
    Unsupported,
}

/// A sleep inhibitor: held or not. Dropping it releases.
///
/// Owned by one task (the [`Keeper`]'s, in the host); the methods take `&self` so it can sit in an
/// `Arc` when something else needs to release it synchronously.
pub struct StayAwake {
    bus: Bus,
    /// Serialises [`StayAwake::hold`]: two concurrent holds must not both take a lock.
    taking: tokio::sync::Mutex<()>,
    /// The lock while held. A std mutex so that [`StayAwake::release`] and `Drop` are synchronous.
    lock: Mutex<Option<imp::Lock>>,
}

impl StayAwake {
    /// Nothing is contacted until the first [`StayAwake::hold`].
    pub fn new(bus: Bus) -> StayAwake {
        StayAwake {
            bus,
            taking: tokio::sync::Mutex::new(()),
            lock: Mutex::new(None),
        }
    }

    /// Takes the lock (`what` = [`INHIBIT_WHAT`], `who` = [`INHIBIT_WHO`], `mode` =
    /// [`INHIBIT_MODE`], the given `why`), unless it is already held: then nothing happens.
    /// Must run inside a tokio runtime.
    ///
    /// A [`StayAwake::release`] that races a hold in flight is ordered before it (the lock ends up
    /// held); the [`Keeper`] never races the two.
    pub async fn hold(&self, why: &str) -> Result<(), AwakeError> {
        let _taking = self.taking.lock().await;
        if self.is_held() {
            return Ok(());
        }
        let lock = tokio::time::timeout(HOLD_TIMEOUT, imp::take(&self.bus, why))
            .await
            .map_err(|_| AwakeError::Timeout {
                bus: self.bus.clone(),
                after: HOLD_TIMEOUT,
            })??;
        *self.lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(lock);
        Ok(())
    }

    /// Lets go of the lock (closes the descriptor / releases the assertion); `true` if one was
    /// held.
    pub fn release(&self) -> bool {
        let lock = self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
        // Dropped outside the mutex: the drop is what releases.
        lock.is_some()
    }

    pub fn is_held(&self) -> bool {
        self.lock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }
}

/// What the keeper is doing, for the host to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum AwakeStatus {
    /// The setting is off: the OS is never asked anything.
    Off,
    /// Nothing to run, so nothing held.
    Idle,
    /// A prompt is running and the OS was asked not to sleep.
    Held,
    /// The last attempt to hold failed, with the reason (which says the machine may sleep). Stays
    /// while idle too, so the host keeps showing it, until a later attempt succeeds.
    Unavailable(String),
}

impl fmt::Display for AwakeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwakeStatus::Off => f.write_str("off (the setting is off)"),
            AwakeStatus::Idle => f.write_str("idle: nothing held"),
            AwakeStatus::Held => f.write_str("keeping the machine awake while a prompt runs"),
            AwakeStatus::Unavailable(reason) => f.write_str(reason),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Desired {
    enabled: bool,
    busy: bool,
    /// Bumped on every change, so [`Keeper::settled`] can tell which change the task has applied.
    generation: u64,
    /// Bumped on every idle → busy change: a new busy period, worth a new attempt even when the
    /// task never saw the idle in between (the queue emptied and refilled in one go).
    period: u64,
}

/// Takes the lock while the queue is busy and releases it when idle, in a task of its own.
///
/// [`Keeper::set_busy`] and [`Keeper::set_enabled`] only record what is wanted and return at once:
/// the caller is never blocked by D-Bus and never sees an error. Failures show in
/// [`Keeper::status`] and as one warning in the log (again only after the lock was held in
/// between). An attempt is made once per busy period (idle → busy), so a machine without a login
/// manager costs one failed call per period, not one per queue change. While disabled, nothing
/// connects to D-Bus at all. Dropping the keeper releases the lock.
pub struct Keeper {
    desired: watch::Sender<Desired>,
    status: watch::Receiver<AwakeStatus>,
    /// The generation of the last wanted state the task applied.
    applied: watch::Receiver<u64>,
    awake: Arc<StayAwake>,
    task: tokio::task::JoinHandle<()>,
}

impl Keeper {
    /// A keeper for the login manager on `bus`, on (`enabled`) or off (the setting). Starts idle.
    /// Must be called inside a tokio runtime.
    pub fn new(bus: Bus, enabled: bool) -> Keeper {
        let desired = Desired {
            enabled,
            busy: false,
            generation: 0,
            period: 0,
        };
        let initial = if enabled {
            AwakeStatus::Idle
        } else {
            AwakeStatus::Off
        };
        let (desired_tx, desired_rx) = watch::channel(desired);
        let (status_tx, status_rx) = watch::channel(initial);
        let (applied_tx, applied_rx) = watch::channel(0);
        let awake = Arc::new(StayAwake::new(bus));
        let task = tokio::spawn(run(desired_rx, status_tx, applied_tx, awake.clone()));
        Keeper {
            desired: desired_tx,
            status: status_rx,
            applied: applied_rx,
            awake,
            task,
        }
    }

    /// A keeper with the setting off: never touches D-Bus (until [`Keeper::set_enabled`]).
    pub fn disabled() -> Keeper {
        Keeper::new(Bus::System, false)
    }

    /// `busy`: a prompt is running, or one is queued and runnable.
    pub fn set_busy(&self, busy: bool) {
        self.desired.send_if_modified(|d| {
            let changed = d.busy != busy;
            if changed {
                d.busy = busy;
                d.generation += 1;
                d.period += u64::from(busy);
            }
            changed
        });
    }

    /// The setting. Turning it off releases a held lock.
    pub fn set_enabled(&self, enabled: bool) {
        self.desired.send_if_modified(|d| {
            let changed = d.enabled != enabled;
            if changed {
                d.enabled = enabled;
                d.generation += 1;
            }
            changed
        });
    }

    pub fn status(&self) -> AwakeStatus {
        self.status.borrow().clone()
    }

    /// Waits until the keeper has acted on every [`Keeper::set_busy`] / [`Keeper::set_enabled`]
    /// made so far (the lock taken or released, or the attempt failed). For an orderly shutdown
    /// and for tests; the host never needs to wait otherwise.
    pub async fn settled(&self) {
        let wanted = self.desired.borrow().generation;
        let mut applied = self.applied.clone();
        // An error means the task is gone, and there is nothing left to wait for.
        let _ = applied.wait_for(|&g| g >= wanted).await;
    }

    /// Follows status changes (`wait_for`, `changed`): for the host's UI, and for tests.
    pub fn subscribe(&self) -> watch::Receiver<AwakeStatus> {
        self.status.clone()
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        // Release now rather than when the runtime next polls the task; aborting the task then
        // drops a hold in flight (its descriptor, if one arrives, is closed with the reply).
        self.awake.release();
        self.task.abort();
    }
}

/// The keeper's task: applies the latest wanted state, one change at a time.
async fn run(
    mut desired: watch::Receiver<Desired>,
    status: watch::Sender<AwakeStatus>,
    applied: watch::Sender<u64>,
    awake: Arc<StayAwake>,
) {
    // Warned about the current failure already: the warning is said once, not once per prompt.
    let mut warned = false;
    // The busy period already tried: don't retry a failure on every queue change.
    let mut tried_period = None;
    loop {
        let want = *desired.borrow_and_update();
        if !want.enabled {
            if awake.release() {
                tracing::info!("keep-awake turned off: sleep inhibitor released");
            }
            tried_period = None;
            status.send_replace(AwakeStatus::Off);
        } else if want.busy {
            if !awake.is_held() && tried_period != Some(want.period) {
                tried_period = Some(want.period);
                match awake.hold(KEEPER_WHY).await {
                    Ok(()) => {
                        if warned {
                            tracing::info!(bus = %awake.bus(), "login manager reachable again");
                        }
                        warned = false;
                        tracing::debug!(bus = %awake.bus(), "sleep inhibitor taken");
                        status.send_replace(AwakeStatus::Held);
                    }
                    Err(err) => {
                        if warned {
                            tracing::debug!("still cannot keep the machine awake: {err}");
                        } else {
                            tracing::warn!("{err}");
                            warned = true;
                        }
                        status.send_replace(AwakeStatus::Unavailable(err.to_string()));
                    }
                }
            }
        } else {
            if awake.release() {
                tracing::debug!("queue idle: sleep inhibitor released");
            }
            // An Unavailable stays shown while idle: the machine still can't be kept awake.
            status.send_if_modified(|s| {
                let change = matches!(s, AwakeStatus::Held | AwakeStatus::Off);
                if change {
                    *s = AwakeStatus::Idle;
                }
                change
            });
        }
        applied.send_replace(want.generation);
        // Returns at once if the wanted state changed while a hold was in flight (the queue went
        // idle, the setting off), so a lock taken too late is released straight away.
        if desired.changed().await.is_err() {
            // The keeper is gone; dropping `awake` (the last Arc) releases.
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bus_setting_is_an_address_or_else_the_system_bus() {
        assert_eq!(Bus::from_setting(None), Bus::System);
        assert_eq!(Bus::from_setting(Some("  ")), Bus::System);
        assert_eq!(
            Bus::from_setting(Some(" unix:path=/tmp/bus ")),
            Bus::Address("unix:path=/tmp/bus".into())
        );
        assert_eq!(Bus::System.to_string(), "the system bus");
    }
}
