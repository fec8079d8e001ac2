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
    /// `vi` (default) or `en`: the language of validation messages and of the catalogue
    /// (fetched in it; a change fetches the whole catalogue again at the next sync).
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
    pub role: Role,
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
    /// The Vietnamese name (the one search folds).
    pub name: String,
    /// The English name; empty while the catalogue is held in Vietnamese (`language` `vi`).
    pub name_en: String,
    pub field: String,
    /// The competent agency, in the catalogue's language.
    pub agency: String,
    pub processing_days: u32,
    /// The fee at the counter, in đồng.
    pub fee_vnd: i64,
    /// The fee when filed online, as through this app (lower than at the counter for some
    /// procedures, e.g. residence registration): the fee the app shows.
    pub fee_online_vnd: i64,
    /// Toàn trình (fully online) or partially online.
    pub online_level: OnlineLevel,
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
    /// An answer to a supplement request: the dossier it answers (submitted like a
    /// dossier, posted to that dossier once).
    pub supplement_for: Option<String>,
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
    pub status: DossierStatus,
    /// The status for people, in the client's language.
    pub status_label: String,
    pub branch_code: String,
    pub submitted_at_ms: i64,
    pub updated_at_ms: i64,
    /// `YYYY-MM-DD`, once received.
    pub due_date: Option<String>,
    pub deadline: DeadlineState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineItem {
    pub at_ms: i64,
    pub action: TimelineAction,
    pub from_status: Option<DossierStatus>,
    pub to_status: DossierStatus,
    pub actor_role: Role,
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
    /// While the dossier waits for a supplement: what the officer asked for (answer it
    /// with `start_supplement_answer`).
    pub supplement_request: Option<SupplementRequest>,
}

/// An officer's request for a supplement to a dossier: what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplementRequest {
    /// What to add or correct, as the officer wrote it.
    pub note: String,
    pub requested_at_ms: i64,
    /// Asked by a competent agency down the route (not the centre's officer).
    pub by_agency: bool,
    /// The officer's or agency's name, when the server shows it.
    pub requested_by: Option<String>,
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
    /// The status reached.
    pub status: DossierStatus,
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
    pub status: DossierStatus,
    /// In the client's language.
    pub status_label: String,
    pub submitted_at_ms: i64,
    pub received_at_ms: Option<i64>,
    /// `YYYY-MM-DD`, once received.
    pub due_date: Option<String>,
    pub deadline: DeadlineState,
    pub steps: Vec<TrackingStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierStatusChange {
    pub dossier_id: String,
    pub dossier_code: String,
    pub from_status: Option<DossierStatus>,
    pub to_status: DossierStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A form field's value, typed: what `set_field` takes and what the form view shows. The
/// variant follows the field's kind (see [`FormFieldKind`]); `None` (no value) clears.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Text, citizen ID (CCCD), phone and e-mail fields.
    Text { value: String },
    /// Number fields (whole numbers travel as integers).
    Number { value: f64 },
    /// Checkbox fields.
    Bool { value: bool },
    /// Date fields: `YYYY-MM-DD`.
    Date { value: String },
    /// A single-choice select: one option's `value`.
    Choice { value: String },
    /// A multiple-choice select: distinct option values.
    Choices { values: Vec<String> },
    /// An address. `ward_code` is a ward picked from `wards(province)` (it wins over the
    /// typed names); `district` only for an address copied from a paper issued before
    /// 1 July 2025 (converted to today's ward).
    Address {
        province: String,
        ward: String,
        ward_code: Option<String>,
        district: Option<String>,
        street: Option<String>,
    },
    /// A repeated group: one map (field key to value) per item.
    Group { items: Vec<std::collections::HashMap<String, FieldValue>> },
    /// An attachment field: the local ids of its files ([`DraftFile::id`]). Shown only:
    /// files change through `attach_file` and `remove_file`, never `set_field`.
    Files { file_ids: Vec<String> },
}

/// One option of a select field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormOption {
    /// What goes into the value (`FieldValue::Choice`).
    pub value: String,
    /// In the client's language.
    pub label: String,
}

/// What input a field wants, with the kind's own rules (bounds already resolved).
#[derive(Debug, Clone, PartialEq)]
pub enum FormFieldKind {
    /// Lengths count characters after trimming; `pattern` must match the whole value.
    Text {
        multiline: bool,
        min_length: Option<u32>,
        max_length: Option<u32>,
        pattern: Option<String>,
    },
    /// A 12-digit CCCD (spaces allowed).
    CitizenId,
    /// A Vietnamese phone number.
    Phone,
    Email,
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    /// Bounds as `YYYY-MM-DD`, resolved on today's date in Vietnam (`today-100y` is a date).
    Date {
        min: Option<String>,
        max: Option<String>,
    },
    /// `multiple`: a `Choices` value, else a `Choice`.
    Select {
        options: Vec<FormOption>,
        multiple: bool,
    },
    /// `must_be_true`: a declaration the citizen must tick.
    Checkbox {
        must_be_true: bool,
    },
    /// The current provinces (the ward list of one: `wards(province)`).
    Address {
        provinces: Vec<String>,
    },
    /// A repeated group: `items` as filled, `template` the fields of a new item.
    Group {
        min_items: Option<u32>,
        max_items: Option<u32>,
        template: Vec<FormField>,
        items: Vec<FormGroupItem>,
    },
    /// Files for one of the procedure's documents (`attach_file`), checked when attached.
    Attachment {
        document: String,
        max_files: Option<u32>,
        /// The largest file accepted, in bytes.
        max_bytes: u64,
        /// Judged by the file's content: `application/pdf`, `image/jpeg`, `image/png`, `image/webp`.
        accepted_types: Vec<String>,
        files: Vec<DraftFile>,
    },
}

/// One item of a repeated group, with its fields (visibility evaluated for this item).
#[derive(Debug, Clone, PartialEq)]
pub struct FormGroupItem {
    pub index: u32,
    pub fields: Vec<FormField>,
}

/// One field, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    /// The key inside its object (what `set_field` takes at the top level).
    pub key: String,
    /// Where its issues point: `ho_ten`, `thanh_vien[1].ho_ten`.
    pub path: String,
    /// In the client's language.
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    /// Its `visible_when` holds now: draw it only then (a hidden field is neither
    /// required nor checked).
    pub visible: bool,
    pub kind: FormFieldKind,
    pub value: Option<FieldValue>,
    /// The issues of this field (of an address: of its parts too).
    pub issues: Vec<FieldIssue>,
}

/// A draft as a form to render: every field with its kind, label, rules, value and issues.
#[derive(Debug, Clone, PartialEq)]
pub struct FormView {
    pub draft_id: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub form_version: u32,
    pub state: DraftState,
    /// Values may change now (the draft is `Editing`).
    pub editable: bool,
    pub branch_code: Option<String>,
    pub fields: Vec<FormField>,
    /// Every issue of the draft (as `Draft::issues`), those shown on fields included.
    pub issues: Vec<FieldIssue>,
}

/// An enum of wire codes with a fallback for codes this app version does not know (a newer
/// server): `from_code` never fails, `as_str` gives the wire code back.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A code this app version does not know (a newer server): show the label
            /// next to it if there is one, and branch as for "other".
            Unknown { code: String },
        }

        impl $name {
            /// The value of a wire code; an unknown code is kept in `Unknown`.
            pub fn from_code(code: &str) -> $name {
                match code {
                    $($code => $name::$variant,)*
                    other => $name::Unknown { code: other.to_owned() },
                }
            }

            /// The wire code.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $code,)*
                    $name::Unknown { code } => code,
                }
            }
        }

        /// Compares the wire code (`status == "received"`).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// Where a dossier stands.
    DossierStatus {
        Submitted = "submitted",
        Received = "received",
        InProcessing = "in_processing",
        /// At a competent agency down the route.
        AtAgency = "at_agency",
        /// Waiting for the citizen's supplement (`DossierDetail::supplement_request`).
        SupplementRequested = "supplement_requested",
        Approved = "approved",
        Rejected = "rejected",
        ResultReturned = "result_returned",
        Withdrawn = "withdrawn",
    }
);

wire_enum!(
    /// How a dossier stands against its legal deadline.
    DeadlineState {
        /// Not received yet: the clock has not started.
        NotStarted = "not_started",
        OnTime = "on_time",
        /// Close to the due date.
        AtRisk = "at_risk",
        Overdue = "overdue",
        /// Stopped while waiting for a supplement.
        Paused = "paused",
    }
);

wire_enum!(
    /// Who an account (or a timeline entry's actor) is.
    Role {
        Citizen = "citizen",
        Officer = "officer",
        Admin = "admin",
        /// Staff of a competent agency.
        AgencyOfficer = "agency_officer",
    }
);

wire_enum!(
    /// What happened at a step of a dossier's timeline.
    TimelineAction {
        Submit = "submit",
        Receive = "receive",
        StartProcessing = "start_processing",
        RequestSupplement = "request_supplement",
        AnswerSupplement = "answer_supplement",
        Approve = "approve",
        Reject = "reject",
        ReturnResult = "return_result",
        Withdraw = "withdraw",
        Forward = "forward",
        AgencyApprove = "agency_approve",
        AgencyRefuse = "agency_refuse",
        AgencyRequestSupplement = "agency_request_supplement",
        Assign = "assign",
        Rate = "rate",
    }
);

wire_enum!(
    /// What a notification is about.
    NotificationKind {
        /// A dossier's status changed (`dossier_id`, `status`).
        DossierStatus = "dossier_status",
        /// A field report's status changed.
        ReportStatus = "report_status",
        /// An announcement of the city or the ward.
        Announcement = "announcement",
    }
);

wire_enum!(
    /// How much of a procedure can be done online.
    OnlineLevel {
        /// Toàn trình: from filing to result, online.
        Full = "full",
        /// Một phần: filed online, some step on paper or in person.
        Partial = "partial",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_shared_rules_is_known_and_others_fall_back() {
        for s in motcua_domain::workflow::DossierStatus::ALL {
            let status = DossierStatus::from_code(s.as_str());
            assert!(!matches!(status, DossierStatus::Unknown { .. }), "{s:?}");
            assert_eq!(status.as_str(), s.as_str());
        }
        for a in motcua_domain::workflow::Action::ALL {
            assert!(!matches!(TimelineAction::from_code(a.as_str()), TimelineAction::Unknown { .. }), "{a:?}");
        }
        for r in ["citizen", "officer", "admin", "agency_officer"] {
            assert_eq!(Role::from_code(r), r);
        }
        let newer = DossierStatus::from_code("archived");
        assert_eq!(newer, DossierStatus::Unknown { code: "archived".to_owned() });
        assert_eq!(newer.as_str(), "archived");
        assert_eq!(DeadlineState::from_code("paused"), DeadlineState::Paused);
        assert_eq!(NotificationKind::from_code("survey"), NotificationKind::Unknown { code: "survey".to_owned() });
        assert_eq!(OnlineLevel::from_code("full"), OnlineLevel::Full);
    }
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
