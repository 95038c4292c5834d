//! Push notifications to paired devices. What a device is told comes from the host's own events
//! through the apps' reducer (`arcbench_activity`): a turn finished (with how many hunks await
//! review), the agent needs the user (its turn failed or was interrupted), a budget warned or
//! was reached. Each paired device with a subscription or token gets the kinds it chose; one the
//! push service says is gone is forgotten. Delivery is a [`PushService`]: Web Push to browsers,
//! APNs/FCM to the phone app while it is closed (when the host is set up for them).

use std::sync::Arc;

use arcbench_activity::Activity;
use arcbench_engine::{Caller, Engine, EngineError};
use arcbench_push::native::{self, Apns, Fcm};
use arcbench_push::{
    Delivery, Notification, PushService, Pushers, Subscription, Target, VapidKey, WebPush,
};
use arcbench_store::{NativePushRow, PushRow};
use shared_protocol::{
    NativePlatform, NativePushInfo, NativePushRequest, PushEvent, PushKey, PushSubscriptionInfo,
    PushSubscriptionRequest,
};

use crate::config::PushFileConfig;
use tokio::sync::broadcast::error::RecvError;

use crate::{blocking, Host, HostError};

/// The `sub` claim push services see: this host, not a person (nothing is sent anywhere else).
const CONTACT: &str = "mailto:arcbench-host@localhost";

/// The host's push services: Web Push with its kept VAPID key, and APNs/FCM as config.toml sets
/// them up (a key that cannot be used stops the start with the reason, rather than failing
/// every notification later).
pub(crate) fn pushers(
    data_dir: &std::path::Path,
    config: &PushFileConfig,
) -> Result<Arc<Pushers>, HostError> {
    let key = VapidKey::load_or_create(&data_dir.join("vapid.pem"))
        .map_err(|e| HostError::Config(e.to_string()))?;
    let setup = |what: &str, e: arcbench_push::PushError| {
        HostError::Config(format!("push.{what} in config.toml: {e}"))
    };
    Ok(Arc::new(Pushers {
        web: WebPush::new(key, CONTACT),
        apns: config
            .apns
            .as_ref()
            .map(Apns::new)
            .transpose()
            .map_err(|e| setup("apns", e))?,
        fcm: config
            .fcm
            .as_ref()
            .map(Fcm::new)
            .transpose()
            .map_err(|e| setup("fcm", e))?,
    }))
}

/// One device to tell, and how to forget it when its push service says it is gone.
enum Registered {
    Web(PushRow),
    Native(NativePushRow),
}

/// Follows the host's events and pushes what each subscribed device asked for.
pub(crate) fn follow<P: PushService + 'static>(
    engine: &Arc<Engine>,
    service: Arc<P>,
) -> tokio::task::JoinHandle<()> {
    let mut events = engine.subscribe();
    let engine = engine.clone();
    tokio::spawn(async move {
        // What is worth telling, and in which words, is the apps' own reducer's: a phone, a
        // tray and a browser say the same of the same turn.
        let mut activity = Activity::default();
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                // A burst we could not keep up with: notifications are a nudge, not a record.
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "push notifier fell behind; some nudges skipped");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            // A session made before this host started has no `session.created` here: its title
            // from the store, once, so notices name it.
            if let Some(s) = event.session_id.clone() {
                if !activity.knows_session(&s) {
                    let e = engine.clone();
                    let id = s.clone();
                    if let Some(title) =
                        blocking(move || e.session(&id).ok().map(|x| x.title)).await
                    {
                        activity.name_session(&s, &title);
                    }
                }
            }
            let Some(notice) = activity.apply(&event) else {
                continue;
            };
            let kind = notice.kind;
            let e = engine.clone();
            let subs = blocking(move || {
                let (web, native) = e
                    .store()
                    .tx(|tx| {
                        Ok::<_, arcbench_store::StoreError>((
                            tx.push_subscriptions()?,
                            tx.native_pushes()?,
                        ))
                    })
                    .unwrap_or_default();
                web.into_iter()
                    .filter(|s| s.events.contains(&kind))
                    .map(Registered::Web)
                    .chain(
                        native
                            .into_iter()
                            .filter(|s| s.events.contains(&kind))
                            .map(Registered::Native),
                    )
                    .collect::<Vec<_>>()
            })
            .await;
            let sid = notice.session_id.clone();
            let tag = match kind {
                PushEvent::TurnFinished => "turn",
                PushEvent::NeedsYou => "needs",
                PushEvent::Budget => "budget",
            };
            let note = Notification {
                title: notice.title,
                body: notice.body,
                url: match &sid {
                    Some(s) => format!("/app/#/s/{s}"),
                    None => "/app/".to_owned(),
                },
                tag: format!("{}:{tag}", sid.as_deref().unwrap_or("host")),
                session_id: sid,
            };
            for sub in subs {
                tokio::spawn(deliver(engine.clone(), service.clone(), sub, note.clone()));
            }
        }
    })
}

async fn deliver<P: PushService>(
    engine: Arc<Engine>,
    service: Arc<P>,
    sub: Registered,
    note: Notification,
) {
    let (device, to) = match &sub {
        Registered::Web(s) => (
            s.device_id.clone(),
            Target::Web(Subscription {
                endpoint: s.endpoint.clone(),
                p256dh: s.p256dh.clone(),
                auth: s.auth.clone(),
            }),
        ),
        Registered::Native(s) => (
            s.device_id.clone(),
            Target::Native {
                platform: s.platform,
                token: s.token.clone(),
            },
        ),
    };
    match service.deliver(&to, &note).await {
        Delivery::Delivered => {}
        Delivery::Gone => {
            tracing::info!(%device, "push registration gone; forgotten");
            blocking(move || {
                // Only if it is still that registration (the device may have renewed it).
                engine.store().tx(|tx| {
                    match &sub {
                        Registered::Web(s) => {
                            if tx
                                .push_subscription(&device)?
                                .is_some_and(|now| now.endpoint == s.endpoint)
                            {
                                tx.delete_push_subscription(&device)?;
                            }
                        }
                        Registered::Native(s) => {
                            if tx
                                .native_push(&device)?
                                .is_some_and(|now| now.token == s.token)
                            {
                                tx.delete_native_push(&device)?;
                            }
                        }
                    }
                    Ok::<_, arcbench_store::StoreError>(())
                })
            })
            .await
            .unwrap_or_else(|e| tracing::warn!(%e, "forgetting a push registration"));
        }
        Delivery::Failed(why) => {
            tracing::warn!(%device, %why, "push notification not delivered")
        }
    }
}

fn device_of(caller: &Caller) -> Result<String, EngineError> {
    match caller {
        Caller::Device(id) => Ok(id.clone()),
        Caller::Master => Err(EngineError::BadRequest(
            "push subscriptions belong to a paired device: call with the device's own key".into(),
        )),
    }
}

impl Host {
    /// The host's VAPID public key, for the page's `PushManager.subscribe`.
    pub fn push_key(&self) -> PushKey {
        PushKey {
            public_key: self.push.web.public_key(),
            native: [NativePlatform::Apns, NativePlatform::Fcm]
                .into_iter()
                .filter(|p| self.push.serves(*p))
                .collect(),
        }
    }

    /// Keeps `req` as the calling device's subscription (replacing its earlier one).
    pub async fn set_push_subscription(
        &self,
        caller: &Caller,
        req: PushSubscriptionRequest,
    ) -> Result<PushSubscriptionInfo, EngineError> {
        let device = device_of(caller)?;
        let sub = Subscription {
            endpoint: req.endpoint.trim().to_owned(),
            p256dh: req.keys.p256dh.trim().to_owned(),
            auth: req.keys.auth.trim().to_owned(),
        };
        sub.check()
            .map_err(|e| EngineError::BadRequest(e.to_string()))?;
        let events = chosen(req.events);
        let row = PushRow {
            device_id: device,
            endpoint: sub.endpoint,
            p256dh: sub.p256dh,
            auth: sub.auth,
            events,
            created_at: arcbench_store::now(),
        };
        let info = row.info();
        self.run(move |e| Ok(e.store().tx(|tx| tx.put_push_subscription(&row))?))
            .await?;
        Ok(info)
    }

    pub async fn push_subscription(
        &self,
        caller: &Caller,
    ) -> Result<PushSubscriptionInfo, EngineError> {
        let device = device_of(caller)?;
        self.run(move |e| {
            e.store()
                .tx(|tx| tx.push_subscription(&device))?
                .map(|r| r.info())
                .ok_or_else(|| EngineError::NotFound("this device has no push subscription".into()))
        })
        .await
    }

    /// Forgets the calling device's subscription; true when there was one.
    pub async fn delete_push_subscription(&self, caller: &Caller) -> Result<bool, EngineError> {
        let device = device_of(caller)?;
        self.run(move |e| Ok(e.store().tx(|tx| tx.delete_push_subscription(&device))?))
            .await
    }
}

/// The kinds a device chose (all when it said nothing), each once, in the listed order.
fn chosen(events: Option<Vec<PushEvent>>) -> Vec<PushEvent> {
    events.map_or_else(|| PushEvent::ALL.to_vec(), |e| PushEvent::ordered(&e))
}

impl Host {
    /// Keeps the calling device's native push token (the phone app), replacing its earlier one.
    /// Refused when this host is not set up for that service: nothing could ever arrive.
    pub async fn set_native_push(
        &self,
        caller: &Caller,
        req: NativePushRequest,
    ) -> Result<NativePushInfo, EngineError> {
        let device = device_of(caller)?;
        if !self.push.serves(req.platform) {
            let (name, section) = match req.platform {
                NativePlatform::Apns => ("APNs", "push.apns"),
                NativePlatform::Fcm => ("FCM", "push.fcm"),
            };
            return Err(EngineError::Conflict(format!(
                "this host is not set up to send through {name}: add [{section}] to its \
                 config.toml (docs/mobile.md, \"Push to a closed app\")"
            )));
        }
        let token = req.token.trim().to_owned();
        native::check_token(req.platform, &token)
            .map_err(|e| EngineError::BadRequest(e.to_string()))?;
        let row = NativePushRow {
            device_id: device,
            platform: req.platform,
            token,
            events: chosen(req.events),
            created_at: arcbench_store::now(),
        };
        let info = row.info();
        self.run(move |e| Ok(e.store().tx(|tx| tx.put_native_push(&row))?))
            .await?;
        Ok(info)
    }

    pub async fn native_push(&self, caller: &Caller) -> Result<NativePushInfo, EngineError> {
        let device = device_of(caller)?;
        self.run(move |e| {
            e.store()
                .tx(|tx| tx.native_push(&device))?
                .map(|r| r.info())
                .ok_or_else(|| EngineError::NotFound("this device has no native push token".into()))
        })
        .await
    }

    /// Forgets the calling device's native push token; true when there was one.
    pub async fn delete_native_push(&self, caller: &Caller) -> Result<bool, EngineError> {
        let device = device_of(caller)?;
        self.run(move |e| Ok(e.store().tx(|tx| tx.delete_native_push(&device))?))
            .await
    }
}
