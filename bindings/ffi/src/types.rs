//! The records and enums of the surface: `motcua-client`'s own plain-data types, exported
//! as uniffi *remote* types. Each definition below mirrors the client's (the compiler
//! checks every field), so there is no copy and no conversion code; the documentation of
//! each type lives in `motcua-client` (`API.md`).

use std::collections::HashMap;

use motcua_client::{
    CatalogueSyncReport, ClientConfig, DeadlineState, DossierDetail, DossierItem, DossierStatus, DossierStatusChange,
    Draft, DraftFile, DraftState, DraftSummary, DroppedField, FieldIssue, FieldValue, FormField, FormFieldKind,
    FormGroupItem, FormOption, FormView, HttpHeader, HttpRequest, HttpResponse, NotificationItem, NotificationKind,
    NotificationSettings, OnlineLevel, OutboxEvent, OutboxItem, OutboxReport, OutboxStage, OutboxState, ParkReason,
    PhoneVerification, ProcedureDetail, ProcedureField, ProcedureItem, PublicTracking, PushMessage, PushRegistration,
    PushTarget, ReportDraft, ReportDraftInput, ReportItem, ReportPhotoFile, Role, ServicePoint, StoredTokens,
    SupplementRequest, TimelineAction, TimelineItem, TrackingStep, UserProfile, WardItem,
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
    pub role: Role,
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
    pub online_level: OnlineLevel,
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
    pub supplement_for: Option<String>,
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
    pub status: DossierStatus,
    pub status_label: String,
    pub branch_code: String,
    pub submitted_at_ms: i64,
    pub updated_at_ms: i64,
    pub due_date: Option<String>,
    pub deadline: DeadlineState,
}

#[uniffi::remote(Record)]
pub struct TimelineItem {
    pub at_ms: i64,
    pub action: TimelineAction,
    pub from_status: Option<DossierStatus>,
    pub to_status: DossierStatus,
    pub actor_role: Role,
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
    pub supplement_request: Option<SupplementRequest>,
}

/// What the officer asked for, while a dossier waits for a supplement.
#[uniffi::remote(Record)]
pub struct SupplementRequest {
    pub note: String,
    pub requested_at_ms: i64,
    pub by_agency: bool,
    pub requested_by: Option<String>,
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
    pub status: DossierStatus,
    pub status_label: String,
    pub description: Option<String>,
}

/// What anyone holding the receipt sees of a dossier, without an account.
#[uniffi::remote(Record)]
pub struct PublicTracking {
    pub code: String,
    pub procedure_name: String,
    pub status: DossierStatus,
    pub status_label: String,
    pub submitted_at_ms: i64,
    pub received_at_ms: Option<i64>,
    pub due_date: Option<String>,
    pub deadline: DeadlineState,
    pub steps: Vec<TrackingStep>,
}

#[uniffi::remote(Record)]
pub struct DossierStatusChange {
    pub dossier_id: String,
    pub dossier_code: String,
    pub from_status: Option<DossierStatus>,
    pub to_status: DossierStatus,
}

#[uniffi::remote(Record)]
pub struct NotificationItem {
    pub id: String,
    pub kind: NotificationKind,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    pub status: Option<DossierStatus>,
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

/// A field's value, typed by the field's kind; `set_field` takes one (none clears).
#[uniffi::remote(Enum)]
pub enum FieldValue {
    Text {
        value: String,
    },
    Number {
        value: f64,
    },
    Bool {
        value: bool,
    },
    Date {
        value: String,
    },
    Choice {
        value: String,
    },
    Choices {
        values: Vec<String>,
    },
    Address {
        province: String,
        ward: String,
        ward_code: Option<String>,
        district: Option<String>,
        street: Option<String>,
    },
    Group {
        items: Vec<HashMap<String, FieldValue>>,
    },
    Files {
        file_ids: Vec<String>,
    },
}

#[uniffi::remote(Record)]
pub struct FormOption {
    pub value: String,
    pub label: String,
}

/// What input a field wants, with its rules (date bounds resolved to `YYYY-MM-DD`).
#[uniffi::remote(Enum)]
pub enum FormFieldKind {
    Text {
        multiline: bool,
        min_length: Option<u32>,
        max_length: Option<u32>,
        pattern: Option<String>,
    },
    CitizenId,
    Phone,
    Email,
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    Date {
        min: Option<String>,
        max: Option<String>,
    },
    Select {
        options: Vec<FormOption>,
        multiple: bool,
    },
    Checkbox {
        must_be_true: bool,
    },
    Address {
        provinces: Vec<String>,
    },
    Group {
        min_items: Option<u32>,
        max_items: Option<u32>,
        template: Vec<FormField>,
        items: Vec<FormGroupItem>,
    },
    Attachment {
        document: String,
        max_files: Option<u32>,
        max_bytes: u64,
        accepted_types: Vec<String>,
        files: Vec<DraftFile>,
    },
}

#[uniffi::remote(Record)]
pub struct FormGroupItem {
    pub index: u32,
    pub fields: Vec<FormField>,
}

/// One field ready to render: draw it when `visible`.
#[uniffi::remote(Record)]
pub struct FormField {
    pub key: String,
    pub path: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub visible: bool,
    pub kind: FormFieldKind,
    pub value: Option<FieldValue>,
    pub issues: Vec<FieldIssue>,
}

/// A draft as a form to render.
#[uniffi::remote(Record)]
pub struct FormView {
    pub draft_id: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub form_version: u32,
    pub state: DraftState,
    pub editable: bool,
    pub branch_code: Option<String>,
    pub fields: Vec<FormField>,
    pub issues: Vec<FieldIssue>,
}

/// Where a dossier stands; `Unknown` keeps a code newer than the app.
#[uniffi::remote(Enum)]
pub enum DossierStatus {
    Submitted,
    Received,
    InProcessing,
    AtAgency,
    SupplementRequested,
    Approved,
    Rejected,
    ResultReturned,
    Withdrawn,
    Unknown { code: String },
}

/// How a dossier stands against its deadline.
#[uniffi::remote(Enum)]
pub enum DeadlineState {
    NotStarted,
    OnTime,
    AtRisk,
    Overdue,
    Paused,
    Unknown { code: String },
}

#[uniffi::remote(Enum)]
pub enum Role {
    Citizen,
    Officer,
    Admin,
    AgencyOfficer,
    Unknown { code: String },
}

/// What happened at a step of a dossier's timeline.
#[uniffi::remote(Enum)]
pub enum TimelineAction {
    Submit,
    Receive,
    StartProcessing,
    RequestSupplement,
    AnswerSupplement,
    Approve,
    Reject,
    ReturnResult,
    Withdraw,
    Forward,
    AgencyApprove,
    AgencyRefuse,
    AgencyRequestSupplement,
    Assign,
    Rate,
    Unknown { code: String },
}

#[uniffi::remote(Enum)]
pub enum NotificationKind {
    DossierStatus,
    ReportStatus,
    Announcement,
    Unknown { code: String },
}

/// Toàn trình (`Full`) or một phần (`Partial`).
#[uniffi::remote(Enum)]
pub enum OnlineLevel {
    Full,
    Partial,
    Unknown { code: String },
}

/// A dossier's result document as downloaded.
#[uniffi::remote(Record)]
pub struct ResultFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}
