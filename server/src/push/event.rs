//! The contract between producers of push notifications and the delivery workers: an
//! `outbox` row whose topic starts with `push.` carries
//! `{"user_id", "notification_id", "kind", "id", "pref", "title": {"vi", "en"},
//! "body": {"vi", "en"}}` (see ARCHITECTURE.md). Rows written before the contract (the
//! dossiers' first shape, Vietnamese only) are read too.

use motcua_domain::i18n::Lang;
use serde::Deserialize;
use uuid::Uuid;

/// What a notification is about: the app opens it from the message's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dossier,
    Report,
    Announcement,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dossier => "dossier",
            Kind::Report => "report",
            Kind::Announcement => "announcement",
        }
    }
}

/// Which preference switch lets the notification through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pref {
    DossierUpdates,
    ReportUpdates,
    Announcements,
}

impl Pref {
    /// The column of `notification_preferences` (a fixed name, never user input).
    pub fn column(self) -> &'static str {
        match self {
            Pref::DossierUpdates => "dossier_updates",
            Pref::ReportUpdates => "report_updates",
            Pref::Announcements => "announcements",
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Texts {
    pub vi: String,
    pub en: String,
}

impl Texts {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En if self.en.trim().is_empty() => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// One notification to deliver to every phone of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    pub user_id: Uuid,
    pub notification_id: String,
    pub kind: Kind,
    /// The id of the dossier or report to open.
    pub id: String,
    pub pref: Pref,
    pub title: Texts,
    pub body: Texts,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Wire {
    Contract {
        user_id: Uuid,
        notification_id: String,
        kind: String,
        id: String,
        pref: String,
        title: Texts,
        body: Texts,
    },
    /// The dossiers' rows from before the contract.
    DossierV1 { user_id: Uuid, notification_id: String, dossier_id: String, title: String, body: String },
}

/// Why a row cannot be delivered (it is set aside, never retried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadEvent {
    #[error("the payload does not follow the push contract: {0}")]
    Shape(String),
    #[error("unknown kind {0:?}")]
    Kind(String),
    #[error("unknown preference {0:?}")]
    Pref(String),
}

impl PushEvent {
    pub fn parse(payload: &serde_json::Value) -> Result<PushEvent, BadEvent> {
        let wire: Wire = serde_json::from_value(payload.clone()).map_err(|e| BadEvent::Shape(e.to_string()))?;
        match wire {
            Wire::Contract { user_id, notification_id, kind, id, pref, title, body } => {
                let kind = match kind.as_str() {
                    "dossier" => Kind::Dossier,
                    "report" => Kind::Report,
                    "announcement" => Kind::Announcement,
                    _ => return Err(BadEvent::Kind(kind)),
                };
                let pref = match pref.as_str() {
                    "dossier_updates" => Pref::DossierUpdates,
                    "report_updates" => Pref::ReportUpdates,
                    "announcements" => Pref::Announcements,
                    _ => return Err(BadEvent::Pref(pref)),
                };
                Ok(PushEvent { user_id, notification_id, kind, id, pref, title, body })
            }
            Wire::DossierV1 { user_id, notification_id, dossier_id, title, body } => Ok(PushEvent {
                user_id,
                notification_id,
                kind: Kind::Dossier,
                id: dossier_id,
                pref: Pref::DossierUpdates,
                title: Texts { vi: title, en: String::new() },
                body: Texts { vi: body, en: String::new() },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_contract_and_the_old_dossier_rows_are_read() {
        let user = Uuid::now_v7();
        let new = json!({"user_id": user, "notification_id": "n1", "kind": "report", "id": "r9", "pref": "report_updates",
            "title": {"vi": "Phản ánh", "en": "Report"}, "body": {"vi": "Đã xử lý", "en": "Handled"}});
        let e = PushEvent::parse(&new).expect("contract");
        assert_eq!((e.kind, e.pref, e.id.as_str()), (Kind::Report, Pref::ReportUpdates, "r9"));
        assert_eq!(e.title.get(Lang::En), "Report");
        let old = json!({"user_id": user, "notification_id": "n2", "dossier_id": "d1", "dossier_code": "H26",
            "status": "received", "title": "Hồ sơ", "body": "Đã tiếp nhận"});
        let e = PushEvent::parse(&old).expect("old shape");
        assert_eq!((e.kind, e.pref, e.id.as_str()), (Kind::Dossier, Pref::DossierUpdates, "d1"));
        assert_eq!(e.title.get(Lang::En), "Hồ sơ", "Vietnamese when there is no English");
        let bad = json!({"user_id": user, "notification_id": "n", "kind": "weather", "id": "1", "pref": "announcements",
            "title": {"vi": "a", "en": "b"}, "body": {"vi": "a", "en": "b"}});
        assert_eq!(PushEvent::parse(&bad), Err(BadEvent::Kind("weather".into())));
        assert!(matches!(PushEvent::parse(&json!({"user_id": "x"})), Err(BadEvent::Shape(_))));
    }
}
