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

/// What went wrong, in the terms an app acts on. Every public method returns this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Some values are not valid: show each issue next to its field.
    #[error("some fields are not valid")]
    Validation { fields: Vec<FieldIssue> },
    /// The server could not be reached (or is overloaded): try again later; offline work is kept.
    #[error("the network or the server is unavailable")]
    Network,
    /// The session ended (refresh refused or no session): ask the citizen to sign in.
    #[error("signed out")]
    SignedOut,
    /// The action does not fit the current state (a submitted draft cannot change, the account exists, ...).
    #[error("conflict with the current state")]
    Conflict,
    /// No such draft, dossier, procedure or notification.
    #[error("not found")]
    NotFound,
    /// Anything the app cannot act on differently; `reason` is for logs, never personal.
    #[error("{reason}")]
    Other { reason: String },
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
    Http { status: u16, code: String, fields: Vec<WireFieldError>, retry_after_secs: Option<u64> },
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
    #[error("signed out")]
    SignedOut,
    #[error("local validation failed")]
    Validation(Vec<FieldIssue>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(&'static str),
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

/// The one conversion from internal to public errors; logs what the app cannot see.
pub(crate) fn to_public(err: Error) -> ClientError {
    match err {
        Error::Validation(fields) => ClientError::Validation { fields },
        Error::Http { status: 422, fields, .. } | Error::Http { status: 400, fields, .. } if !fields.is_empty() => {
            ClientError::Validation { fields: fields.into_iter().map(FieldIssue::from_wire).collect() }
        }
        Error::Transport(_) => ClientError::Network,
        e @ Error::Http { .. } if e.is_transient() => {
            tracing::debug!(error = %e, "server unavailable");
            ClientError::Network
        }
        Error::SignedOut | Error::Http { status: 401, .. } => ClientError::SignedOut,
        Error::NotFound(_) | Error::Http { status: 404, .. } => ClientError::NotFound,
        Error::Conflict(_) | Error::Http { status: 409, .. } => ClientError::Conflict,
        Error::Invalid(what) => ClientError::Other { reason: format!("invalid input: {what}") },
        e @ (Error::Http { .. } | Error::BadResponse(_)) => {
            tracing::warn!(error = %e, "unexpected server answer");
            ClientError::Other { reason: e.to_string() }
        }
        e @ (Error::Db(_) | Error::Io(_) | Error::Json(_) | Error::StoreTooNew { .. }) => {
            tracing::error!(error = %e, "local store failure");
            ClientError::Other { reason: e.to_string() }
        }
    }
}

impl From<Error> for ClientError {
    fn from(err: Error) -> ClientError {
        to_public(err)
    }
}
