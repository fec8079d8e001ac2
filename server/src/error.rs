//! The one error type of the HTTP API and its JSON shape
//! `{"error": {"code", "message", "fields": [{"path", "code", "message"}]}}`.
//!
//! Messages are Vietnamese, or English when the request said `Accept-Language: en` (the
//! language travels in a task-local set by [`crate::extract::language_layer`]). A 500
//! never shows internals: the cause is logged where the error is converted, with the
//! request id, and the body only says that something went wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_domain::form::FieldError;
use motcua_domain::i18n::Lang;
use motcua_domain::reports::{ReportAction, ReportStatus};
use motcua_domain::wire::{ErrorBody, ErrorDetail, WireFieldError};
use motcua_domain::workflow::{Action, DossierStatus};

tokio::task_local! {
    /// The language of the request being served.
    pub static LANG: Lang;
}

/// The language of the current request (Vietnamese outside a request).
pub fn current_lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// Why a request conflicts with the current state: each reason has its stable code and
/// its own message (a new reason cannot be added without both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// An upload chunk sent from another offset than the bytes received so far.
    OffsetMismatch,
    /// An `Idempotency-Key` reused with a different body.
    IdempotencyConflict,
    /// The dossier changed between reading it and writing it.
    ConcurrentUpdate,
    /// An account already holds this citizen id or phone.
    AccountExists,
    /// A rating before the result was returned.
    NotReturnedYet,
    /// A second rating.
    AlreadyRated,
    /// The dossier's procedure has been retired from the catalogue.
    ProcedureRetired,
    /// Approval before every competent agency of the route has done its part.
    AgencyLegsPending,
    /// Approval or forwarding after an agency refused its part: only a rejection is left.
    AgencyRefused,
    /// Forwarding with no agency left on the procedure's route (or none at all).
    NoAgencyLeg,
    /// A field report already rated, or not resolved (only a resolution is rated).
    ReportNotRateable,
    /// The reporter's 7 days after a resolution are over.
    ReporterWindowClosed,
    /// A campaign whose sending has begun (or that was cancelled) cannot be cancelled.
    CampaignStarted,
    /// A result document for a dossier not decided yet, or whose result was returned.
    ResultNotAttachable,
}

impl Conflict {
    pub fn code(self) -> &'static str {
        match self {
            Conflict::OffsetMismatch => "offset_mismatch",
            Conflict::IdempotencyConflict => "idempotency_conflict",
            Conflict::ConcurrentUpdate => "concurrent_update",
            Conflict::AccountExists => "account_exists",
            Conflict::NotReturnedYet => "not_returned_yet",
            Conflict::AlreadyRated => "already_rated",
            Conflict::ProcedureRetired => "procedure_retired",
            Conflict::AgencyLegsPending => "agency_legs_pending",
            Conflict::AgencyRefused => "agency_refused",
            Conflict::ResultNotAttachable => "result_not_attachable",
            Conflict::NoAgencyLeg => "no_agency_leg",
            Conflict::ReportNotRateable => "report_not_rateable",
            Conflict::ReporterWindowClosed => "reporter_window_closed",
            Conflict::CampaignStarted => "campaign_started",
        }
    }

    fn texts(self) -> (&'static str, &'static str) {
        match self {
            Conflict::OffsetMismatch => (
                "Vị trí tải lên không khớp; hãy tiếp tục từ vị trí máy chủ báo (Upload-Offset).",
                "Upload offset mismatch; resume from the server's Upload-Offset.",
            ),
            Conflict::IdempotencyConflict => (
                "Khóa Idempotency-Key này đã được dùng cho một yêu cầu khác.",
                "This Idempotency-Key was used for a different request.",
            ),
            Conflict::ConcurrentUpdate => (
                "Hồ sơ vừa được người khác cập nhật; vui lòng tải lại và thử lại.",
                "The dossier was just changed by someone else; reload and retry.",
            ),
            Conflict::AccountExists => (
                "Không thể đăng ký với số căn cước hoặc số điện thoại này.",
                "An account cannot be registered with this citizen id or phone.",
            ),
            Conflict::NotReturnedYet => {
                ("Chỉ đánh giá được sau khi đã nhận kết quả.", "A rating is possible once the result was returned.")
            }
            Conflict::AlreadyRated => ("Hồ sơ này đã được đánh giá.", "This dossier was already rated."),
            Conflict::ResultNotAttachable => (
                "Chỉ đính kèm được văn bản kết quả khi hồ sơ đã được phê duyệt hoặc từ chối và chưa trả kết quả.",
                "A result document can be attached once the dossier is approved or rejected, before the result is returned.",
            ),
            Conflict::CampaignStarted => (
                "Chiến dịch đã bắt đầu gửi hoặc đã bị hủy; không thể hủy nữa.",
                "The campaign has started sending or was cancelled; it can no longer be cancelled.",
            ),
            Conflict::ProcedureRetired => (
                "Thủ tục của hồ sơ này đã ngừng áp dụng; vui lòng liên hệ bộ phận một cửa.",
                "This dossier's procedure has been retired; please contact the one-stop desk.",
            ),
            Conflict::AgencyLegsPending => (
                "Hồ sơ chưa được các cơ quan có thẩm quyền giải quyết xong; chưa thể phê duyệt.",
                "The competent agencies have not all done their part yet; the dossier cannot be approved.",
            ),
            Conflict::AgencyRefused => (
                "Cơ quan có thẩm quyền đã từ chối giải quyết; chỉ có thể từ chối hồ sơ.",
                "A competent agency refused; the dossier can only be rejected.",
            ),
            Conflict::NoAgencyLeg => (
                "Không còn cơ quan nào cần chuyển hồ sơ này đến.",
                "There is no agency left to forward this dossier to.",
            ),
            Conflict::ReportNotRateable => (
                "Chỉ đánh giá được phản ánh đã xử lý xong, và mỗi lần xử lý chỉ đánh giá một lần.",
                "Only a resolved report can be rated, once per resolution.",
            ),
            Conflict::ReporterWindowClosed => (
                "Đã quá 7 ngày kể từ khi phản ánh được xử lý; không thể đánh giá hoặc mở lại.",
                "More than 7 days have passed since the resolution; it can no longer be rated or reopened.",
            ),
        }
    }
}

/// Why a request was refused. Each variant maps to one status and one stable `code`.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the body or query could not be read at all (malformed JSON, wrong types).
    BadRequest(Vec<FieldError>),
    /// 422: well-formed input that breaks a rule; every problem at once.
    Validation(Vec<FieldError>),
    /// 401: no valid credentials (the reason is deliberately not told apart).
    Unauthorized,
    /// 401: the login/password pair is wrong (or the account does not exist: not told).
    BadCredentials,
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 404: no such resource (or not visible to this caller).
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 409: the request conflicts with the current state, for the reason named.
    Conflict(Conflict),
    /// 409: the workflow does not allow `action` from the dossier's current state.
    IllegalTransition { from: DossierStatus, action: Action },
    /// 409: the report's state machine does not allow `action` from its current state.
    IllegalReportMove { from: ReportStatus, action: ReportAction },
    /// 413.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 429, with the seconds to wait.
    RateLimited { retry_after_secs: u64 },
    /// 429: the account used up a quota (dossiers or uploads per minute or day); the
    /// seconds until the window turns.
    QuotaExceeded { retry_after_secs: u64 },
    /// 507: the server keeps a reserve of free disk and an upload would eat into it.
    InsufficientStorage,
    /// 503: a dependency (the database) is down.
    Unavailable,
    /// 503 with the seconds to wait: too much work at once (password hashing is full).
    Overloaded { retry_after_secs: u64 },
    /// 500: a bug or an outage; the cause was logged when this was made.
    Internal,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::IllegalTransition { .. } | ApiError::IllegalReportMove { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } | ApiError::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Unavailable | ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Validation(_) => "validation_failed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(reason) => reason.code(),
            ApiError::IllegalTransition { .. } | ApiError::IllegalReportMove { .. } => "invalid_transition",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::QuotaExceeded { .. } => "quota_exceeded",
            ApiError::InsufficientStorage => "insufficient_storage",
            ApiError::Unavailable => "unavailable",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Internal => "internal",
        }
    }

    fn message(&self, lang: Lang) -> String {
        if let ApiError::IllegalTransition { from, action } = self {
            return match lang {
                Lang::Vi => format!(
                    "Không thể thực hiện “{}” khi hồ sơ đang ở trạng thái “{}”.",
                    action.label(Lang::Vi),
                    from.label(Lang::Vi)
                ),
                Lang::En => format!(
                    "Cannot {} while the dossier is {}.",
                    action.label(Lang::En).to_lowercase(),
                    from.label(Lang::En).to_lowercase()
                ),
            };
        }
        if let ApiError::IllegalReportMove { from, action } = self {
            return match lang {
                Lang::Vi => format!(
                    "Không thể thực hiện “{}” khi phản ánh đang ở trạng thái “{}”.",
                    action.label(Lang::Vi),
                    from.label(Lang::Vi)
                ),
                Lang::En => format!(
                    "Cannot {} a report that is {}.",
                    action.label(Lang::En).to_lowercase(),
                    from.label(Lang::En).to_lowercase()
                ),
            };
        }
        let (vi, en) = match self {
            ApiError::BadRequest(_) => (
                "Yêu cầu không đọc được: dữ liệu gửi lên sai định dạng.",
                "The request could not be read: malformed input.",
            ),
            ApiError::Validation(_) => (
                "Dữ liệu chưa hợp lệ, vui lòng kiểm tra các trường được nêu.",
                "Some fields are not valid; please check them.",
            ),
            ApiError::Unauthorized => (
                "Bạn cần đăng nhập (phiên đăng nhập không hợp lệ hoặc đã hết hạn).",
                "Sign-in required (the session is invalid or has expired).",
            ),
            ApiError::BadCredentials => ("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong login or password."),
            ApiError::Forbidden => ("Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."),
            ApiError::NotFound => ("Không tìm thấy nội dung yêu cầu.", "Not found."),
            ApiError::MethodNotAllowed => {
                ("Phương thức không được hỗ trợ cho địa chỉ này.", "Method not allowed for this address.")
            }
            ApiError::Conflict(reason) => reason.texts(),
            ApiError::PayloadTooLarge => ("Dữ liệu gửi lên quá lớn.", "The request body is too large."),
            ApiError::UnsupportedMediaType => (
                "Nội dung phải ở định dạng JSON (Content-Type: application/json).",
                "The body must be JSON (Content-Type: application/json).",
            ),
            ApiError::RateLimited { .. } => {
                ("Bạn thao tác quá nhiều lần, vui lòng thử lại sau.", "Too many attempts; please try again later.")
            }
            ApiError::QuotaExceeded { .. } => (
                "Tài khoản đã dùng hết hạn mức cho phép trong khoảng thời gian này; vui lòng thử lại sau.",
                "This account has used up its allowance for now; please try again later.",
            ),
            ApiError::InsufficientStorage => (
                "Máy chủ tạm thời không đủ chỗ lưu tệp; hồ sơ của bạn vẫn được giữ trên máy, vui lòng thử lại sau.",
                "The server is short of storage for files right now; your dossier is kept on the device, please retry later.",
            ),
            ApiError::Unavailable => (
                "Hệ thống tạm thời gián đoạn, vui lòng thử lại sau.",
                "The service is temporarily unavailable; please retry later.",
            ),
            ApiError::Overloaded { .. } => (
                "Hệ thống đang quá tải, vui lòng thử lại sau giây lát.",
                "The service is busy; please retry in a moment.",
            ),
            ApiError::Internal => {
                ("Đã có lỗi xảy ra, vui lòng thử lại sau.", "Something went wrong; please retry later.")
            }
            ApiError::IllegalTransition { .. } | ApiError::IllegalReportMove { .. } => ("", ""),
        };
        match lang {
            Lang::Vi => vi.to_owned(),
            Lang::En => en.to_owned(),
        }
    }

    /// The JSON body of this error, in `lang`.
    pub fn body(&self, lang: Lang) -> ErrorBody {
        let fields = match self {
            ApiError::BadRequest(f) | ApiError::Validation(f) => f
                .iter()
                .map(|e| WireFieldError {
                    path: e.path.clone(),
                    code: e.code.as_str().to_owned(),
                    message: e.message(lang),
                })
                .collect(),
            ApiError::IllegalTransition { from, .. } => vec![WireFieldError {
                path: "status".to_owned(),
                code: from.as_str().to_owned(),
                message: from.label(lang).to_owned(),
            }],
            ApiError::IllegalReportMove { from, .. } => vec![WireFieldError {
                path: "status".to_owned(),
                code: from.as_str().to_owned(),
                message: from.label(lang).to_owned(),
            }],
            _ => Vec::new(),
        };
        ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message: self.message(lang), fields } }
    }

    /// A 500 for a state that should not exist (a row just written is gone, an invariant is
    /// broken): logged here with `what`, where it is turned into the bare 500.
    pub fn internal(what: &'static str) -> ApiError {
        tracing::error!(what, "internal error");
        ApiError::Internal
    }

    /// A 422 about one field.
    pub fn field(path: impl Into<String>, code: motcua_domain::form::FieldErrorCode) -> ApiError {
        ApiError::Validation(vec![FieldError::new(path, code)])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body(current_lang());
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_secs }
        | ApiError::QuotaExceeded { retry_after_secs }
        | ApiError::Overloaded { retry_after_secs } = self
        {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
        if let ApiError::Unauthorized = self {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Database failures are outages or bugs: logged here, shown as a bare 500. Call sites that
/// expect a constraint violation check [`crate::db::is_unique_violation`] before converting.
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::error!(error = %err, "database unavailable");
                ApiError::Unavailable
            }
            _ => {
                tracing::error!(error = %err, "database error");
                ApiError::Internal
            }
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        tracing::error!(error = format!("{err:#}"), "internal error");
        ApiError::Internal
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What each error status means in this API, for the OpenAPI document: the sentence a
/// response gets when its handler's annotation gave none.
const STATUS_DESCRIPTIONS: [(&str, &str); 12] = [
    ("400", "The request cannot be read (malformed JSON or query string); `error.fields` says where"),
    ("401", "Not signed in: the access token is missing, invalid or expired"),
    ("403", "Signed in, but this role may not do this"),
    ("404", "No such resource, or not one this caller may see (not told apart)"),
    ("405", "This path does not take this method"),
    ("409", "Conflicts with the current state (e.g. the dossier's status); `error.code` says which"),
    ("413", "The body is too large"),
    ("415", "The body is not `application/json`"),
    ("422", "Validation failed: `error.fields` lists every problem"),
    ("429", "Too many attempts: wait the seconds of `Retry-After`"),
    ("500", "An internal error (no detail is shown; it is logged with the request id)"),
    ("503", "Not available now (the database does not answer, or the request took too long)"),
];

/// Gives every response of the document a `description` (required by OpenAPI): a success
/// without one takes its operation's summary, an error the sentence of its status.
pub fn describe_responses(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let summary = operation.summary.clone().filter(|s| !s.trim().is_empty());
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                if !response.description.trim().is_empty() {
                    continue;
                }
                let known = STATUS_DESCRIPTIONS.iter().find(|(s, _)| s == status).map(|(_, d)| (*d).to_owned());
                response.description = match (status.starts_with('2'), &summary, known) {
                    (true, Some(summary), _) => summary.trim_end_matches('.').to_owned(),
                    (true, None, _) => "Success".to_owned(),
                    (false, _, Some(known)) => known,
                    (false, _, None) => "An error; see `error.code`".to_owned(),
                };
            }
        }
    }
}
