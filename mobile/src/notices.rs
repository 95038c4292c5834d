//! Local notifications for what the hosts do while the app runs: each host's live events, as the
//! page receives them, folded with the desktop app's own reducer (`arcbench_activity`), so a
//! phone and a tray say the same thing about the same turn. Nothing for the session the user is
//! looking at.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arcbench_activity::{Activity, Notice};
use serde::{Deserialize, Serialize};
use shared_protocol::Event;
use specta::Type;

/// Shows one notice (the notification plugin in the app; a recorder in tests).
pub type Show = Arc<dyn Fn(&Notice) + Send + Sync>;

/// A session's title as the page knows it (from its list), so a notice names it even when its
/// `session.created` came before the app was watching.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct SessionTitle {
    pub id: String,
    pub title: String,
}

pub struct Notices {
    hosts: Mutex<HashMap<String, Activity>>,
    show: Show,
}

impl Notices {
    pub fn new(show: Show) -> Notices {
        Notices {
            hosts: Mutex::default(),
            show,
        }
    }

    /// Folds a host's events in and shows what is worth it, except about `looking` (the session
    /// on screen while the app is in front). Answers what was shown.
    pub fn fold(
        &self,
        host: &str,
        titles: &[SessionTitle],
        events: &[Event],
        looking: Option<&str>,
    ) -> Vec<Notice> {
        let mut hosts = self.hosts.lock().expect("notices");
        let activity = hosts.entry(host.to_owned()).or_default();
        for t in titles {
            activity.name_session(&t.id, &t.title);
        }
        let shown: Vec<Notice> = events
            .iter()
            .filter_map(|e| activity.apply(e))
            .filter(|n| n.session_id.is_none() || n.session_id.as_deref() != looking)
            .collect();
        drop(hosts);
        for n in &shown {
            (self.show)(n);
        }
        shown
    }

    /// A host forgotten on this device: what was folded for it goes too.
    pub fn forget(&self, host: &str) {
        self.hosts.lock().expect("notices").remove(host);
    }
}
