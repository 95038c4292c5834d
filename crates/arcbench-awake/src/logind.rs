//! Linux: an inhibitor lock from the login manager (systemd-logind) over D-Bus.
//!
//! `org.freedesktop.login1.Manager.Inhibit(what, who, why, mode) -> h` returns a file descriptor;
//! logind keeps the lock while that descriptor is open in any process and drops it when the last
//! copy closes. So [`Lock`] is just the descriptor: dropping it releases, and when the host dies
//! (kill -9 included) the kernel closes it and the lock goes with it.

use std::os::fd::OwnedFd;

use crate::{AwakeError, Bus, INHIBIT_MODE, INHIBIT_WHAT, INHIBIT_WHO};

const LOGIND_NAME: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const MANAGER_INTERFACE: &str = "org.freedesktop.login1.Manager";

/// D-Bus errors that mean "nothing (usable) answers as the login manager on this bus".
const ABSENT: [&str; 5] = [
    // Nobody owns the name and it isn't activatable.
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    // Someone owns the name but doesn't serve the manager there.
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.UnknownInterface",
    "org.freedesktop.DBus.Error.UnknownMethod",
];

/// A held inhibitor lock: the descriptor logind handed out. Dropping it closes it: released.
pub(crate) struct Lock {
    _fd: OwnedFd,
}

/// Connects to `bus`, asks for the lock and keeps only the descriptor.
///
/// The connection is made per hold and dropped straight after: the lock belongs to the descriptor,
/// not to the connection, and holds are rare (one per busy period), so there is no long-lived
/// connection to go stale when the bus daemon restarts.
pub(crate) async fn take(bus: &Bus, why: &str) -> Result<Lock, AwakeError> {
    let connect_err = |source| AwakeError::Connect {
        bus: bus.clone(),
        source: Box::new(source),
    };
    let builder = match bus {
        Bus::System => zbus::connection::Builder::system(),
        Bus::Address(address) => zbus::connection::Builder::address(address.as_str()),
    }
    .map_err(connect_err)?;
    let connection = builder.build().await.map_err(connect_err)?;
    let reply = connection
        .call_method(
            Some(LOGIND_NAME),
            LOGIND_PATH,
            Some(MANAGER_INTERFACE),
            "Inhibit",
            &(INHIBIT_WHAT, INHIBIT_WHO, why, INHIBIT_MODE),
        )
        .await
        .map_err(|err| classify(bus, err))?;
    let fd: zbus::zvariant::OwnedFd = reply
        .body()
        .deserialize()
        .map_err(|e| AwakeError::BadReply(Box::new(e)))?;
    let fd = OwnedFd::from(fd);
    // zbus receives descriptors without close-on-exec, so every process the host spawns later
    // (the agent, git) would inherit a copy and keep the machine awake after a release, or after
    // the host itself was killed. Closing the gap here leaves only the instant between receipt and
    // this call.
    if let Err(err) = rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC) {
        tracing::warn!("cannot mark the sleep inhibitor descriptor close-on-exec: {err}");
    }
    Ok(Lock { _fd: fd })
}

fn classify(bus: &Bus, err: zbus::Error) -> AwakeError {
    match err {
        zbus::Error::MethodError(name, detail, _) => {
            let detail = detail.unwrap_or_default();
            // Spawn.*: the bus tried to start the login manager and it failed (masked, absent).
            if ABSENT.contains(&name.as_str())
                || name.starts_with("org.freedesktop.DBus.Error.Spawn.")
            {
                // The message to the user is fixed; the bus's own words go to the debug log.
                tracing::debug!(%bus, "Inhibit: {name}: {detail}");
                AwakeError::NoLoginManager { bus: bus.clone() }
            } else {
                AwakeError::Refused {
                    name: name.to_string(),
                    detail,
                }
            }
        }
        source => AwakeError::Bus {
            bus: bus.clone(),
            source: Box::new(source),
        },
    }
}
