//! Push notifications to paired browsers. What a device is told is decided here, once, from the
//! host's own events: a turn finished (with how many hunks await review), the agent needs the
//! user (its turn failed or was interrupted), a budget warned or was reached. Each paired device
//! with a subscription gets the kinds it chose; a subscription the push service says is gone is
//! forgotten. Delivery is a [`PushService`] (Web Push today; native push for the app later).

use std::collections::HashMap;
use std::sync::Arc;

use arcbench_engine::{Caller, Engine, EngineError};
use arcbench_push::{Delivery, Notification, PushService, Subscription, VapidKey, WebPush};
use arcbench_store::PushRow;
use shared_protocol::{
    BudgetScope, EventBody, PromptState, PushEvent, PushKey, PushSubscriptionInfo,
    PushSubscriptionRequest,
};
use tokio::sync::broadcast::error::RecvError;

use crate::{blocking, Host, HostError};

/// The `sub` claim push services see: this host, not a person (nothing is sent anywhere else).
const CONTACT: &str = "mailto:arcbench-host@localhost";

pub(crate) fn web_push(data_dir: &std::path::Path) -> Result<Arc<WebPush>, HostError> {
    let key = VapidKey::load_or_create(&data_dir.join("vapid.pem"))
        .map_err(|e| HostError::Config(e.to_string()))?;
    Ok(Arc::new(WebPush::new(key, CONTACT)))
}

/// Follows the host's events and pushes what each subscribed device asked for.
pub(crate) fn follow<P: PushService + 'static>(
    engine: &Arc<Engine>,
    service: Arc<P>,
) -> tokio::task::JoinHandle<()> {
    let mut events = engine.subscribe();
    let engine = engine.clone();
    tokio::spawn(async move {
        // Hunks awaiting review per session, from its latest `diff.updated`.
        let mut pending: HashMap<String, u32> = HashMap::new();
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
            let sid = event.session_id.clone();
            let what = match (&event.body, &sid) {
                (
                    EventBody::DiffUpdated {
                        hunks, approved, ..
                    },
                    Some(s),
                ) => {
                    pending.insert(s.clone(), hunks.saturating_sub(*approved));
                    None
                }
                (EventBody::PromptFinished { state, reason, .. }, Some(s)) => match state {
                    PromptState::Done => {
                        let n = pending.get(s).copied().unwrap_or(0);
                        let body = match n {
                            0 => "The agent finished; nothing awaits review".to_owned(),
                            1 => "1 hunk awaits review".to_owned(),
                            n => format!("{n} hunks await review"),
                        };
                        Some((PushEvent::TurnFinished, "Turn finished", body, "turn"))
                    }
                    PromptState::Failed | PromptState::Interrupted => Some((
                        PushEvent::NeedsYou,
                        "The agent needs you",
                        reason
                            .clone()
                            .unwrap_or_else(|| "the turn did not finish".into()),
                        "needs",
                    )),
                    _ => None,
                },
                (
                    EventBody::BudgetWarning {
                        scope,
                        spent_usd,
                        limit_usd,
                    },
                    _,
                ) => Some((
                    PushEvent::Budget,
                    "Budget warning",
                    budget_line(*scope, *spent_usd, *limit_usd),
                    "budget",
                )),
                (
                    EventBody::BudgetExceeded {
                        scope,
                        spent_usd,
                        limit_usd,
                    },
                    _,
                ) => Some((
                    PushEvent::Budget,
                    "Budget reached: prompts are held",
                    budget_line(*scope, *spent_usd, *limit_usd),
                    "budget",
                )),
                _ => None,
            };
            let Some((kind, title, body, tag)) = what else {
                continue;
            };
            let e = engine.clone();
            let s = sid.clone();
            let (subs, session_title) = blocking(move || {
                let subs = e
                    .store()
                    .tx(|tx| tx.push_subscriptions())
                    .unwrap_or_default();
                let title = s.and_then(|s| e.session(&s).ok()).map(|x| x.title);
                (subs, title)
            })
            .await;
            let note = Notification {
                title: title.to_owned(),
                body: match &session_title {
                    Some(t) => format!("{t}: {body}"),
                    None => body,
                },
                url: match &sid {
                    Some(s) => format!("/app/#/s/{s}"),
                    None => "/app/".to_owned(),
                },
                tag: format!("{}:{tag}", sid.as_deref().unwrap_or("host")),
                session_id: sid.clone(),
            };
            for sub in subs.into_iter().filter(|s| s.events.contains(&kind)) {
                tokio::spawn(deliver(engine.clone(), service.clone(), sub, note.clone()));
            }
        }
    })
}

fn budget_line(scope: BudgetScope, spent: f64, limit: f64) -> String {
    let scope = match scope {
        BudgetScope::Session => "this session",
        BudgetScope::Daily => "today",
    };
    format!("${spent:.2} of ${limit:.2} spent {scope}")
}

async fn deliver<P: PushService>(
    engine: Arc<Engine>,
    service: Arc<P>,
    sub: PushRow,
    note: Notification,
) {
    let to = Subscription {
        endpoint: sub.endpoint.clone(),
        p256dh: sub.p256dh.clone(),
        auth: sub.auth.clone(),
    };
    match service.deliver(&to, &note).await {
        Delivery::Delivered => {}
        Delivery::Gone => {
            tracing::info!(device = %sub.device_id, "push subscription gone; forgotten");
            let device = sub.device_id.clone();
            let endpoint = sub.endpoint.clone();
            blocking(move || {
                // Only if it is still that subscription (the device may have renewed it).
                engine.store().tx(|tx| {
                    if tx
                        .push_subscription(&device)?
                        .is_some_and(|s| s.endpoint == endpoint)
                    {
                        tx.delete_push_subscription(&device)?;
                    }
                    Ok::<_, arcbench_store::StoreError>(())
                })
            })
            .await
            .unwrap_or_else(|e| tracing::warn!(%e, "forgetting a push subscription"));
        }
        Delivery::Failed(why) => {
            tracing::warn!(device = %sub.device_id, %why, "push notification not delivered")
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
            public_key: self.push.public_key(),
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
        let mut events = req.events.unwrap_or_else(|| PushEvent::ALL.to_vec());
        events.sort_by_key(|e| PushEvent::ALL.iter().position(|x| x == e));
        events.dedup();
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
