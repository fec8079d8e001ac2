//! [`MotcuaError`]: the one error the app sees, with a variant only where the app acts
//! differently. Converted from the client's public error in one place.

use motcua_client::{ClientError, FieldIssue};

/// What went wrong, in the terms an app acts on; every variant carries `user_message`, a
/// sentence for the citizen in the client's language (not `message`: that name is taken by
/// Kotlin's `Throwable.message`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum MotcuaError {
    /// Some values are not valid: show each issue next to its field.
    #[error("{user_message}")]
    Validation { fields: Vec<FieldIssue>, user_message: String },
    /// The server could not be reached or is unavailable: try again later; offline work is kept.
    #[error("{user_message}")]
    Network { user_message: String },
    /// Too many attempts: wait `retry_after_secs` (not a network problem).
    #[error("{user_message}")]
    Throttled { retry_after_secs: u64, user_message: String },
    /// The login or the password is wrong.
    #[error("{user_message}")]
    WrongCredentials { user_message: String },
    /// The session ended: ask the citizen to sign in again.
    #[error("{user_message}")]
    SignedOut { user_message: String },
    /// The action does not fit the current state; `reason` is a stable code.
    #[error("{user_message}")]
    Conflict { reason: String, user_message: String },
    /// No such draft, dossier, procedure or notification.
    #[error("{user_message}")]
    NotFound { user_message: String },
    /// The file to attach cannot be found or read at `path`.
    #[error("{user_message}")]
    FileNotFound { path: String, user_message: String },
    /// An argument is not acceptable; `reason` says which and why.
    #[error("{user_message}")]
    Invalid { reason: String, user_message: String },
    /// The client was shut down.
    #[error("{user_message}")]
    Closed { user_message: String },
    /// Another client has this data directory open.
    #[error("{user_message}")]
    StoreInUse { user_message: String },
    /// Anything the app cannot act on differently; `reason` is for logs, never personal.
    #[error("{user_message}")]
    Other { reason: String, user_message: String },
}

impl From<ClientError> for MotcuaError {
    fn from(err: ClientError) -> MotcuaError {
        match err {
            ClientError::Validation { fields, message } => MotcuaError::Validation { fields, user_message: message },
            ClientError::Network { message } => MotcuaError::Network { user_message: message },
            ClientError::Throttled { retry_after_secs, message } => {
                MotcuaError::Throttled { retry_after_secs, user_message: message }
            }
            ClientError::WrongCredentials { message } => MotcuaError::WrongCredentials { user_message: message },
            ClientError::SignedOut { message } => MotcuaError::SignedOut { user_message: message },
            ClientError::Conflict { reason, message } => MotcuaError::Conflict { reason, user_message: message },
            ClientError::NotFound { message } => MotcuaError::NotFound { user_message: message },
            ClientError::FileNotFound { path, message } => MotcuaError::FileNotFound { path, user_message: message },
            ClientError::Invalid { reason, message } => MotcuaError::Invalid { reason, user_message: message },
            ClientError::Closed { message } => MotcuaError::Closed { user_message: message },
            ClientError::StoreInUse { message } => MotcuaError::StoreInUse { user_message: message },
            ClientError::Other { reason, message } => MotcuaError::Other { reason, user_message: message },
        }
    }
}

/// A foreign callback (token store, transport) failed in a way its signature does not declare.
impl From<uniffi::UnexpectedUniFFICallbackError> for MotcuaError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> MotcuaError {
        let reason = format!("app callback failed: {}", err.reason);
        MotcuaError::Other { user_message: reason.clone(), reason }
    }
}
