//! The public records and enums of the client API: plain data (strings, integers, options,
//! vectors, simple enums) so each mirrors one to one across the FFI. Times are milliseconds
//! since the Unix epoch; JSON payloads travel as strings.

use crate::error::FieldIssue;

/// How the app configures the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `https://api.example.vn` (no trailing `/api/v1`).
    pub base_url: String,
    /// A private directory of the app: the store and the copies of attached files live here.
    pub data_dir: String,
    /// `vi` (default) or `en`: the language of validation messages.
    pub language: String,
    /// Bytes per upload request (0: 256 KiB).
    pub upload_chunk_size: u64,
    /// Per-request timeout of the built-in transport in milliseconds (0: 30 s).
    pub request_timeout_ms: u64,
}

impl ClientConfig {
    /// A configuration with the defaults.
    pub fn new(base_url: impl Into<String>, data_dir: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            data_dir: data_dir.into(),
            language: "vi".to_owned(),
            upload_chunk_size: 0,
            request_timeout_ms: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub id: String,
    pub full_name: String,
    /// `citizen`, `officer` or `admin`.
    pub role: String,
    pub phone: String,
    pub citizen_id: Option<String>,
    pub email: Option<String>,
}

/// A registration waiting for the code the server sent to the phone by SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneVerification {
    /// Give it back with the code to [`crate::Client::verify_phone`].
    pub verification_id: String,
    /// The number the code went to (canonical form, as typed by the citizen otherwise).
    pub phone: String,
    /// Seconds the code stays valid.
    pub expires_in_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueSyncReport {
    pub version: i64,
    /// Procedures added or changed by this sync.
    pub changed: u32,
    pub retired: u32,
    /// The server answered 304: nothing new.
    pub not_modified: bool,
    /// Editing drafts moved to a new form version.
    pub drafts_migrated: u32,
}

/// A field (lĩnh vực) of procedures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureField {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// A current ward or commune (since 1 July 2025), for the ward list of an address field:
/// the chosen ward's `code` goes into the address value as `ward_code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardItem {
    pub code: String,
    pub name: String,
    pub province: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureItem {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub field: String,
    pub agency: String,
    pub processing_days: u32,
    /// The fee at the counter, in đồng.
    pub fee_vnd: i64,
    /// The fee when filed online, as through this app (lower than at the counter for some
    /// procedures, e.g. residence registration): the fee the app shows.
    pub fee_online_vnd: i64,
    /// Toàn trình (fully online) rather than partially online.
    pub online_full: bool,
    pub boundary_free: bool,
    pub version: i64,
    /// From a search that found nothing covering the query: this is one of the nearest
    /// procedures (show the fields beside them). Always false outside search results.
    pub nearest: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureDetail {
    pub item: ProcedureItem,
    pub form_version: u32,
    /// The form definition (`motcua_domain::form::FormDef`) as JSON.
    pub form_json: String,
    /// The whole procedure (`motcua_domain::wire::Procedure`) as JSON.
    pub procedure_json: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftState {
    /// Being filled in: every change is saved at once.
    Editing,
    /// Submitted by the citizen, waiting in the outbox (frozen).
    Queued,
    /// The outbox stopped on an error it cannot retry (see the item's reason).
    Parked,
    /// The dossier exists on the server.
    Sent,
}

impl DraftState {
    pub(crate) fn parse(s: &str) -> DraftState {
        match s {
            "queued" => DraftState::Queued,
            "parked" => DraftState::Parked,
            "sent" => DraftState::Sent,
            _ => DraftState::Editing,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftSummary {
    pub id: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub form_version: u32,
    pub state: DraftState,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub file_count: u32,
    /// Values the form upgrades could not carry over (shown to the citizen).
    pub dropped_count: u32,
    /// The procedure left the catalogue: the draft can no longer be submitted.
    pub procedure_retired: bool,
    pub dossier_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub summary: DraftSummary,
    pub branch_code: Option<String>,
    /// The form the draft is filled on (`FormDef` JSON).
    pub form_json: String,
    /// The values object as JSON (attachment fields hold local file ids until sent).
    pub values_json: String,
    pub files: Vec<DraftFile>,
    pub dropped: Vec<DroppedField>,
    /// Live validation plus the field errors of the server's last refusal.
    pub issues: Vec<FieldIssue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftFile {
    /// Local id; also what the attachment field's value holds until the file is uploaded.
    pub id: String,
    pub field_key: String,
    pub file_name: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub uploaded: bool,
}

/// A value a form upgrade did not carry over.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DroppedField {
    pub path: String,
    pub value_json: String,
    /// `removed` or a field error code (`wrong_type`, `invalid_option`, ...).
    pub reason: String,
    /// The form version the value was dropped at.
    pub form_version: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    Parked,
    Sent,
}

/// Why an outbox item stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParkReason {
    /// The server refused the values (the field errors are on the draft, which is editable again).
    Validation,
    /// The idempotency key was used with another body.
    Conflict,
    /// The account may not file this.
    Forbidden,
    /// The procedure (or a branch) does not exist on the server any more.
    ProcedureUnavailable,
    /// Another permanent refusal, with the server's error code.
    Other { code: String },
}

impl ParkReason {
    pub(crate) fn to_db(&self) -> String {
        match self {
            ParkReason::Validation => "validation".to_owned(),
            ParkReason::Conflict => "conflict".to_owned(),
            ParkReason::Forbidden => "forbidden".to_owned(),
            ParkReason::ProcedureUnavailable => "procedure_unavailable".to_owned(),
            ParkReason::Other { code } => format!("other:{code}"),
        }
    }

    pub(crate) fn from_db(s: &str) -> ParkReason {
        match s {
            "validation" => ParkReason::Validation,
            "conflict" => ParkReason::Conflict,
            "forbidden" => ParkReason::Forbidden,
            "procedure_unavailable" => ParkReason::ProcedureUnavailable,
            other => ParkReason::Other { code: other.strip_prefix("other:").unwrap_or(other).to_owned() },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: String,
    pub draft_id: String,
    pub idempotency_key: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at_ms: i64,
    pub park_reason: Option<ParkReason>,
    pub dossier_id: Option<String>,
    /// For a report draft's item (whose `draft_id` is the report draft): the report, once sent.
    pub report_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxReport {
    /// Items that reached the server in this pass.
    pub sent: u32,
    /// Items still waiting (scheduled for a retry).
    pub pending: u32,
    pub parked: u32,
    /// When the next waiting item is due, if any.
    pub next_retry_in_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub item_id: String,
    pub draft_id: String,
    pub stage: OutboxStage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxStage {
    Uploading {
        file_id: String,
        sent_bytes: u64,
        total_bytes: u64,
    },
    Submitting,
    Sent {
        dossier_id: String,
        dossier_code: String,
    },
    /// A report draft's item reached the server.
    ReportSent {
        report_id: String,
        report_code: String,
    },
    Retrying {
        attempt: u32,
        in_ms: u64,
    },
    Parked {
        reason: ParkReason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierItem {
    pub id: String,
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    /// Wire code: `submitted`, `received`, `in_processing`, ...
    pub status: String,
    /// The status for people, in the client's language.
    pub status_label: String,
    pub branch_code: String,
    pub submitted_at_ms: i64,
    pub updated_at_ms: i64,
    /// `YYYY-MM-DD`, once received.
    pub due_date: Option<String>,
    /// `not_started`, `on_time`, `at_risk`, `overdue`, `paused`.
    pub deadline: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineItem {
    pub at_ms: i64,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_role: String,
    pub actor_name: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierDetail {
    pub item: DossierItem,
    pub form_version: u32,
    pub values_json: String,
    pub timeline: Vec<TimelineItem>,
    /// The secret printed on the receipt, with which anyone may follow the dossier
    /// (`track_dossier`); absent on dossiers filed before verifiers existed.
    pub tracking_verifier: Option<String>,
    /// The citizen's rating (1 to 5), once given.
    pub rating_score: Option<u32>,
    pub rating_comment: Option<String>,
}

/// A service point (head office, branch, receiving point or a ward's point), cached for
/// offline use.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePoint {
    pub code: String,
    pub name: String,
    /// `head_office`, `branch`, `receiving_point` or `ward_point`.
    pub kind: String,
    pub address: String,
    pub ward: Option<String>,
    pub phone: Option<String>,
    /// As the centre publishes them, e.g. `Thứ Hai - Thứ Sáu: 8:00-12:00, 13:30-17:00`.
    pub opening_hours: Option<String>,
    pub lat: f64,
    pub lng: f64,
    /// The position is the ward's centre, not the building's.
    pub approximate_position: bool,
    /// From the position asked for, when one was given.
    pub distance_km: Option<f64>,
}

/// One step of a dossier as public tracking shows it (no officer's name, no note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingStep {
    pub at_ms: i64,
    /// Wire code of the status reached.
    pub status: String,
    pub status_label: String,
    /// For an inter-agency step, a sentence naming the agency.
    pub description: Option<String>,
}

/// What anyone holding the receipt (code and verifier) sees of a dossier, without an
/// account: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicTracking {
    pub code: String,
    pub procedure_name: String,
    pub status: String,
    /// In the client's language.
    pub status_label: String,
    pub submitted_at_ms: i64,
    pub received_at_ms: Option<i64>,
    /// `YYYY-MM-DD`, once received.
    pub due_date: Option<String>,
    /// `not_started`, `on_time`, `at_risk`, `overdue`, `paused`.
    pub deadline: String,
    pub steps: Vec<TrackingStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierStatusChange {
    pub dossier_id: String,
    pub dossier_code: String,
    pub from_status: Option<String>,
    pub to_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationItem {
    pub id: String,
    pub kind: String,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    pub status: Option<String>,
    pub title: String,
    pub body: String,
    pub created_at_ms: i64,
    pub read: bool,
}

/// Receives what happens in the background; the app implements it (called on the client's
/// tasks: return quickly).
pub trait ClientListener: Send + Sync {
    fn on_outbox_event(&self, event: OutboxEvent);
    fn on_dossier_status_changed(&self, change: DossierStatusChange);
    fn on_signed_out(&self);
}

/// This phone's registration for push notifications, as the client keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRegistration {
    /// The FCM registration token the app handed over.
    pub token: String,
    /// `android` or `ios`.
    pub platform: String,
    pub app_version: String,
    /// Whether the server has it for the signed-in account (otherwise it is sent at the
    /// next sign-in or when the network is back: `sync_outbox`).
    pub sent: bool,
}

/// What a push notification opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushTarget {
    /// The citizen's dossier (open it with `dossier`).
    Dossier { dossier_id: String },
    /// A field report.
    Report { report_id: String },
    /// An announcement of the city or the ward (no screen of its own: the inbox).
    Announcement { campaign_id: String },
    /// A kind this app version does not know (newer server): open the inbox.
    Unknown { kind: String },
}

/// A push notification received by the app, to show (once) and to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    pub notification_id: String,
    pub target: PushTarget,
}

/// Which notifications the citizen wants on their phones (all on by default), and the
/// ward whose announcements they follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    pub dossier_updates: bool,
    pub report_updates: bool,
    pub announcements: bool,
    pub ward_code: Option<String>,
}

/// What the citizen fills in a report draft (saved at once, all fields together).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDraftInput {
    /// A category code (`rac-thai`, `o-ga-mat-duong`, ...).
    pub category: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: String,
    /// Hide the reporter's identity from the public.
    pub hide_identity: bool,
}

/// A photo of a report draft (a copy in the store, hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPhotoFile {
    pub id: String,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded: bool,
}

/// A report draft with its photos and its problems (the shared rules', and the server's
/// after a refusal).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDraft {
    pub id: String,
    pub category: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: String,
    pub hide_identity: bool,
    pub state: DraftState,
    /// The report on the server, once sent.
    pub report_id: Option<String>,
    pub updated_at_ms: i64,
    pub photos: Vec<ReportPhotoFile>,
    pub issues: Vec<FieldIssue>,
}

/// A report in the citizen's cached lists (their own, and those they follow).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportItem {
    pub id: String,
    pub code: String,
    pub category: String,
    /// Wire code: `received`, `assigned`, `in_progress`, `resolved`, `rejected`, `reopened`.
    pub status: String,
    pub status_label: String,
    pub ward_code: String,
    pub description: String,
    pub lat: f64,
    pub lng: f64,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    pub overdue: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub mine: bool,
    pub followed: bool,
}

/// The result document of one of the citizen's dossiers (the signed decision or
/// certificate), as downloaded: the file name the centre gave it, its type
/// (`application/pdf`, `image/jpeg` or `image/png`) and its bytes, for the app to save or
/// open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}
