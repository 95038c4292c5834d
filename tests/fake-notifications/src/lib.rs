//! A local stand-in for the desktop notification server (`org.freedesktop.Notifications`, the
//! freedesktop Desktop Notifications spec 1.2) on a private D-Bus bus, for tests only.
//!
//! It serves `Notify`, `CloseNotification`, `GetCapabilities` and `GetServerInformation` on
//! `/org/freedesktop/Notifications` under the well-known name, records every notification it is
//! asked to show, and plays the user: [`FakeNotifications::invoke`] emits `ActionInvoked(id, key)`
//! and then `NotificationClosed(id, 2)` — what a real server sends when the user clicks a
//! notification (key `default`) or one of its buttons.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

pub use fake_logind::PrivateBus;

/// The well-known bus name of the notification server.
pub const NAME: &str = "org.freedesktop.Notifications";
/// Its object path.
pub const PATH: &str = "/org/freedesktop/Notifications";

/// Why the fake could not serve, or a wait ran out.
#[derive(Debug, thiserror::Error)]
pub enum FakeNotificationsError {
    #[error("cannot serve {NAME} on the bus at {address}: {source}")]
    Serve {
        address: String,
        // Boxed: zbus::Error is large, and errors travel by value.
        #[source]
        source: Box<zbus::Error>,
    },
    #[error("cannot emit {signal} for notification {id}: {source}")]
    Emit {
        signal: &'static str,
        id: u32,
        #[source]
        source: Box<zbus::Error>,
    },
    #[error("no notification {0} was shown")]
    Unknown(u32),
    #[error("timed out after {waited:?} waiting for {wanted} notification(s); {shown} shown")]
    WaitTimeout {
        wanted: usize,
        shown: usize,
        waited: Duration,
    },
}

/// One notification as the server received it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// `[key, label, key, label, …]` as sent.
    pub actions: Vec<String>,
    /// Why it closed (the spec's reason code), once it did.
    pub closed: Option<u32>,
}

#[derive(Default)]
struct Record {
    shown: Vec<Shown>,
}

struct Server {
    record: Arc<Mutex<Record>>,
    changed: watch::Sender<u64>,
}

impl Server {
    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)] // the spec's signature
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> zbus::fdo::Result<u32> {
        if !actions.len().is_multiple_of(2) {
            return Err(zbus::fdo::Error::InvalidArgs(
                "actions must be key/label pairs".into(),
            ));
        }
        let id = {
            let mut record = self.record.lock().expect("record lock");
            let shown = Shown {
                id: 0,
                app_name,
                summary,
                body,
                actions,
                closed: None,
            };
            match record
                .shown
                .iter_mut()
                .find(|s| replaces_id != 0 && s.id == replaces_id)
            {
                Some(old) => {
                    *old = Shown {
                        id: replaces_id,
                        ..shown
                    };
                    replaces_id
                }
                None => {
                    let id = record.shown.len() as u32 + 1;
                    record.shown.push(Shown { id, ..shown });
                    id
                }
            }
        };
        self.bump();
        Ok(id)
    }

    async fn close_notification(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: zbus::object_server::SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        let known = self.close(id, 3);
        if known {
            Self::notification_closed(&emitter, id, 3).await?;
        }
        Ok(())
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "fake-notifications".into(),
            "ArcBench tests".into(),
            env!("CARGO_PKG_VERSION").into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

impl Server {
    /// Marks `id` closed for `reason`; false when no open notification has that id.
    fn close(&self, id: u32, reason: u32) -> bool {
        let known = {
            let mut record = self.record.lock().expect("record lock");
            match record
                .shown
                .iter_mut()
                .find(|s| s.id == id && s.closed.is_none())
            {
                Some(s) => {
                    s.closed = Some(reason);
                    true
                }
                None => false,
            }
        };
        if known {
            self.bump();
        }
        known
    }
}

/// The running stand-in. Stops serving when dropped.
pub struct FakeNotifications {
    connection: zbus::Connection,
    record: Arc<Mutex<Record>>,
    changed: watch::Receiver<u64>,
}

impl FakeNotifications {
    /// Connects to the bus at `bus_address`, serves the interface and owns its well-known name.
    pub async fn start(bus_address: &str) -> Result<FakeNotifications, FakeNotificationsError> {
        let err = |source| FakeNotificationsError::Serve {
            address: bus_address.to_owned(),
            source: Box::new(source),
        };
        let record = Arc::new(Mutex::new(Record::default()));
        let (changed_tx, changed) = watch::channel(0);
        let server = Server {
            record: record.clone(),
            changed: changed_tx,
        };
        let connection = zbus::connection::Builder::address(bus_address)
            .map_err(err)?
            .serve_at(PATH, server)
            .map_err(err)?
            .build()
            .await
            .map_err(err)?;
        connection
            .request_name_with_flags(NAME, zbus::fdo::RequestNameFlags::DoNotQueue.into())
            .await
            .map_err(err)?;
        Ok(FakeNotifications {
            connection,
            record,
            changed,
        })
    }

    /// Every notification shown so far, oldest first.
    pub fn shown(&self) -> Vec<Shown> {
        self.record.lock().expect("record lock").shown.clone()
    }

    /// Waits until at least `n` notifications were shown.
    pub async fn wait_shown(
        &mut self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Shown>, FakeNotificationsError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let shown = self.shown();
            if shown.len() >= n {
                return Ok(shown);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || !self.changed(left).await {
                return Err(FakeNotificationsError::WaitTimeout {
                    wanted: n,
                    shown: self.shown().len(),
                    waited: timeout,
                });
            }
        }
    }

    /// Waits up to `timeout` for anything to change; false when nothing did.
    pub async fn changed(&mut self, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, self.changed.changed()).await,
            Ok(Ok(()))
        )
    }

    /// Plays the user acting on notification `id`: `ActionInvoked(id, key)` (`default` is a click
    /// on the notification itself), then `NotificationClosed(id, 2)` ("dismissed by the user").
    pub async fn invoke(&self, id: u32, key: &str) -> Result<(), FakeNotificationsError> {
        if !self.shown().iter().any(|s| s.id == id) {
            return Err(FakeNotificationsError::Unknown(id));
        }
        let emit = |signal: &'static str| {
            move |e: zbus::Error| FakeNotificationsError::Emit {
                signal,
                id,
                source: Box::new(e),
            }
        };
        let iface = self
            .connection
            .object_server()
            .interface::<_, Server>(PATH)
            .await
            .map_err(emit("ActionInvoked"))?;
        Server::action_invoked(iface.signal_emitter(), id, key)
            .await
            .map_err(emit("ActionInvoked"))?;
        if iface.get().await.close(id, 2) {
            Server::notification_closed(iface.signal_emitter(), id, 2)
                .await
                .map_err(emit("NotificationClosed"))?;
        }
        Ok(())
    }
}
