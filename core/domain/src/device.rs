//! A phone's push registration: what makes an FCM registration token and an app version
//! acceptable, checked by the phone before it stores one and by the server before it keeps
//! one; and the keys of a push notification's data (its deep link).

use crate::form::{FieldError, FieldErrorCode};

/// The longest FCM registration token accepted (FCM's are about 160 to 260 characters).
pub const MAX_TOKEN_LEN: usize = 4096;
/// The longest app version accepted.
pub const MAX_APP_VERSION_LEN: usize = 40;

/// Keys of a notification's data: its id (the phone shows each id once), what it opens
/// (`kind`: `dossier`, `report`, `announcement`) and the id of that thing.
pub const DATA_NOTIFICATION_ID: &str = "notification_id";
pub const DATA_KIND: &str = "kind";
pub const DATA_ID: &str = "id";

/// Why `token` cannot be an FCM registration token (1 to 4096 printable ASCII
/// characters), reported on `path`.
pub fn token_error(path: &str, token: &str) -> Option<FieldError> {
    if token.is_empty() {
        Some(FieldError::new(path, FieldErrorCode::Required))
    } else if token.len() > MAX_TOKEN_LEN {
        Some(FieldError::new(path, FieldErrorCode::TooLong).with_limit(MAX_TOKEN_LEN))
    } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
        Some(FieldError::new(path, FieldErrorCode::Invalid))
    } else {
        None
    }
}

/// Why `version` (trimmed) cannot be an app version: 1 to 40 printable ASCII characters
/// or spaces, reported on `app_version`.
pub fn app_version_error(version: &str) -> Option<FieldError> {
    let version = version.trim();
    if version.is_empty() {
        Some(FieldError::new("app_version", FieldErrorCode::Required))
    } else if version.len() > MAX_APP_VERSION_LEN {
        Some(FieldError::new("app_version", FieldErrorCode::TooLong).with_limit(MAX_APP_VERSION_LEN))
    } else if !version.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        Some(FieldError::new("app_version", FieldErrorCode::Invalid))
    } else {
        None
    }
}

/// Every problem of a registration's token and app version at once.
pub fn registration_errors(token: &str, app_version: &str) -> Vec<FieldError> {
    token_error("token", token).into_iter().chain(app_version_error(app_version)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(token: &str, version: &str) -> Vec<(String, &'static str)> {
        registration_errors(token, version).into_iter().map(|e| (e.path, e.code.as_str())).collect()
    }

    #[test]
    fn tokens_and_versions() {
        assert!(codes("dQw4w9WgXcQ:APA91bH-abc_123", "1.4.2").is_empty());
        assert_eq!(codes("", " "), vec![("token".into(), "required"), ("app_version".into(), "required")]);
        assert_eq!(codes("has space", "1.0"), vec![("token".into(), "invalid")]);
        assert_eq!(codes("tøken", "1.0"), vec![("token".into(), "invalid")]);
        assert_eq!(codes(&"a".repeat(MAX_TOKEN_LEN + 1), "1.0"), vec![("token".into(), "too_long")]);
        assert!(codes(&"a".repeat(MAX_TOKEN_LEN), "1.0").is_empty());
        assert_eq!(codes("t", &"1".repeat(41)), vec![("app_version".into(), "too_long")]);
        assert_eq!(codes("t", "1.0\n"), Vec::<(String, &str)>::new(), "trimmed");
        assert_eq!(codes("t", "1.0\u{7}x"), vec![("app_version".into(), "invalid")]);
    }
}
