//! A local stand-in for the login manager (`org.freedesktop.login1`) on a private D-Bus bus, for
//! tests only.
//!
//! Two pieces:
//! - [`PrivateBus`]: a `dbus-daemon` child process with its own socket in a temporary folder, so
//!   tests never touch the machine's system or session bus (and run where neither exists).
//! - [`FakeLogind`]: serves `org.freedesktop.login1.Manager.Inhibit(ssss) -> h` and
//!   `ListInhibitors() -> a(ssssuu)` on `/org/freedesktop/login1` under the well-known name
//!   `org.freedesktop.login1`, like systemd-logind. Each `Inhibit` hands the caller one end of a
//!   socket pair and keeps the other: like the real login manager, the lock lasts exactly as long
//!   as the caller's end is open anywhere, and the fake notices the close (EOF on its end) whether
//!   the caller closed it, dropped it, or was killed.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::AsyncReadExt;
use tokio::sync::watch;

/// The well-known bus name of the login manager.
pub const LOGIND_NAME: &str = "org.freedesktop.login1";
/// The object path of the login manager.
pub const LOGIND_PATH: &str = "/org/freedesktop/login1";
/// The interface that carries `Inhibit`.
pub const MANAGER_INTERFACE: &str = "org.freedesktop.login1.Manager";

/// Why the private bus or the fake could not be started, or a wait ran out.
#[derive(Debug, thiserror::Error)]
pub enum FakeLogindError {
    #[error("cannot start dbus-daemon (is Debian's dbus-daemon package installed?): {0}")]
    SpawnDaemon(#[source] std::io::Error),
    #[error("dbus-daemon exited before printing its address; stderr: {stderr}")]
    DaemonNoAddress { stderr: String },
    #[error("cannot write the private bus configuration: {0}")]
    Config(#[source] std::io::Error),
    #[error("cannot serve org.freedesktop.login1 on the bus at {address}: {source}")]
    Serve {
        address: String,
        // Boxed: zbus::Error is large, and errors travel by value.
        #[source]
        source: Box<zbus::Error>,
    },
    #[error("D-Bus error on the bus at {address}: {source}")]
    Bus {
        address: String,
        // Boxed: zbus::Error is large, and errors travel by value.
        #[source]
        source: Box<zbus::Error>,
    },
    #[error(
        "timed out after {waited:?} waiting for {wanted} active inhibitor(s); {active} active"
    )]
    WaitTimeout {
        wanted: usize,
        active: usize,
        waited: Duration,
    },
}

/// A private D-Bus bus: a `dbus-daemon` child listening on a socket in a temporary folder.
/// Killed (and its folder removed) on drop.
pub struct PrivateBus {
    /// The bus address, as `dbus-daemon --print-address` printed it (`unix:path=...,guid=...`).
    pub address: String,
    /// The `dbus-daemon` process.
    pub child: Child,
    // Holds the socket and the configuration; removed after the daemon is gone.
    _dir: tempfile::TempDir,
}

impl PrivateBus {
    /// Starts `dbus-daemon` and returns once it listens (it prints its address only then).
    pub fn start() -> Result<PrivateBus, FakeLogindError> {
        let dir = tempfile::Builder::new()
            .prefix("arcbench-dbus-")
            .tempdir()
            .map_err(FakeLogindError::Config)?;
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(&dir.path().join("bus")))
            .map_err(FakeLogindError::Config)?;
        // Our own configuration rather than `--session`: the stock session.conf also reads the
        // machine's service folders and local overrides, and a test bus must not auto-start
        // anything (an activatable org.freedesktop.login1 would defeat the "no login manager"
        // tests).
        let mut command = Command::new("dbus-daemon");
        command
            .arg(format!("--config-file={}", config.display()))
            .args(["--print-address", "--nofork", "--nopidfile"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(FakeLogindError::SpawnDaemon)?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        // dbus-daemon prints the address once its socket listens, or exits on a bad config: either
        // way this read ends.
        let _ = BufReader::new(stdout).read_line(&mut line);
        let address = line.trim().to_owned();
        if address.is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            return Err(FakeLogindError::DaemonNoAddress { stderr });
        }
        Ok(PrivateBus {
            address,
            child,
            _dir: dir,
        })
    }

    /// The unique names (`:1.N`) of the other connections on the bus right now (not the one this
    /// call makes): lets a test check that something did not connect at all.
    pub async fn peers(&self) -> Result<Vec<String>, FakeLogindError> {
        let err = |source| FakeLogindError::Bus {
            address: self.address.clone(),
            source: Box::new(source),
        };
        let connection = zbus::connection::Builder::address(self.address.as_str())
            .map_err(err)?
            .build()
            .await
            .map_err(err)?;
        let own = connection.unique_name().map(|n| n.to_string());
        let names = zbus::fdo::DBusProxy::new(&connection)
            .await
            .map_err(err)?
            .list_names()
            .await
            .map_err(|e| err(e.into()))?;
        Ok(names
            .into_iter()
            .map(|n| n.to_string())
            .filter(|n| n.starts_with(':') && Some(n) != own.as_ref())
            .collect())
    }
}

impl PrivateBus {
    /// The bus a stand-in's process serves on: `address` when given, else a private bus of its
    /// own, whose address is printed first as `address ADDR` (the stand-in processes' protocol).
    /// The bus (if any) must be kept for the whole run: dropping it stops it.
    pub fn or_address(
        address: Option<String>,
    ) -> Result<(String, Option<PrivateBus>), FakeLogindError> {
        match address {
            Some(address) => Ok((address, None)),
            None => {
                let bus = PrivateBus::start()?;
                println!("address {}", bus.address);
                Ok((bus.address.clone(), Some(bus)))
            }
        }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bus that lets anyone own any name and call anything, listening only on `socket`.
fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

/// One `Inhibit` call the fake granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InhibitorRecord {
    pub what: String,
    pub who: String,
    pub why: String,
    pub mode: String,
    /// The caller's unique bus name (`:1.42`).
    pub sender: String,
    /// The caller's process id, as the bus daemon reports it.
    pub pid: u32,
    pub uid: u32,
    pub taken_at: SystemTime,
    /// When the caller's end of the lock was closed everywhere; `None` while the lock is held.
    pub released_at: Option<SystemTime>,
}

#[derive(Default)]
struct State {
    records: Mutex<Vec<InhibitorRecord>>,
}

/// The login manager's `Manager` interface, as much of it as inhibitor locks need.
struct Manager {
    state: Arc<State>,
    /// Bumped on every take and release, so waiters wake up.
    changed: watch::Sender<u64>,
}

#[zbus::interface(name = "org.freedesktop.login1.Manager")]
impl Manager {
    /// `Inhibit(what, who, why, mode) -> fd`: like logind, validates the arguments and returns a
    /// file descriptor whose lifetime is the lock's.
    async fn inhibit(
        &self,
        what: String,
        who: String,
        why: String,
        mode: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> zbus::fdo::Result<zbus::zvariant::OwnedFd> {
        validate(&what, &mode)?;
        let sender = header
            .sender()
            .map(|s| s.to_string())
            .ok_or_else(|| zbus::fdo::Error::Failed("no sender".into()))?;
        let (pid, uid) = caller_credentials(connection, &sender).await;
        // A socket pair rather than a pipe: either end sees EOF once the other is closed in every
        // process, which is all the fake needs to watch. std creates both ends close-on-exec.
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| zbus::fdo::Error::Failed(format!("socketpair: {e}")))?;
        ours.set_nonblocking(true)
            .map_err(|e| zbus::fdo::Error::Failed(format!("socketpair: {e}")))?;
        let ours = tokio::net::UnixStream::from_std(ours)
            .map_err(|e| zbus::fdo::Error::Failed(format!("socketpair: {e}")))?;
        let index = {
            let mut records = self.state.records.lock().unwrap();
            records.push(InhibitorRecord {
                what,
                who,
                why,
                mode,
                sender,
                pid,
                uid,
                taken_at: SystemTime::now(),
                released_at: None,
            });
            records.len() - 1
        };
        self.changed.send_modify(|n| *n += 1);
        let state = self.state.clone();
        let changed = self.changed.clone();
        tokio::spawn(async move {
            let mut ours = ours;
            let mut buf = [0u8; 64];
            // The caller never writes; a read returns 0 (EOF) or an error once its end is closed.
            loop {
                match ours.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
            state.records.lock().unwrap()[index].released_at = Some(SystemTime::now());
            changed.send_modify(|n| *n += 1);
        });
        // zbus copies the descriptor into the reply; this copy closes when `theirs` drops here.
        Ok(OwnedFd::from(theirs).into())
    }

    /// `ListInhibitors() -> a(ssssuu)`: (what, who, why, mode, uid, pid) of each active lock, so
    /// tools like `systemd-inhibit --list` can be pointed at the fake too.
    async fn list_inhibitors(&self) -> Vec<(String, String, String, String, u32, u32)> {
        self.state
            .records
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.released_at.is_none())
            .map(|r| {
                (
                    r.what.clone(),
                    r.who.clone(),
                    r.why.clone(),
                    r.mode.clone(),
                    r.uid,
                    r.pid,
                )
            })
            .collect()
    }
}

/// The checks logind makes before granting a lock (what: a colon-separated list of known kinds;
/// mode: block, delay or block-weak), so a client bug fails here as it would on a real machine.
fn validate(what: &str, mode: &str) -> zbus::fdo::Result<()> {
    const KINDS: [&str; 7] = [
        "shutdown",
        "sleep",
        "idle",
        "handle-power-key",
        "handle-suspend-key",
        "handle-hibernate-key",
        "handle-lid-switch",
    ];
    if what.is_empty() || what.split(':').any(|w| !KINDS.contains(&w)) {
        return Err(zbus::fdo::Error::InvalidArgs(format!(
            "Invalid what specification {what}"
        )));
    }
    if !matches!(mode, "block" | "delay" | "block-weak") {
        return Err(zbus::fdo::Error::InvalidArgs(format!(
            "Invalid mode specification {mode}"
        )));
    }
    Ok(())
}

/// The caller's pid and uid as the bus daemon saw them (0 where it would not say).
async fn caller_credentials(connection: &zbus::Connection, sender: &str) -> (u32, u32) {
    let Ok(dbus) = zbus::fdo::DBusProxy::new(connection).await else {
        return (0, 0);
    };
    let Ok(name) = zbus::names::BusName::try_from(sender) else {
        return (0, 0);
    };
    match dbus.get_connection_credentials(name).await {
        Ok(creds) => (
            creds.process_id().unwrap_or(0),
            creds.unix_user_id().unwrap_or(0),
        ),
        Err(_) => (0, 0),
    }
}

/// The stand-in login manager, serving while this value lives (dropping it gives up the name).
pub struct FakeLogind {
    _connection: zbus::Connection,
    state: Arc<State>,
    changed: watch::Receiver<u64>,
}

impl FakeLogind {
    /// Connects to the bus at `bus_address`, serves the `Manager` interface and owns
    /// `org.freedesktop.login1`; returns once the name is owned. Must run inside a tokio runtime
    /// (the lock watchers are tokio tasks).
    pub async fn start(bus_address: &str) -> Result<FakeLogind, FakeLogindError> {
        let state = Arc::new(State::default());
        let (changed_tx, changed) = watch::channel(0u64);
        let manager = Manager {
            state: state.clone(),
            changed: changed_tx,
        };
        let serve_err = |source| FakeLogindError::Serve {
            address: bus_address.to_owned(),
            source: Box::new(source),
        };
        let connection = zbus::connection::Builder::address(bus_address)
            .map_err(serve_err)?
            .serve_at(LOGIND_PATH, manager)
            .map_err(serve_err)?
            .build()
            .await
            .map_err(serve_err)?;
        // DoNotQueue: a second login manager on the bus is a broken test, not a standby to wait
        // in line behind the first (the builder's `name()` would queue silently).
        connection
            .request_name_with_flags(LOGIND_NAME, zbus::fdo::RequestNameFlags::DoNotQueue.into())
            .await
            .map_err(serve_err)?;
        Ok(FakeLogind {
            _connection: connection,
            state,
            changed,
        })
    }

    /// Every lock granted so far, released or not, in the order taken.
    pub fn inhibitors(&self) -> Vec<InhibitorRecord> {
        self.state.records.lock().unwrap().clone()
    }

    /// How many locks are held right now.
    pub fn active(&self) -> usize {
        self.state
            .records
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.released_at.is_none())
            .count()
    }

    /// Waits until exactly `n` locks are held, or `timeout` passes. Releases are noticed
    /// asynchronously (the caller's close reaches the fake as EOF), so tests wait rather than
    /// read [`FakeLogind::active`] straight after a release.
    pub async fn wait_active(&self, n: usize, timeout: Duration) -> Result<(), FakeLogindError> {
        let mut changed = self.changed.clone();
        let wait = async {
            loop {
                if self.active() == n {
                    return;
                }
                if changed.changed().await.is_err() {
                    // The interface is gone; nothing will change any more.
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| FakeLogindError::WaitTimeout {
                wanted: n,
                active: self.active(),
                waited: timeout,
            })
    }

    /// Waits until anything changes (a lock taken or released), or `timeout` passes; `true` if
    /// something changed. Lets the command-line fake report events as they happen.
    pub async fn changed(&mut self, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, self.changed.changed()).await,
            Ok(Ok(()))
        )
    }
}
