//! Desktop notifications on Linux, straight to the freedesktop notification server
//! (`org.freedesktop.Notifications` on the session bus), so that a click opens the notification's
//! target (a session; in the phone app's preview, a host's session): the server reports the
//! click as `ActionInvoked(id, "default")`, a signal the notification plugin never listens for. One connection and one listener for all notifications;
//! the ids of the last [`REMEMBERED`] are kept, so the map cannot grow without bound under a
//! server that never says "closed".

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use arcbench_activity::Notice;

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";
/// Notifications whose click still opens their session.
const REMEMBERED: usize = 64;

/// What could not be done on the bus.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("no D-Bus session bus: {0}")]
    Bus(#[source] Box<zbus::Error>),
    #[error("the notification server did not show it: {0}")]
    Show(#[source] Box<zbus::Error>),
}

struct Open<T> {
    /// (notification id, what its click opens), oldest first.
    targets: VecDeque<(u32, T)>,
}

pub struct Notifier<T> {
    proxy: zbus::Proxy<'static>,
    open: Arc<Mutex<Open<T>>>,
}

impl<T: Send + 'static> Notifier<T> {
    /// Connects to the session bus (or the bus at `address`) and starts listening for clicks;
    /// each click on a notification shown with a target sends that target.
    pub async fn connect(
        address: Option<&str>,
    ) -> Result<(Notifier<T>, mpsc::UnboundedReceiver<T>), NotifyError> {
        let bus = |e| NotifyError::Bus(Box::new(e));
        let connection = match address {
            Some(a) => zbus::connection::Builder::address(a).map_err(bus)?,
            None => zbus::connection::Builder::session().map_err(bus)?,
        }
        .build()
        .await
        .map_err(bus)?;
        // Subscribed before anything is shown: no click can come before its listener. One match
        // on the interface (not on the sender's name: a stream filtered by a well-known name can
        // miss signals while it is still asking who owns that name).
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(INTERFACE)
            .and_then(|b| b.path(PATH))
            .map_err(bus)?
            .build();
        let mut signals = zbus::MessageStream::for_match_rule(rule, &connection, None)
            .await
            .map_err(bus)?;
        let proxy = zbus::Proxy::new_owned(connection, NAME, PATH, INTERFACE)
            .await
            .map_err(bus)?;
        let open = Arc::new(Mutex::new(Open {
            targets: VecDeque::new(),
        }));
        let (clicks, rx) = mpsc::unbounded_channel();
        let follow = open.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = signals.next().await {
                let header = msg.header();
                match header.member().map(|m| m.as_str()) {
                    Some("ActionInvoked") => {
                        let Ok((id, key)) = msg.body().deserialize::<(u32, String)>() else {
                            continue;
                        };
                        // "default" is a click on the notification itself; "open" our button.
                        if key == "default" || key == "open" {
                            if let Some(target) = take(&follow, id) {
                                if clicks.send(target).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    Some("NotificationClosed") => {
                        if let Ok((id, _reason)) = msg.body().deserialize::<(u32, u32)>() {
                            take(&follow, id);
                        }
                    }
                    _ => {}
                }
            }
        });
        Ok((Notifier { proxy, open }, rx))
    }

    /// Shows `notice`; one with a target can be clicked to open it.
    pub async fn show(&self, notice: &Notice, target: Option<T>) -> Result<u32, NotifyError> {
        let actions: Vec<&str> = if target.is_some() {
            vec!["default", "Open", "open", "Open the session"]
        } else {
            Vec::new()
        };
        let hints: HashMap<&str, zbus::zvariant::Value<'_>> =
            HashMap::from([("desktop-entry", "arcbench".into())]);
        let id: u32 = self
            .proxy
            .call(
                "Notify",
                &(
                    "ArcBench",
                    0u32,
                    "",
                    notice.title.as_str(),
                    notice.body.as_str(),
                    actions,
                    hints,
                    -1i32,
                ),
            )
            .await
            .map_err(|e| NotifyError::Show(Box::new(e)))?;
        if let Some(target) = target {
            let mut open = self.open.lock().expect("notification map");
            open.targets.push_back((id, target));
            while open.targets.len() > REMEMBERED {
                open.targets.pop_front();
            }
        }
        Ok(id)
    }

    /// How many notifications can still be clicked (tests).
    pub fn remembered(&self) -> usize {
        self.open.lock().expect("notification map").targets.len()
    }
}

fn take<T>(open: &Mutex<Open<T>>, id: u32) -> Option<T> {
    let mut open = open.lock().expect("notification map");
    let at = open.targets.iter().position(|(n, _)| *n == id)?;
    open.targets.remove(at).map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use fake_notifications::{FakeNotifications, PrivateBus};

    use super::*;

    fn notice(session: Option<&str>) -> Notice {
        Notice {
            kind: shared_protocol::PushEvent::TurnFinished,
            title: "Turn finished".into(),
            body: "Fix the parser: the turn finished".into(),
            session_id: session.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn a_click_on_a_notification_opens_its_session_and_only_once() {
        let bus = PrivateBus::start().unwrap();
        let mut server = FakeNotifications::start(&bus.address).await.unwrap();
        let (notifier, mut clicks) = Notifier::<String>::connect(Some(&bus.address))
            .await
            .unwrap();

        let with = notifier
            .show(&notice(Some("s-1")), Some("s-1".into()))
            .await
            .unwrap();
        let without = notifier.show(&notice(None), None).await.unwrap();
        let shown = server.wait_shown(2, Duration::from_secs(5)).await.unwrap();
        assert_eq!(shown[0].app_name, "ArcBench");
        assert_eq!(shown[0].summary, "Turn finished");
        assert_eq!(shown[0].actions[0], "default", "a click on it is an action");
        assert!(shown[1].actions.is_empty(), "nothing to open: no actions");

        server.invoke(without, "default").await.unwrap();
        server.invoke(with, "default").await.unwrap();
        let opened = tokio::time::timeout(Duration::from_secs(5), clicks.recv())
            .await
            .expect("the click arrives")
            .unwrap();
        assert_eq!(opened, "s-1");
        // The click also closed it: a second click (another server's late signal) opens nothing.
        server.invoke(with, "default").await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), clicks.recv())
                .await
                .is_err(),
            "one click, one session opened"
        );
        assert_eq!(notifier.remembered(), 0);
    }

    #[tokio::test]
    async fn closed_notifications_are_forgotten_and_old_ones_drop_off() {
        let bus = PrivateBus::start().unwrap();
        let mut server = FakeNotifications::start(&bus.address).await.unwrap();
        let (notifier, _clicks) = Notifier::<String>::connect(Some(&bus.address))
            .await
            .unwrap();
        for i in 0..REMEMBERED + 5 {
            notifier
                .show(&notice(Some(&format!("s-{i}"))), Some(format!("s-{i}")))
                .await
                .unwrap();
        }
        assert_eq!(notifier.remembered(), REMEMBERED);
        server
            .wait_shown(REMEMBERED + 5, Duration::from_secs(5))
            .await
            .unwrap();
        // Dismissed (without a click): NotificationClosed forgets it.
        server
            .invoke(REMEMBERED as u32 + 5, "dismiss")
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while notifier.remembered() != REMEMBERED - 1 {
            assert!(tokio::time::Instant::now() < deadline, "closed one kept");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn no_notification_server_is_a_clear_error() {
        let bus = PrivateBus::start().unwrap();
        let (notifier, _clicks) = Notifier::<String>::connect(Some(&bus.address))
            .await
            .unwrap();
        let err = notifier
            .show(&notice(Some("s-1")), Some("s-1".into()))
            .await
            .unwrap_err();
        assert!(matches!(err, NotifyError::Show(_)), "{err}");
        assert!(
            Notifier::<String>::connect(Some("unix:path=/nonexistent/bus"))
                .await
                .is_err()
        );
    }
}
