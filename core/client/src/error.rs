//! Errors: the rich internal [`Error`] and the small public [`ClientError`], converted in
//! one place ([`to_public`]), which also decides what is logged. No personal data (values,
//! names, tokens) ever goes into an error's text.

use motcua_domain::form::FieldError;
use motcua_domain::i18n::Lang;
use motcua_domain::wire::WireFieldError;

/// One problem with one field, ready to show next to it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldIssue {
    /// Path of the field: `full_name`, `members[1].job`, `address.ward`.
    pub path: String,
    /// Stable code, e.g. `required`, `too_long` (see `motcua_domain::form::FieldErrorCode`).
    pub code: String,
    /// A sentence for the citizen in the client's language.
    pub message: String,
}

impl FieldIssue {
    pub(crate) fn from_domain(e: &FieldError, lang: Lang) -> FieldIssue {
        FieldIssue { path: e.path.clone(), code: e.code.as_str().to_owned(), message: e.message(lang) }
    }

    pub(crate) fn from_wire(e: WireFieldError) -> FieldIssue {
        FieldIssue { path: e.path, code: e.code, message: e.message }
    }
}

/// What went wrong, in the terms an app acts on. Every public method returns this; every
/// variant carries `message`, a sentence for the citizen in the client's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Some values are not valid: show each issue next to its field.
    #[error("{message}")]
    Validation { fields: Vec<FieldIssue>, message: String },
    /// The server could not be reached (or is unavailable): try again later; offline work is kept.
    #[error("{message}")]
    Network { message: String },
    /// Too many attempts: wait `retry_after_secs` before trying again (not a network problem).
    #[error("{message}")]
    Throttled { retry_after_secs: u64, message: String },
    /// The login or the password is wrong.
    #[error("{message}")]
    WrongCredentials { message: String },
    /// The session ended (refresh refused or no session): ask the citizen to sign in.
    #[error("{message}")]
    SignedOut { message: String },
    /// The action does not fit the current state; `reason` is a stable code
    /// (`draft_not_editable`, `already_sent`, `account_exists`, ...).
    #[error("{message}")]
    Conflict { reason: String, message: String },
    /// No such draft, dossier, procedure or notification.
    #[error("{message}")]
    NotFound { message: String },
    /// The file to attach does not exist or cannot be read at `path`.
    #[error("{message}")]
    FileNotFound { path: String, message: String },
    /// An argument is not acceptable; `reason` says which and why (for logs and developers).
    #[error("{message}")]
    Invalid { reason: String, message: String },
    /// The client was shut down: open a new one.
    #[error("{message}")]
    Closed { message: String },
    /// Another client already has this data directory open (in this or another process).
    #[error("{message}")]
    StoreInUse { message: String },
    /// Anything the app cannot act on differently; `reason` is for logs, never personal.
    #[error("{message}")]
    Other { reason: String, message: String },
}

/// The internal error, with the detail needed for logs and decisions.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("store: {0}")]
    Db(#[from] sqlx::Error),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data could not be decoded: {0}")]
    Json(#[from] serde_json::Error),
    #[error("transport: {0}")]
    Transport(#[from] crate::transport::TransportError),
    /// An HTTP answer that is not a success; `code` is the server's stable error code.
    #[error("server answered {status} ({code})")]
    Http { status: u16, code: String, message: String, fields: Vec<WireFieldError>, retry_after_secs: Option<u64> },
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
    #[error("signed out")]
    SignedOut,
    #[error("local validation failed")]
    Validation(Vec<FieldIssue>),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `reason` is a stable code (`draft_not_editable`, ...).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("file not found: {0}")]
    FileNotFound(String),
    #[error("the client is closed")]
    Closed,
    #[error("the data directory is used by another client")]
    StoreInUse,
    #[error("the store was written by a newer app version (schema {found}, this app knows {known})")]
    StoreTooNew { found: i64, known: i64 },
    #[error("invalid input: {0}")]
    Invalid(&'static str),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether trying again later may succeed (network down, 5xx, 429).
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) => true,
            Error::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}

/// A sentence for the citizen, for the errors whose text is not the server's.
fn local_message(key: &str, lang: Lang) -> String {
    let (vi, en) = match key {
        "validation" => ("Một số thông tin chưa hợp lệ.", "Some fields are not valid."),
        "network" => (
            "Không kết nối được máy chủ. Vui lòng thử lại sau; dữ liệu đã lưu trên máy.",
            "The server cannot be reached. Please try again later; your work is saved on this phone.",
        ),
        "throttled" => {
            ("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau.", "Too many attempts. Please try again later.")
        }
        "wrong_credentials" => ("Tên đăng nhập hoặc mật khẩu không đúng.", "The login or the password is wrong."),
        "signed_out" => {
            ("Phiên đăng nhập đã kết thúc. Vui lòng đăng nhập lại.", "You are signed out. Please sign in again.")
        }
        "not_found" => ("Không tìm thấy.", "Not found."),
        "file_not_found" => ("Không tìm thấy hoặc không đọc được tệp.", "The file cannot be found or read."),
        "invalid" => ("Dữ liệu không hợp lệ.", "The input is not valid."),
        "closed" => ("Ứng dụng đã đóng kết nối dữ liệu.", "The client is closed."),
        "store_in_use" => {
            ("Dữ liệu của ứng dụng đang được một phiên khác sử dụng.", "The app's data is in use by another client.")
        }
        "draft_not_editable" => ("Hồ sơ nháp này không thể sửa nữa.", "This draft can no longer be changed."),
        "draft_queued" => ("Hồ sơ đang chờ gửi, không thể xoá.", "This draft is queued for sending."),
        "procedure_retired" => ("Thủ tục này không còn được áp dụng.", "This procedure is no longer offered."),
        "already_sent" => ("Hồ sơ đã được gửi.", "Already sent."),
        "must_resubmit" => ("Cần sửa hồ sơ và nộp lại.", "The draft must be corrected and submitted again."),
        "conflict" => ("Thao tác không phù hợp với trạng thái hiện tại.", "The action does not fit the current state."),
        _ => ("Đã có lỗi xảy ra.", "Something went wrong."),
    };
    match lang {
        Lang::Vi => vi.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// The server's sentence when it sent one, else ours.
fn or_local(server: String, key: &str, lang: Lang) -> String {
    if server.trim().is_empty() { local_message(key, lang) } else { server }
}

/// The one conversion from internal to public errors; logs what the app cannot see.
pub(crate) fn to_public(err: Error, lang: Lang) -> ClientError {
    let m = |key: &str| local_message(key, lang);
    match err {
        Error::Validation(fields) => ClientError::Validation { fields, message: m("validation") },
        Error::Http { status: 422 | 400, fields, message, .. } if !fields.is_empty() => ClientError::Validation {
            fields: fields.into_iter().map(FieldIssue::from_wire).collect(),
            message: or_local(message, "validation", lang),
        },
        Error::Http { status: 429, retry_after_secs, message, .. } => ClientError::Throttled {
            retry_after_secs: retry_after_secs.unwrap_or(1),
            message: or_local(message, "throttled", lang),
        },
        Error::Transport(_) => ClientError::Network { message: m("network") },
        e @ Error::Http { .. } if e.is_transient() => {
            tracing::debug!(error = %e, "server unavailable");
            ClientError::Network { message: m("network") }
        }
        Error::Http { status: 401, code, message, .. } if code == "bad_credentials" => {
            ClientError::WrongCredentials { message: or_local(message, "wrong_credentials", lang) }
        }
        Error::SignedOut | Error::Http { status: 401, .. } => ClientError::SignedOut { message: m("signed_out") },
        Error::NotFound(_) => ClientError::NotFound { message: m("not_found") },
        Error::Http { status: 404, message, .. } => {
            ClientError::NotFound { message: or_local(message, "not_found", lang) }
        }
        Error::Conflict(reason) => ClientError::Conflict { reason: reason.to_owned(), message: m(reason) },
        Error::Http { status: 409, code, message, .. } => {
            ClientError::Conflict { message: or_local(message, "conflict", lang), reason: code }
        }
        Error::Http { status: 400 | 422, code, message, .. } => {
            ClientError::Invalid { reason: code, message: or_local(message, "invalid", lang) }
        }
        Error::Invalid(what) => ClientError::Invalid { reason: what.to_owned(), message: m("invalid") },
        Error::FileNotFound(path) => ClientError::FileNotFound { path, message: m("file_not_found") },
        Error::Closed | Error::Db(sqlx::Error::PoolClosed) => ClientError::Closed { message: m("closed") },
        Error::StoreInUse => ClientError::StoreInUse { message: m("store_in_use") },
        e @ (Error::Http { .. } | Error::BadResponse(_)) => {
            tracing::warn!(error = %e, "unexpected server answer");
            ClientError::Other { reason: e.to_string(), message: m("other") }
        }
        e @ (Error::Db(_) | Error::Io(_) | Error::Json(_) | Error::StoreTooNew { .. }) => {
            tracing::error!(error = %e, "local store failure");
            ClientError::Other { reason: e.to_string(), message: m("other") }
        }
    }
}
