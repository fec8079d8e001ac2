//! Push notifications on the phone: the FCM token the app hands over, kept in the store and
//! sent to the server for the signed-in account (at once, at the next sign-in, or when the
//! network is back), a received notification's deep link, each notification shown once
//! even when FCM delivers it twice, and the citizen's notification settings.

use std::collections::HashMap;

use motcua_domain::device::{DATA_ID, DATA_KIND, DATA_NOTIFICATION_ID, registration_errors};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Device, DevicePlatform, NotificationPreferences, RegisterDevice, UserInfo};

use crate::error::{Error, FieldIssue, Result};
use crate::http::{Api, check, decode, header, now_ms};
use crate::model::{NotificationSettings, PushMessage, PushRegistration, PushTarget};
use crate::store::Store;

/// Notification ids remembered as shown (FCM's duplicates arrive within minutes).
const SEEN_KEPT: i64 = 1000;
/// The longest notification id or target id accepted from a notification's data.
const MAX_ID_LEN: usize = 200;

#[derive(sqlx::FromRow)]
struct DeviceRow {
    token: String,
    platform: String,
    app_version: String,
    sent_for: Option<String>,
}

fn issues(errors: &[FieldError], lang: Lang) -> Vec<FieldIssue> {
    errors.iter().map(|e| FieldIssue::from_domain(e, lang)).collect()
}

/// Keeps the app's FCM token (checked by the rule the server applies) and sends it now if
/// the account is signed in and the server is reachable; otherwise it stays to send.
pub(crate) async fn register(
    store: &Store,
    api: &Api,
    token: &str,
    platform: &str,
    app_version: &str,
) -> Result<PushRegistration> {
    let mut errors = registration_errors(token, app_version);
    if DevicePlatform::parse(platform).is_none() {
        errors.push(FieldError::new("platform", FieldErrorCode::InvalidOption));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(issues(&errors, api.lang())));
    }
    // A new token, platform or version is sent again; the same one keeps its state.
    sqlx::query(
        "INSERT INTO push_device (id, token, platform, app_version, sent_for, updated_at) VALUES (1, $1, $2, $3, NULL, $4) \
         ON CONFLICT (id) DO UPDATE SET \
           sent_for = CASE WHEN push_device.token = excluded.token AND push_device.platform = excluded.platform \
                            AND push_device.app_version = excluded.app_version THEN push_device.sent_for END, \
           token = excluded.token, platform = excluded.platform, app_version = excluded.app_version, \
           updated_at = excluded.updated_at",
    )
    .bind(token)
    .bind(platform)
    .bind(app_version.trim())
    .bind(now_ms())
    .execute(store.write())
    .await?;
    match send_pending(store, api).await {
        Ok(_) => {}
        Err(e) if e.is_transient() || matches!(e, Error::SignedOut) => {
            tracing::debug!(error = %e, "push token kept to send later");
        }
        Err(e) => return Err(e),
    }
    registration(store, api).await?.ok_or(Error::NotFound("push registration"))
}

/// The registration kept on this phone, if the app handed over a token.
pub(crate) async fn registration(store: &Store, api: &Api) -> Result<Option<PushRegistration>> {
    let Some(row) = device(store).await? else { return Ok(None) };
    let sent = match (&row.sent_for, sent_key(store, api).await?) {
        (Some(sent_for), Some(key)) => *sent_for == key,
        _ => false,
    };
    Ok(Some(PushRegistration { token: row.token, platform: row.platform, app_version: row.app_version, sent }))
}

async fn device(store: &Store) -> Result<Option<DeviceRow>> {
    Ok(sqlx::query_as("SELECT token, platform, app_version, sent_for FROM push_device WHERE id = 1")
        .fetch_optional(store.read())
        .await?)
}

/// For whom (account and language) the server should hold the token now; none when
/// nobody is signed in.
async fn sent_key(store: &Store, api: &Api) -> Result<Option<String>> {
    if api.tokens().load().is_none() {
        return Ok(None);
    }
    let user: Option<String> =
        sqlx::query_scalar("SELECT user FROM account WHERE id = 1").fetch_optional(store.read()).await?;
    let Some(user) = user else { return Ok(None) };
    let user: UserInfo = serde_json::from_str(&user)?;
    Ok(Some(format!("{}/{}", user.id, api.lang().as_str())))
}

/// Sends the kept token if the server does not have it for the signed-in account and
/// language yet. `Ok(true)`: the server has it.
pub(crate) async fn send_pending(store: &Store, api: &Api) -> Result<bool> {
    let Some(row) = device(store).await? else { return Ok(false) };
    let Some(key) = sent_key(store, api).await? else { return Ok(false) };
    if row.sent_for.as_deref() == Some(key.as_str()) {
        return Ok(true);
    }
    let platform = DevicePlatform::parse(&row.platform).ok_or(Error::Invalid("stored push platform"))?;
    let body =
        RegisterDevice { token: row.token.clone(), platform, app_version: row.app_version.clone(), locale: api.lang() };
    let _: (u16, Device) = api.post("/api/v1/devices", &body, Vec::new()).await?;
    // Only if the app did not hand over another token meanwhile.
    sqlx::query(
        "UPDATE push_device SET sent_for = $1 WHERE id = 1 AND token = $2 AND platform = $3 AND app_version = $4",
    )
    .bind(&key)
    .bind(&row.token)
    .bind(&row.platform)
    .bind(&row.app_version)
    .execute(store.write())
    .await?;
    Ok(true)
}

/// After a sign-out the server has forgotten this phone's token: it is sent again at the
/// next sign-in (whoever signs in).
pub(crate) async fn forget_sent(store: &Store) -> Result<()> {
    sqlx::query("UPDATE push_device SET sent_for = NULL WHERE id = 1").execute(store.write()).await?;
    Ok(())
}

fn data_id<'a>(data: &'a HashMap<String, String>, key: &str, lang: Lang) -> Result<&'a str> {
    let value = data.get(key).map(|v| v.trim()).unwrap_or_default();
    let error = if value.is_empty() {
        Some(FieldError::new(key, FieldErrorCode::Required))
    } else if value.len() > MAX_ID_LEN {
        Some(FieldError::new(key, FieldErrorCode::TooLong).with_limit(MAX_ID_LEN))
    } else {
        None
    };
    match error {
        Some(e) => Err(Error::Validation(issues(&[e], lang))),
        None => Ok(value),
    }
}

/// A notification as FCM handed it to the app (its data map): what it opens, or `None` if
/// this notification was already shown (FCM delivered it twice). Recorded as shown in the
/// same statement that decides it, so two deliveries racing each other show it once.
pub(crate) async fn receive(store: &Store, lang: Lang, data: &HashMap<String, String>) -> Result<Option<PushMessage>> {
    let notification_id = data_id(data, DATA_NOTIFICATION_ID, lang)?;
    let kind = data.get(DATA_KIND).map(|k| k.trim()).unwrap_or_default();
    let target = match kind {
        "dossier" => PushTarget::Dossier { dossier_id: data_id(data, DATA_ID, lang)?.to_owned() },
        "report" => PushTarget::Report { report_id: data_id(data, DATA_ID, lang)?.to_owned() },
        "announcement" => PushTarget::Announcement { campaign_id: data_id(data, DATA_ID, lang)?.to_owned() },
        other => PushTarget::Unknown { kind: other.chars().take(MAX_ID_LEN).collect() },
    };
    let first = sqlx::query("INSERT INTO push_seen (notification_id, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(notification_id)
        .bind(now_ms())
        .execute(store.write())
        .await?
        .rows_affected()
        == 1;
    if !first {
        return Ok(None);
    }
    sqlx::query(
        "DELETE FROM push_seen WHERE notification_id NOT IN \
         (SELECT notification_id FROM push_seen ORDER BY seen_at DESC, notification_id DESC LIMIT $1)",
    )
    .bind(SEEN_KEPT)
    .execute(store.write())
    .await?;
    Ok(Some(PushMessage { notification_id: notification_id.to_owned(), target }))
}

fn settings(p: NotificationPreferences) -> NotificationSettings {
    NotificationSettings {
        dossier_updates: p.dossier_updates,
        report_updates: p.report_updates,
        announcements: p.announcements,
        ward_code: p.ward_code,
    }
}

/// The account's notification settings (online).
pub(crate) async fn get_settings(api: &Api) -> Result<NotificationSettings> {
    Ok(settings(api.get("/api/v1/me/notification-preferences").await?))
}

/// Replaces the account's notification settings (online). The ward is checked here first,
/// against the list the server checks it against.
pub(crate) async fn put_settings(api: &Api, mut s: NotificationSettings) -> Result<NotificationSettings> {
    s.ward_code = s.ward_code.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty());
    if s.ward_code.as_deref().is_some_and(|w| motcua_domain::admin::ward_by_code(w).is_none()) {
        let error = FieldError::new("ward_code", FieldErrorCode::InvalidOption);
        return Err(Error::Validation(issues(&[error], api.lang())));
    }
    let body = NotificationPreferences {
        dossier_updates: s.dossier_updates,
        report_updates: s.report_updates,
        announcements: s.announcements,
        ward_code: s.ward_code,
    };
    let response = api
        .send_authed(
            "PUT",
            "/api/v1/me/notification-preferences",
            vec![header("Content-Type", "application/json")],
            serde_json::to_vec(&body)?,
        )
        .await?;
    Ok(settings(decode(check(response)?)?))
}
