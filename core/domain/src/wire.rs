//! Wire types of the HTTP API (serde), shared by the server and the client so both sides
//! agree on every field by construction.

use serde::{Deserialize, Serialize};

use crate::form::FormDef;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

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
}

/// One administrative procedure (thủ tục hành chính), with its form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// Code of its [`FieldInfo`].
    pub field: String,
    /// The competent agency (cơ quan có thẩm quyền).
    pub agency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_en: Option<String>,
    /// Legal processing time in working days (0: the same day).
    pub processing_days: u32,
    pub fee_vnd: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_note: Option<String>,
    pub online_level: OnlineLevel,
    /// Phi địa giới: any branch may receive it.
    pub boundary_free: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    pub required_documents: Vec<RequiredDocument>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub form: FormDef,
    /// Catalogue version at which this procedure last changed (0 in seed files).
    #[serde(default)]
    pub version: i64,
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
    pub fee_vnd: i64,
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
}

/// What changed in the catalogue after a client's version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogueChanges {
    /// The version the client has after applying this answer.
    pub version: i64,
    pub since: i64,
    pub fields: Vec<FieldInfo>,
    /// Procedures added or changed after `since`, in full.
    pub procedures: Vec<Procedure>,
    /// Codes of procedures withdrawn from the catalogue after `since`.
    pub retired: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BranchKind {
    HeadOffice,
    Branch,
    ReceivingPoint,
}

/// A service point of the center (trụ sở, chi nhánh, điểm tiếp nhận).
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
    pub lat: f64,
    pub lng: f64,
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
    Officer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "citizen" => Some(Role::Citizen),
            "officer" => Some(Role::Officer),
            "admin" => Some(Role::Admin),
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
