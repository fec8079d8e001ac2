//! Wire types of the HTTP API (serde), shared by the server and the client so both sides
//! agree on every field by construction.

use serde::{Deserialize, Serialize};

use crate::form::FormDef;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

pub mod catalogue;
#[cfg(feature = "openapi")]
pub mod form_schema;
pub mod reports;

/// The one error shape of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// Human-readable message, Vietnamese unless `Accept-Language: en`.
    pub message: String,
    /// Per-field problems (empty when the error is not about one field).
    #[serde(default)]
    pub fields: Vec<WireFieldError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WireFieldError {
    /// Path of the field, e.g. `citizen_id`, `members[1].full_name`, `lat`.
    pub path: String,
    pub code: String,
    pub message: String,
}

/// A field (lĩnh vực) of procedures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldInfo {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// How much of a procedure can be done online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    /// Toàn trình: from filing to result, online.
    Full,
    /// Một phần: filed online, some step on paper or in person.
    Partial,
}

/// A paper the procedure requires (thành phần hồ sơ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequiredDocument {
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// An original (bản chính) rather than a copy (bản sao).
    pub original: bool,
    pub count: u32,
    /// Needed only in this case ("Khi nộp thay theo ủy quyền"); absent: always needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_when: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_when_en: Option<String>,
}

/// One administrative procedure (thủ tục hành chính), with its form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    /// The English name; absent in a catalogue answer asked in Vietnamese (`lang=vi`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name_en: String,
    /// Code of its [`FieldInfo`].
    pub field: String,
    /// The competent agency (cơ quan có thẩm quyền).
    pub agency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_en: Option<String>,
    /// Legal processing time in working days (0: the same day).
    pub processing_days: u32,
    /// The agencies the centre forwards a received dossier to, in order (một cửa liên
    /// thông), each with its share of the legal time; empty: the branch handles it alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agency_legs: Vec<AgencyLegPlan>,
    /// The fee (lệ phí) when filed at the counter, in đồng.
    pub fee_vnd: i64,
    /// The fee when filed online, where the law sets a lower one (absent: the same as
    /// `fee_vnd`). The app files online, so this is the fee it shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_online_vnd: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_note: Option<String>,
    pub online_level: OnlineLevel,
    /// Phi địa giới: any branch may receive it.
    pub boundary_free: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    pub required_documents: Vec<RequiredDocument>,
    #[cfg_attr(feature = "openapi", schema(value_type = form_schema::FormDefinition))]
    pub form: FormDef,
    /// Other names citizens use for it ("sổ đỏ", "bằng lái", "LLTP"), searched like its
    /// name; kept as data beside the catalogue (`server/seed/search.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Estimated share of filings, 0 to 100: breaks ties in search (the most filed first).
    #[serde(default)]
    pub popularity: u32,
    /// Catalogue version at which this procedure last changed (0 in seed files).
    #[serde(default)]
    pub version: i64,
}

/// One leg of a procedure's route through the agencies: the agency's code and its share of
/// the legal time, given as working days or as a percentage (rounded down); exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgencyLegPlan {
    pub agency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_percent: Option<u32>,
}

/// A competent agency (cơ quan có thẩm quyền) that dossiers are forwarded to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// Short stable code, e.g. `HN.SXD`.
    pub code: String,
    pub name: String,
    pub name_en: String,
}

impl Procedure {
    /// What filing online costs: the online fee where one is set, else the counter fee.
    pub fn online_fee_vnd(&self) -> i64 {
        self.fee_online_vnd.unwrap_or(self.fee_vnd)
    }
}

/// A procedure in a list, without its form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProcedureSummary {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub field: String,
    pub agency: String,
    pub processing_days: u32,
    /// The fee at the counter.
    pub fee_vnd: i64,
    /// The fee when filed online, where it is lower (see [`Procedure::fee_online_vnd`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_online_vnd: Option<i64>,
    pub online_level: OnlineLevel,
    pub boundary_free: bool,
    pub version: i64,
}

impl From<&Procedure> for ProcedureSummary {
    fn from(p: &Procedure) -> Self {
        Self {
            code: p.code.clone(),
            name: p.name.clone(),
            name_en: p.name_en.clone(),
            field: p.field.clone(),
            agency: p.agency.clone(),
            processing_days: p.processing_days,
            fee_vnd: p.fee_vnd,
            fee_online_vnd: p.fee_online_vnd,
            online_level: p.online_level,
            boundary_free: p.boundary_free,
            version: p.version,
        }
    }
}

/// One page of a catalogue search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProcedurePage {
    pub items: Vec<ProcedureSummary>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub catalogue_version: i64,
    /// Nothing covered the query well: `items` are the nearest procedures (or, when
    /// nothing matched at all, the most filed ones), shown rather than an empty page.
    #[serde(default)]
    pub nearest: bool,
    /// Fields (lĩnh vực) to suggest beside the items: those of the best items, or every
    /// field when nothing matched. Empty for an empty query.
    #[serde(default)]
    pub fields: Vec<FieldInfo>,
}

/// What changed in the catalogue after a client's version.
///
/// Asked with `lang`, the answer is in that language: every text of a procedure once, as a
/// plain string (see [`Procedure::in_language`]), and each form field that occurs in more
/// than one procedure of the answer once, in `shared_fields`, referred to from a form's
/// `fields` as `{"shared": i}` (see [`catalogue::pack`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogueChanges {
    /// The version the client has after applying this answer.
    pub version: i64,
    pub since: i64,
    /// The language of the answer's texts when one was asked for; absent: bilingual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<crate::i18n::Lang>,
    pub fields: Vec<FieldInfo>,
    /// Procedures added or changed after `since`, in full.
    pub procedures: Vec<Procedure>,
    /// Codes of procedures withdrawn from the catalogue after `since`.
    pub retired: Vec<String>,
    /// With `lang`: the form fields shared by several procedures of this answer, each
    /// referred to from a form's `fields` as `{"shared": i}` (its index here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<form_schema::FormFieldDef>))]
    pub shared_fields: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BranchKind {
    HeadOffice,
    Branch,
    ReceivingPoint,
    /// The public administration service point of a ward or commune (since 1 July 2025).
    WardPoint,
}

impl BranchKind {
    /// Whether a point of this kind takes a procedure: receiving points and the wards'
    /// service points take boundary-free procedures only (a ward's own procedures are
    /// filed with the ward, not through the centre). The server and the phone apply it.
    pub fn accepts(self, boundary_free: bool) -> bool {
        boundary_free || matches!(self, BranchKind::HeadOffice | BranchKind::Branch)
    }
}

/// A service point of the center (trụ sở, chi nhánh, điểm tiếp nhận) or of a ward
/// (điểm phục vụ hành chính công cấp xã).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub code: String,
    pub name: String,
    pub kind: BranchKind,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    /// The ward's code (see `motcua_domain::admin`), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward_code: Option<String>,
    pub lat: f64,
    pub lng: f64,
    /// The position is approximate (the ward's centre), not the building's.
    #[serde(default, skip_serializing_if = "is_false")]
    pub approximate_position: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NearbyBranch {
    #[serde(flatten)]
    pub branch: Branch,
    /// Great-circle distance from the given point, in kilometres.
    pub distance_km: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BranchList {
    pub items: Vec<NearbyBranch>,
}

/// A day off (or a make-up working day) of the working-day calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CalendarDay {
    pub date: String,
    pub name: String,
    pub working: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    /// Staff of a branch of the centre (receives, forwards, returns).
    Officer,
    Admin,
    /// Staff of a competent agency (a city department, the police...): decides its leg of
    /// the dossiers forwarded to the agency.
    AgencyOfficer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Admin => "admin",
            Role::AgencyOfficer => "agency_officer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "citizen" => Some(Role::Citizen),
            "officer" => Some(Role::Officer),
            "admin" => Some(Role::Admin),
            "agency_officer" => Some(Role::AgencyOfficer),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisterRequest {
    /// 12-digit CCCD.
    pub citizen_id: String,
    pub phone: String,
    pub full_name: String,
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// The answer to a registration: a code was sent by SMS to the phone (the same answer
/// whether or not the number already has an account); the account exists once the code
/// comes back with `POST /auth/register/verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhoneChallenge {
    pub verification_id: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
}

/// The code received by SMS, for the registration it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerifyPhoneRequest {
    pub verification_id: String,
    /// Six digits.
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginRequest {
    /// CCCD or phone number.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserInfo {
    pub id: String,
    pub full_name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<String>,
    pub phone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The agency of an agency officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub user: UserInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
}

// ---------------------------------------------------------------------------------------
// Attachments and resumable uploads
// ---------------------------------------------------------------------------------------

/// A stored file (photo or scan of a paper), owned by the account that uploaded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Attachment {
    /// The id that form values (attachment fields) refer to.
    pub id: String,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    /// `application/pdf`, `image/jpeg` or `image/png`, detected from the bytes.
    pub content_type: String,
    pub file_name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Announces an upload (`POST /api/v1/uploads`). If the caller already stored these bytes,
/// the answer carries the attachment at once and nothing needs sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UploadStart {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-fA-F]{64}$"))]
    pub sha256: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub size: u64,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 255))]
    pub file_name: String,
}

/// Where an upload stands: send the bytes from `offset` (`PATCH /api/v1/uploads/{id}` with
/// `Upload-Offset`), until `attachment` is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UploadStatus {
    pub upload_id: String,
    pub offset: u64,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

// ---------------------------------------------------------------------------------------
// Dossiers
// ---------------------------------------------------------------------------------------

/// `POST /api/v1/dossiers` (with an `Idempotency-Key` header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SubmitDossier {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub procedure_code: String,
    /// The version of the form the values were filled on.
    pub form_version: u32,
    /// Field values; attachment fields hold attachment ids.
    #[cfg_attr(feature = "openapi", schema(value_type = form_schema::FormValues))]
    pub values: serde_json::Value,
    /// Where the citizen files (needed unless the procedure is boundary-free; defaults to
    /// the head office).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_code: Option<String>,
}

/// One step of a dossier's history (the audit trail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimelineEntry {
    pub at: chrono::DateTime<chrono::Utc>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<crate::workflow::DossierStatus>,
    pub to: crate::workflow::DossierStatus,
    /// `citizen`, `officer`, `admin`, `agency_officer`.
    pub actor_role: Role,
    /// Who did it; for a citizen, an agency's step names the agency, never its officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The agency of an inter-agency step (forwarded to it, or decided by it): its code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Its name, in the request's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_name: Option<String>,
    /// For an inter-agency step, a plain sentence naming the agency (never an officer), in
    /// the request's language (`Action::describe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One leg of a dossier's route through the competent agencies (một cửa liên thông), with
/// its share of the legal time and how it stands against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DossierLeg {
    pub agency: String,
    /// In the request's language.
    pub agency_name: String,
    /// Its share of the legal processing time, in working days.
    pub days: u32,
    pub state: crate::workflow::LegState,
    /// The day it was forwarded to the agency (local date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<chrono::NaiveDate>,
    /// Its own due date: `days` working days after `started_on`, pushed back by the working
    /// days it waited for a supplement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<chrono::NaiveDate>,
    pub deadline: crate::workflow::DeadlineState,
}

/// The citizen's satisfaction rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rating {
    /// 1 (very unsatisfied) to 5 (very satisfied).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A dossier in full, with its timeline and deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Dossier {
    pub id: String,
    /// Public dossier code printed on the receipt, e.g. `H26.12-261124-0042`.
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub form_version: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = form_schema::FormValues))]
    pub values: serde_json::Value,
    pub status: crate::workflow::DossierStatus,
    pub branch_code: String,
    pub applicant_name: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Legal due date (local date), once received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<chrono::NaiveDate>,
    pub deadline: crate::workflow::DeadlineState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// The secret printed on the applicant's receipt beside the code: with both, anyone
    /// may follow the dossier (`/public/dossiers/{code}?verifier=`). Shown to the
    /// applicant only; absent on dossiers filed before verifiers existed (their verifier
    /// is the last 4 digits of the applicant's phone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_verifier: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    /// The route through the competent agencies, in order (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legs: Vec<DossierLeg>,
    /// The result document (signed decision or certificate) the centre attached: its
    /// bytes at `GET /api/v1/dossiers/{id}/result`. The applicant sees it once the
    /// result is returned (or the dossier rejected); staff as soon as it is attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_document: Option<ResultDocument>,
}

/// The result document of a dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResultDocument {
    pub file_name: String,
    /// `application/pdf`, `image/jpeg` or `image/png`, detected from the bytes.
    pub content_type: String,
    pub size: u64,
    pub attached_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/v1/dossiers/{id}/result`: the officer's own upload to attach as the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttachResult {
    /// An attachment the officer uploaded (`POST /api/v1/attachments`).
    pub attachment_id: String,
}

/// A dossier in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DossierSummary {
    pub id: String,
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub status: crate::workflow::DossierStatus,
    pub branch_code: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<chrono::NaiveDate>,
    pub deadline: crate::workflow::DeadlineState,
    /// The agency of the leg under way (at the agency, or paused by its supplement request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// That leg's own due date and how it stands (an overdue leg is `overdue` here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg_due_date: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg_deadline: Option<crate::workflow::DeadlineState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DossierList {
    pub items: Vec<DossierSummary>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/dossiers/{id}/transitions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TransitionRequest {
    pub action: crate::workflow::Action,
    /// Required for `reject` (the reason), `request_supplement` (what to add),
    /// `agency_approve` (the result), `agency_refuse` (the reason) and
    /// `agency_request_supplement` (what to add).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `forward` only: the agency named by the officer; it must be the next one of the
    /// procedure's route (absent: the next one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

/// `POST /api/v1/dossiers/{id}/supplement`: the citizen's answer to a supplement request;
/// `values` replace the dossier's values (validated again in full).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SupplementAnswer {
    #[cfg_attr(feature = "openapi", schema(value_type = form_schema::FormValues))]
    pub values: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `GET /api/v1/public/dossiers/{code}`: what anyone with the receipt may see (no
/// personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicDossier {
    pub code: String,
    pub procedure_name: String,
    pub status: crate::workflow::DossierStatus,
    pub status_label: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<chrono::NaiveDate>,
    pub deadline: crate::workflow::DeadlineState,
    pub steps: Vec<PublicStep>,
    /// The route through the competent agencies (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legs: Vec<DossierLeg>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicStep {
    pub at: chrono::DateTime<chrono::Utc>,
    pub status: crate::workflow::DossierStatus,
    pub status_label: String,
    /// For an inter-agency step, a plain sentence naming the agency (never an officer),
    /// e.g. “Hồ sơ được chuyển đến Sở Xây dựng thành phố Hà Nội để giải quyết.”
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------------------

/// An entry of the citizen's notification inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Notification {
    pub id: String,
    /// `dossier_status` for a status change.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dossier_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dossier_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::workflow::DossierStatus>,
    /// The field report this is about (`kind` `report_status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    pub title: String,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationList {
    pub items: Vec<Notification>,
    pub unread: u64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The platform of a registered phone (iOS phones are reached through FCM as well).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DevicePlatform {
    Android,
    Ios,
}

impl DevicePlatform {
    pub fn as_str(self) -> &'static str {
        match self {
            DevicePlatform::Android => "android",
            DevicePlatform::Ios => "ios",
        }
    }

    pub fn parse(s: &str) -> Option<DevicePlatform> {
        match s {
            "android" => Some(DevicePlatform::Android),
            "ios" => Some(DevicePlatform::Ios),
            _ => None,
        }
    }
}

/// A phone's registration for push notifications (`POST /api/v1/devices`). Registering a
/// token again refreshes it; a token registered by another account moves to this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    /// The FCM registration token: printable ASCII, at most 4096 characters.
    pub token: String,
    pub platform: DevicePlatform,
    /// The app's version, e.g. `1.4.2` (at most 40 characters).
    pub app_version: String,
    /// The language notifications are written in on this phone.
    pub locale: crate::i18n::Lang,
}

/// A registered phone as the server keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Device {
    pub token: String,
    pub platform: DevicePlatform,
    pub app_version: String,
    pub locale: crate::i18n::Lang,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
}

/// Which kinds of push notification a citizen wants (all on by default), and the ward
/// (phường/xã) whose announcements they follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferences {
    /// Status changes of the citizen's dossiers.
    pub dossier_updates: bool,
    /// Answers to the citizen's field reports.
    pub report_updates: bool,
    /// The city's and the ward's announcements (campaigns).
    pub announcements: bool,
    /// Code of the ward or commune whose announcements the citizen receives (besides the
    /// city's); none: city-wide announcements only.
    #[serde(default)]
    pub ward_code: Option<String>,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        NotificationPreferences { dossier_updates: true, report_updates: true, announcements: true, ward_code: None }
    }
}

/// Who receives a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CampaignAudience {
    /// Every citizen's phones.
    City,
    /// Citizens following one ward or commune (their notification preferences' `ward_code`).
    Ward { ward_code: String },
    /// The phones of the accounts listed (at most 10,000).
    Accounts { user_ids: Vec<String> },
}

/// An announcement by the operators (`POST /api/v1/ops/push/campaigns`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// Title in Vietnamese and English (each at most 200 characters).
    pub title: CampaignText,
    /// Body in Vietnamese and English (each at most 1000 characters).
    pub body: CampaignText,
    pub audience: CampaignAudience,
    /// When to start sending (now when absent).
    #[serde(default)]
    pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CampaignText {
    pub vi: String,
    pub en: String,
}

/// The state of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Waiting for its time.
    Scheduled,
    /// Its messages are being queued, one page of devices at a time.
    FanningOut,
    /// Every message is queued (see the statistics for their delivery).
    Queued,
    /// Cancelled before it started.
    Cancelled,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Scheduled => "scheduled",
            CampaignState::FanningOut => "fanning_out",
            CampaignState::Queued => "queued",
            CampaignState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<CampaignState> {
        match s {
            "scheduled" => Some(CampaignState::Scheduled),
            "fanning_out" => Some(CampaignState::FanningOut),
            "queued" => Some(CampaignState::Queued),
            "cancelled" => Some(CampaignState::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Campaign {
    pub id: String,
    pub title: CampaignText,
    pub body: CampaignText,
    pub audience: CampaignAudience,
    pub scheduled_at: chrono::DateTime<chrono::Utc>,
    pub state: CampaignState,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Delivery figures of one campaign, or of everything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushFigures {
    /// Messages waiting to be sent (including those being sent and those waiting for a retry).
    pub queued: u64,
    pub sent: u64,
    /// Messages given up, by FCM error code (`UNREGISTERED`, `INVALID_ARGUMENT`, ...).
    pub failed: std::collections::BTreeMap<String, u64>,
    /// Send attempts beyond the first.
    pub retries: u64,
    /// Age in seconds of the oldest message still waiting (0 when none).
    pub oldest_queued_secs: u64,
}

/// `GET /api/v1/ops/push/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushStats {
    pub overall: PushFigures,
    /// Registration tokens deactivated (FCM said the token is dead), by reason.
    pub tokens_deactivated: std::collections::BTreeMap<String, u64>,
    /// Tokens unused for 30 days (no longer targeted).
    pub tokens_stale: u64,
    /// Per campaign (the newest 100), keyed by campaign id.
    pub campaigns: std::collections::BTreeMap<String, PushFigures>,
}
