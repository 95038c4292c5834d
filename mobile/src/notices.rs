//! Local notifications for what the hosts do while the app runs: each host's live events, as the
//! page receives them, folded with the desktop app's own reducer (`arcbench_activity`), so a
//! phone and a tray say the same thing about the same turn. Nothing for the session the user is
//! looking at, nothing of a kind the user turned off (this device's setting, kept in
//! `notices.json`). Each notice carries its host and session, which a tap opens.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arcbench_activity::{Activity, Notice};
use serde::{Deserialize, Serialize};
use shared_protocol::{Event, PushEvent};
use specta::Type;

use crate::error::RemoteError;
use crate::files;

/// What a tap on a notification opens: a session of a paired host. Also the event the app sends
/// the page when the tap comes back to the app (the desktop preview).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct OpenSession {
    pub host_id: String,
    pub session_id: String,
}

/// Shows one notice; a tap opens the target (the notification plugin in the app; a recorder in
/// tests).
pub type Show = Arc<dyn Fn(&Notice, Option<OpenSession>) + Send + Sync>;

/// A session's title as the page knows it (from its list), so a notice names it even when its
/// `session.created` came before the app was watching.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct SessionTitle {
    pub id: String,
    pub title: String,
}

/// Which kinds notify on this device (the host's Web Push settings use the same names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct NoticeSettings {
    pub events: Vec<PushEvent>,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        NoticeSettings {
            events: PushEvent::ALL.to_vec(),
        }
    }
}

pub struct Notices {
    hosts: Mutex<HashMap<String, Activity>>,
    /// The settings file, and what it says (read once; written on every change).
    path: PathBuf,
    settings: Mutex<Option<NoticeSettings>>,
    show: Show,
}

impl Notices {
    /// Notices whose settings live in `dir`.
    pub fn new(dir: impl Into<PathBuf>, show: Show) -> Notices {
        Notices {
            hosts: Mutex::default(),
            path: dir.into().join("notices.json"),
            settings: Mutex::default(),
            show,
        }
    }

    pub fn settings(&self) -> Result<NoticeSettings, RemoteError> {
        let mut kept = self.settings.lock().expect("notice settings");
        if kept.is_none() {
            *kept = Some(files::read(&self.path)?);
        }
        Ok(kept.clone().expect("read above"))
    }

    /// Keeps `settings` (in the order the kinds are listed, each once); on disk when this answers.
    pub fn set_settings(&self, settings: NoticeSettings) -> Result<NoticeSettings, RemoteError> {
        let settings = NoticeSettings {
            events: PushEvent::ordered(&settings.events),
        };
        let mut kept = self.settings.lock().expect("notice settings");
        files::write(&self.path, &settings)?;
        *kept = Some(settings.clone());
        Ok(settings)
    }

    /// Folds a host's events in and shows what is worth it, except about `looking` (the session
    /// on screen while the app is in front) and kinds turned off. Answers what was shown.
    pub fn fold(
        &self,
        host: &str,
        titles: &[SessionTitle],
        events: &[Event],
        looking: Option<&str>,
    ) -> Result<Vec<Notice>, RemoteError> {
        let wanted = self.settings()?.events;
        let mut hosts = self.hosts.lock().expect("notices");
        let activity = hosts.entry(host.to_owned()).or_default();
        for t in titles {
            activity.name_session(&t.id, &t.title);
        }
        // Every event is folded (the reducer's counts stay right); only the telling is filtered.
        let shown: Vec<Notice> = events
            .iter()
            .filter_map(|e| activity.apply(e))
            .filter(|n| wanted.contains(&n.kind))
            .filter(|n| n.session_id.is_none() || n.session_id.as_deref() != looking)
            .collect();
        drop(hosts);
        for n in &shown {
            let target = n.session_id.as_ref().map(|s| OpenSession {
                host_id: host.to_owned(),
                session_id: s.clone(),
            });
            (self.show)(n, target);
        }
        Ok(shown)
    }

    /// A host forgotten on this device: what was folded for it goes too.
    pub fn forget(&self, host: &str) {
        self.hosts.lock().expect("notices").remove(host);
    }
}
