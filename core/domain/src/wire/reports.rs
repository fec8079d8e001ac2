//! Wire types of field reports (phản ánh hiện trường): filing, reading, handling,
//! following, figures. The public and Open311 faces have shapes of their own (GeoJSON,
//! GeoReport v2) made by the server.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::reports::{HandlingUnit, RejectReason, ReportAction, ReportStatus};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A kind of problem a citizen can report, and who handles it how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportCategory {
    /// Stable code, e.g. `rac-thai` (also the Open311 `service_code`).
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub description: String,
    /// Open311 `group`.
    pub group: String,
    pub unit: HandlingUnit,
    /// The unit's name (for a ward: filled with the report's ward).
    pub unit_name: String,
    /// Response deadline in working days.
    pub deadline_days: u32,
}

/// `POST /api/v1/reports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    pub category: String,
    pub description: String,
    /// Attachment ids of 1 to 5 photos (JPEG, PNG or WebP) uploaded with the resumable upload.
    pub photos: Vec<String>,
    pub lat: f64,
    pub lng: f64,
    #[serde(default)]
    pub address: String,
    /// Hide the reporter's identity from the public (and from followers).
    #[serde(default)]
    pub hide_identity: bool,
}

/// One photo of a report (metadata removed; `thumbnail_url` for lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportPhoto {
    pub id: String,
    /// `before` (the citizen's) or `after` (the resolution's).
    pub stage: String,
    pub url: String,
    pub thumbnail_url: String,
    /// Hidden by a moderator (the url then serves nothing to the public).
    pub hidden: bool,
}

/// One step of a report's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportEvent {
    pub at: DateTime<Utc>,
    /// `filed`, an action name, `rated` or `moderated`.
    pub action: String,
    pub status: ReportStatus,
    /// `citizen`, `officer` or `admin` (never a name).
    pub actor_role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A report as its reporter, its followers and staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Report {
    pub id: String,
    pub code: String,
    pub category: String,
    pub category_name: String,
    pub description: String,
    pub description_hidden: bool,
    pub status: ReportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<RejectReason>,
    pub ward_code: String,
    pub ward_name: String,
    pub unit: HandlingUnit,
    pub lat: f64,
    pub lng: f64,
    pub address: String,
    pub hide_identity: bool,
    /// The reporter's name: only for staff, and for the reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_name: Option<String>,
    pub photos: Vec<ReportPhoto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    pub due_date: NaiveDate,
    pub overdue: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Until when the reporter may rate or reopen (after a resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_window_until: Option<DateTime<Utc>>,
    pub followers: u64,
    /// Whether the caller follows it.
    pub following: bool,
    /// Whether the caller filed it.
    pub mine: bool,
    pub timeline: Vec<ReportEvent>,
}

/// One line of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportSummary {
    pub id: String,
    pub code: String,
    pub category: String,
    pub status: ReportStatus,
    pub ward_code: String,
    pub description: String,
    pub lat: f64,
    pub lng: f64,
    pub due_date: NaiveDate,
    pub overdue: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportPage {
    pub items: Vec<ReportSummary>,
    /// Pass as `after=` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An open report near a place, offered before filing a duplicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NearbyReport {
    pub id: String,
    pub code: String,
    pub category: String,
    pub status: ReportStatus,
    pub description: String,
    pub distance_m: u32,
    pub created_at: DateTime<Utc>,
    pub followers: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NearbyReports {
    pub items: Vec<NearbyReport>,
}

/// `POST /api/v1/reports/{id}/actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportActionRequest {
    pub action: ReportAction,
    /// A note for the timeline (and the reporter).
    #[serde(default)]
    pub note: Option<String>,
    /// The answer to the reporter (required to resolve).
    #[serde(default)]
    pub response: Option<String>,
    /// Attachment ids of photos after the work (at least one to resolve).
    #[serde(default)]
    pub after_photos: Vec<String>,
    #[serde(default)]
    pub reason: Option<RejectReason>,
    /// The ward to move the report to (`move_ward`).
    #[serde(default)]
    pub ward_code: Option<String>,
    /// The officer to assign (`assign`; oneself when absent).
    #[serde(default)]
    pub officer_id: Option<String>,
}

/// `POST /api/v1/reports/{id}/rating`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RateReport {
    /// 1 (not satisfied) to 5 (very satisfied).
    pub score: u8,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/v1/reports/{id}/moderation`: hide abusive text or photos (the audit keeps
/// the original).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModerateReport {
    #[serde(default)]
    pub hide_description: bool,
    /// Photo ids to hide.
    #[serde(default)]
    pub hide_photos: Vec<String>,
    pub reason: String,
}

/// A place a citizen follows: a ward, or a point and radius.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FollowPlace {
    #[serde(default)]
    pub ward_code: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    /// Metres, 50 to 3000.
    #[serde(default)]
    pub radius_m: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PlaceFollow {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<u32>,
    pub created_at: DateTime<Utc>,
}

/// Figures of one category or ward over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportStatsRow {
    /// The category code or the ward code.
    pub key: String,
    pub name: String,
    pub received: u64,
    /// Resolved or rejected.
    pub processed: u64,
    pub processed_rate: f64,
    /// Processed on or before the due date.
    pub on_time: u64,
    pub on_time_rate: f64,
    /// Hours from filing to the first resolution, on average (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_hours_to_resolve: Option<f64>,
    pub ratings: u64,
    /// Average score 1–5 (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: ReportStatsRow,
    pub by_category: Vec<ReportStatsRow>,
    pub by_ward: Vec<ReportStatsRow>,
}

/// `POST /api/v1/admin/open311-keys`: a key for a partner app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPartnerKey {
    pub partner: String,
}

/// The key, shown once (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PartnerKey {
    pub id: String,
    pub partner: String,
    pub api_key: String,
}
