//! The records and enums of the surface: `motcua-client`'s own plain-data types, exported
//! as uniffi *remote* types. Each definition below mirrors the client's (the compiler
//! checks every field), so there is no copy and no conversion code; the documentation of
//! each type lives in `motcua-client` (`API.md`).

use motcua_client::{
    CatalogueSyncReport, ClientConfig, DossierDetail, DossierItem, DossierStatusChange, Draft, DraftFile, DraftState,
    DraftSummary, DroppedField, FieldIssue, HttpHeader, HttpRequest, HttpResponse, NotificationItem,
    NotificationSettings, OutboxEvent, OutboxItem, OutboxReport, OutboxStage, OutboxState, ParkReason,
    PhoneVerification, ProcedureDetail, ProcedureField, ProcedureItem, PublicTracking, PushMessage, PushRegistration,
    PushTarget, ReportDraft, ReportDraftInput, ReportItem, ReportPhotoFile, ServicePoint, StoredTokens, TimelineItem,
    TrackingStep, UserProfile, WardItem,
};

use motcua_client::ResultFile;

/// How the app configures the client: `base_url` and `data_dir` are required; `language`
/// defaults to `vi`; `upload_chunk_size` and `request_timeout_ms` default to 0 (the
/// core's defaults: 256 KiB, 30 s).
#[uniffi::remote(Record)]
pub struct ClientConfig {
    pub base_url: String,
    pub data_dir: String,
    #[uniffi(default = "vi")]
    pub language: String,
    #[uniffi(default = 0)]
    pub upload_chunk_size: u64,
    #[uniffi(default = 0)]
    pub request_timeout_ms: u64,
}

/// The tokens of the signed-in account, kept by the app's secure storage.
#[uniffi::remote(Record)]
pub struct StoredTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at_ms: i64,
    pub refresh_expires_at_ms: i64,
}

#[uniffi::remote(Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// One request for the app's HTTP stack: send it as is, do not retry or follow redirects.
#[uniffi::remote(Record)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

/// The answer, whatever its status.
#[uniffi::remote(Record)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

/// One problem with one field, ready to show next to it.
#[uniffi::remote(Record)]
pub struct FieldIssue {
    pub path: String,
    pub code: String,
    pub message: String,
}

/// A registration waiting for the code sent to the phone by SMS.
#[uniffi::remote(Record)]
pub struct PhoneVerification {
    pub verification_id: String,
    pub phone: String,
    pub expires_in_secs: u64,
}

#[uniffi::remote(Record)]
pub struct UserProfile {
    pub id: String,
    pub full_name: String,
    pub role: String,
    pub phone: String,
    pub citizen_id: Option<String>,
    pub email: Option<String>,
}

#[uniffi::remote(Record)]
pub struct CatalogueSyncReport {
    pub version: i64,
    pub changed: u32,
    pub retired: u32,
    pub not_modified: bool,
    pub drafts_migrated: u32,
}

#[uniffi::remote(Record)]
pub struct WardItem {
    pub code: String,
    pub name: String,
    pub province: String,
}

#[uniffi::remote(Record)]
pub struct ProcedureField {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

#[uniffi::remote(Record)]
pub struct ProcedureItem {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub field: String,
    pub agency: String,
    pub processing_days: u32,
    pub fee_vnd: i64,
    pub fee_online_vnd: i64,
    pub online_full: bool,
    pub boundary_free: bool,
    pub version: i64,
    pub nearest: bool,
}

#[uniffi::remote(Record)]
pub struct ProcedureDetail {
    pub item: ProcedureItem,
    pub form_version: u32,
    pub form_json: String,
    pub procedure_json: String,
}

#[uniffi::remote(Enum)]
pub enum DraftState {
    Editing,
    Queued,
    Parked,
    Sent,
}

#[uniffi::remote(Record)]
pub struct DraftSummary {
    pub id: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub form_version: u32,
    pub state: DraftState,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub file_count: u32,
    pub dropped_count: u32,
    pub procedure_retired: bool,
    pub dossier_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct Draft {
    pub summary: DraftSummary,
    pub branch_code: Option<String>,
    pub form_json: String,
    pub values_json: String,
    pub files: Vec<DraftFile>,
    pub dropped: Vec<DroppedField>,
    pub issues: Vec<FieldIssue>,
}

#[uniffi::remote(Record)]
pub struct DraftFile {
    pub id: String,
    pub field_key: String,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded: bool,
}

#[uniffi::remote(Record)]
pub struct DroppedField {
    pub path: String,
    pub value_json: String,
    pub reason: String,
    pub form_version: u32,
}

#[uniffi::remote(Enum)]
pub enum OutboxState {
    Pending,
    Parked,
    Sent,
}

#[uniffi::remote(Enum)]
pub enum ParkReason {
    Validation,
    Conflict,
    Forbidden,
    ProcedureUnavailable,
    Other { code: String },
}

#[uniffi::remote(Record)]
pub struct OutboxItem {
    pub id: String,
    pub draft_id: String,
    pub idempotency_key: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at_ms: i64,
    pub park_reason: Option<ParkReason>,
    pub dossier_id: Option<String>,
    pub report_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct OutboxReport {
    pub sent: u32,
    pub pending: u32,
    pub parked: u32,
    pub next_retry_in_ms: Option<u64>,
}

#[uniffi::remote(Record)]
pub struct OutboxEvent {
    pub item_id: String,
    pub draft_id: String,
    pub stage: OutboxStage,
}

#[uniffi::remote(Enum)]
pub enum OutboxStage {
    Uploading { file_id: String, sent_bytes: u64, total_bytes: u64 },
    Submitting,
    Sent { dossier_id: String, dossier_code: String },
    ReportSent { report_id: String, report_code: String },
    Retrying { attempt: u32, in_ms: u64 },
    Parked { reason: ParkReason },
}

#[uniffi::remote(Record)]
pub struct DossierItem {
    pub id: String,
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub status: String,
    pub status_label: String,
    pub branch_code: String,
    pub submitted_at_ms: i64,
    pub updated_at_ms: i64,
    pub due_date: Option<String>,
    pub deadline: String,
}

#[uniffi::remote(Record)]
pub struct TimelineItem {
    pub at_ms: i64,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_role: String,
    pub actor_name: Option<String>,
    pub note: Option<String>,
}

#[uniffi::remote(Record)]
pub struct DossierDetail {
    pub item: DossierItem,
    pub form_version: u32,
    pub values_json: String,
    pub timeline: Vec<TimelineItem>,
    pub tracking_verifier: Option<String>,
    pub rating_score: Option<u32>,
    pub rating_comment: Option<String>,
}

/// A service point, cached for offline use; `distance_km` when a position was given.
#[uniffi::remote(Record)]
pub struct ServicePoint {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub ward: Option<String>,
    pub phone: Option<String>,
    pub opening_hours: Option<String>,
    pub lat: f64,
    pub lng: f64,
    pub approximate_position: bool,
    pub distance_km: Option<f64>,
}

#[uniffi::remote(Record)]
pub struct TrackingStep {
    pub at_ms: i64,
    pub status: String,
    pub status_label: String,
    pub description: Option<String>,
}

/// What anyone holding the receipt sees of a dossier, without an account.
#[uniffi::remote(Record)]
pub struct PublicTracking {
    pub code: String,
    pub procedure_name: String,
    pub status: String,
    pub status_label: String,
    pub submitted_at_ms: i64,
    pub received_at_ms: Option<i64>,
    pub due_date: Option<String>,
    pub deadline: String,
    pub steps: Vec<TrackingStep>,
}

#[uniffi::remote(Record)]
pub struct DossierStatusChange {
    pub dossier_id: String,
    pub dossier_code: String,
    pub from_status: Option<String>,
    pub to_status: String,
}

#[uniffi::remote(Record)]
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

#[uniffi::remote(Record)]
pub struct PushRegistration {
    pub token: String,
    pub platform: String,
    pub app_version: String,
    pub sent: bool,
}

#[uniffi::remote(Enum)]
pub enum PushTarget {
    Dossier { dossier_id: String },
    Report { report_id: String },
    Announcement { campaign_id: String },
    Unknown { kind: String },
}

#[uniffi::remote(Record)]
pub struct PushMessage {
    pub notification_id: String,
    pub target: PushTarget,
}

#[uniffi::remote(Record)]
pub struct NotificationSettings {
    pub dossier_updates: bool,
    pub report_updates: bool,
    pub announcements: bool,
    pub ward_code: Option<String>,
}

#[uniffi::remote(Record)]
pub struct ReportDraftInput {
    pub category: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: String,
    pub hide_identity: bool,
}

#[uniffi::remote(Record)]
pub struct ReportPhotoFile {
    pub id: String,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded: bool,
}

#[uniffi::remote(Record)]
pub struct ReportDraft {
    pub id: String,
    pub category: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: String,
    pub hide_identity: bool,
    pub state: DraftState,
    pub report_id: Option<String>,
    pub updated_at_ms: i64,
    pub photos: Vec<ReportPhotoFile>,
    pub issues: Vec<FieldIssue>,
}

#[uniffi::remote(Record)]
pub struct ReportItem {
    pub id: String,
    pub code: String,
    pub category: String,
    pub status: String,
    pub status_label: String,
    pub ward_code: String,
    pub description: String,
    pub lat: f64,
    pub lng: f64,
    pub due_date: String,
    pub overdue: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub mine: bool,
    pub followed: bool,
}

/// A dossier's result document as downloaded.
#[uniffi::remote(Record)]
pub struct ResultFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}
