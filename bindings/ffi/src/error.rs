//! [`MotcuaError`]: the one error the app sees, with a variant only where the app acts
//! differently. Converted from the client's public error in one place.

use motcua_client::{ClientError, FieldIssue};

/// What went wrong, in the terms an app acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum MotcuaError {
    /// Some values are not valid: show each issue next to its field.
    #[error("some fields are not valid")]
    Validation { fields: Vec<FieldIssue> },
    /// The server could not be reached or is overloaded: try again later; offline work is kept.
    #[error("the network or the server is unavailable")]
    Network,
    /// The session ended: ask the citizen to sign in again.
    #[error("signed out")]
    SignedOut,
    /// The action does not fit the current state (a submitted draft cannot change, ...).
    #[error("conflict with the current state")]
    Conflict,
    /// No such draft, dossier, procedure or notification.
    #[error("not found")]
    NotFound,
    /// Anything the app cannot act on differently; `reason` is for logs, never personal.
    #[error("{reason}")]
    Other { reason: String },
}

impl From<ClientError> for MotcuaError {
    fn from(err: ClientError) -> MotcuaError {
        match err {
            ClientError::Validation { fields } => MotcuaError::Validation { fields },
            ClientError::Network => MotcuaError::Network,
            ClientError::SignedOut => MotcuaError::SignedOut,
            ClientError::Conflict => MotcuaError::Conflict,
            ClientError::NotFound => MotcuaError::NotFound,
            ClientError::Other { reason } => MotcuaError::Other { reason },
        }
    }
}

/// A foreign callback (token store, transport) failed in a way its signature does not declare.
impl From<uniffi::UnexpectedUniFFICallbackError> for MotcuaError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> MotcuaError {
        MotcuaError::Other { reason: format!("app callback failed: {}", err.reason) }
    }
}
