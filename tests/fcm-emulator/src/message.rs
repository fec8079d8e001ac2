//! What FCM HTTP v1 accepts as a `messages:send` body: the `Message` resource's fields and
//! types (unknown names refused, as Google's JSON parser does), exactly one target, data
//! values that are strings, the Android and APNs blocks, and the payload size limits.

use serde_json::{Map, Value};

/// Largest payload of a message to a device token (bytes).
pub const MAX_PAYLOAD: usize = 4096;
/// Largest payload of a message to a topic or a condition (bytes).
pub const MAX_TOPIC_PAYLOAD: usize = 2048;
/// Longest time-to-live FCM keeps a message for an offline device: 28 days.
pub const MAX_TTL_SECS: f64 = 2_419_200.0;

/// Whom a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Token(String),
    Topic(String),
    Condition(String),
}

/// A `messages:send` body that passed validation.
#[derive(Debug, Clone)]
pub struct Checked {
    pub target: Target,
    pub validate_only: bool,
    pub message: Value,
}

/// The payload's size as both sides count it: the compact JSON of the message without
/// its target (`token`, `topic` or `condition`).
pub fn payload_size(message: &Map<String, Value>) -> usize {
    let mut rest = message.clone();
    for key in ["token", "topic", "condition"] {
        rest.remove(key);
    }
    Value::Object(rest).to_string().len()
}

fn unknown(name: &str, at: &str) -> String {
    format!("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.")
}

fn object<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| format!("Invalid value at '{at}' (type.googleapis.com/{at}), {value}"))
}

fn string<'a>(value: &'a Value, at: &str) -> Result<&'a str, String> {
    value.as_str().ok_or_else(|| format!("Invalid value at '{at}' (TYPE_STRING), {value}"))
}

fn only_fields(map: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), String> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(name) => Err(unknown(name, at)),
        None => Ok(()),
    }
}

/// A `map<string, string>`.
fn string_map(value: &Value, at: &str) -> Result<(), String> {
    let map = object(value, at)?;
    for (i, (_, v)) in map.iter().enumerate() {
        string(v, &format!("{at}[{i}].value"))?;
    }
    Ok(())
}

/// A protobuf `Duration` in JSON: seconds with up to nine decimals and an `s`.
fn duration_secs(value: &Value, at: &str) -> Result<f64, String> {
    let text = string(value, at)?;
    let number = text
        .strip_suffix('s')
        .ok_or_else(|| format!("Invalid value at '{at}' (type.googleapis.com/google.protobuf.Duration), \"{text}\""))?;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return Err(format!("Invalid value at '{at}' (type.googleapis.com/google.protobuf.Duration), \"{text}\""));
    }
    number.parse::<f64>().map_err(|_| format!("Invalid value at '{at}', \"{text}\""))
}

const RESERVED_DATA_KEYS: [&str; 4] = ["from", "notification", "message_type", "collapse_key"];

fn data(value: &Value, at: &str) -> Result<(), String> {
    string_map(value, at)?;
    for key in object(value, at)?.keys() {
        let lower = key.to_ascii_lowercase();
        if RESERVED_DATA_KEYS.contains(&lower.as_str()) || lower.starts_with("google.") || lower.starts_with("gcm.") {
            return Err(format!("Invalid data payload key: {key}"));
        }
    }
    Ok(())
}

fn notification(value: &Value, at: &str) -> Result<(), String> {
    let map = object(value, at)?;
    only_fields(map, &["title", "body", "image"], at)?;
    for (k, v) in map {
        string(v, &format!("{at}.{k}"))?;
    }
    Ok(())
}

const ANDROID_NOTIFICATION_FIELDS: [&str; 17] = [
    "title",
    "body",
    "icon",
    "color",
    "sound",
    "tag",
    "click_action",
    "body_loc_key",
    "title_loc_key",
    "channel_id",
    "ticker",
    "sticky",
    "image",
    "notification_priority",
    "default_sound",
    "visibility",
    "notification_count",
];

fn android(value: &Value, at: &str) -> Result<(), String> {
    let map = object(value, at)?;
    only_fields(
        map,
        &[
            "collapse_key",
            "priority",
            "ttl",
            "restricted_package_name",
            "data",
            "notification",
            "fcm_options",
            "direct_boot_ok",
        ],
        at,
    )?;
    if let Some(v) = map.get("collapse_key") {
        string(v, &format!("{at}.collapse_key"))?;
    }
    if let Some(v) = map.get("priority") {
        let p = string(v, &format!("{at}.priority"))?;
        if !p.eq_ignore_ascii_case("normal") && !p.eq_ignore_ascii_case("high") {
            return Err(format!(
                "Invalid value at '{at}.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), \"{p}\""
            ));
        }
    }
    if let Some(v) = map.get("ttl") {
        let secs = duration_secs(v, &format!("{at}.ttl"))?;
        if secs > MAX_TTL_SECS {
            return Err(format!("Invalid value at '{at}.ttl': the time to live may be at most {MAX_TTL_SECS}s"));
        }
    }
    if let Some(v) = map.get("restricted_package_name") {
        string(v, &format!("{at}.restricted_package_name"))?;
    }
    if let Some(v) = map.get("data") {
        data(v, &format!("{at}.data"))?;
    }
    if let Some(v) = map.get("notification") {
        let n = object(v, &format!("{at}.notification"))?;
        only_fields(n, &ANDROID_NOTIFICATION_FIELDS, &format!("{at}.notification"))?;
    }
    if let Some(v) = map.get("fcm_options") {
        let o = object(v, &format!("{at}.fcm_options"))?;
        only_fields(o, &["analytics_label"], &format!("{at}.fcm_options"))?;
    }
    if let Some(v) = map.get("direct_boot_ok")
        && !v.is_boolean()
    {
        return Err(format!("Invalid value at '{at}.direct_boot_ok' (TYPE_BOOL), {v}"));
    }
    Ok(())
}

fn apns(value: &Value, at: &str) -> Result<(), String> {
    let map = object(value, at)?;
    only_fields(map, &["headers", "payload", "fcm_options", "live_activity_token"], at)?;
    if let Some(headers) = map.get("headers") {
        string_map(headers, &format!("{at}.headers"))?;
        if let Some(p) = headers.get("apns-priority").and_then(Value::as_str)
            && !["5", "10", "1"].contains(&p)
        {
            return Err(format!("Invalid apns-priority header value: {p}"));
        }
    }
    if let Some(payload) = map.get("payload") {
        let p = object(payload, &format!("{at}.payload"))?;
        if let Some(aps) = p.get("aps") {
            object(aps, &format!("{at}.payload.aps"))?;
        }
    }
    if let Some(v) = map.get("fcm_options") {
        let o = object(v, &format!("{at}.fcm_options"))?;
        only_fields(o, &["analytics_label", "image"], &format!("{at}.fcm_options"))?;
    }
    Ok(())
}

fn topic_name(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= 900 && topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b))
}

/// Checks a `messages:send` body the way FCM does; the error is FCM's message text.
pub fn check(body: &Value) -> Result<Checked, String> {
    let top = object(body, "")?;
    only_fields(top, &["message", "validate_only", "validateOnly"], "")?;
    let validate_only = match top.get("validate_only").or_else(|| top.get("validateOnly")) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => return Err(format!("Invalid value at 'validate_only' (TYPE_BOOL), {v}")),
    };
    let message = top.get("message").ok_or("Request contains an invalid argument: message is required.")?;
    let map = object(message, "message")?;
    only_fields(
        map,
        &["name", "data", "notification", "android", "webpush", "apns", "fcm_options", "token", "topic", "condition"],
        "message",
    )?;
    let targets: Vec<&str> = ["token", "topic", "condition"].into_iter().filter(|k| map.contains_key(*k)).collect();
    if targets.len() != 1 {
        return Err("Exactly one of token, topic or condition must be specified.".to_owned());
    }
    let target = match targets[0] {
        "token" => {
            let t = string(&map["token"], "message.token")?;
            if t.is_empty() {
                return Err("The registration token is not a valid FCM registration token".to_owned());
            }
            Target::Token(t.to_owned())
        }
        "topic" => {
            let t = string(&map["topic"], "message.topic")?;
            if !topic_name(t) {
                return Err(format!("Invalid topic name: {t}"));
            }
            Target::Topic(t.to_owned())
        }
        _ => {
            let c = string(&map["condition"], "message.condition")?;
            if c.trim().is_empty() {
                return Err("Invalid condition expression provided.".to_owned());
            }
            Target::Condition(c.to_owned())
        }
    };
    if let Some(v) = map.get("data") {
        data(v, "message.data")?;
    }
    if let Some(v) = map.get("notification") {
        notification(v, "message.notification")?;
    }
    if let Some(v) = map.get("android") {
        android(v, "message.android")?;
    }
    if let Some(v) = map.get("apns") {
        apns(v, "message.apns")?;
    }
    if let Some(v) = map.get("webpush") {
        object(v, "message.webpush")?;
    }
    if let Some(v) = map.get("fcm_options") {
        let o = object(v, "message.fcm_options")?;
        only_fields(o, &["analytics_label"], "message.fcm_options")?;
    }
    let limit = if matches!(target, Target::Token(_)) { MAX_PAYLOAD } else { MAX_TOPIC_PAYLOAD };
    let size = payload_size(map);
    if size > limit {
        return Err(format!("Message is too big: {size} bytes, the limit is {limit} bytes."));
    }
    Ok(Checked { target, validate_only, message: message.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: Value) -> String {
        check(&body).expect_err("should be refused")
    }

    #[test]
    fn a_complete_message_passes() {
        let body = json!({"message": {
            "token": "abc:DEF",
            "notification": {"title": "Hồ sơ", "body": "Đã tiếp nhận"},
            "data": {"kind": "dossier", "id": "42"},
            "android": {"priority": "high", "ttl": "86400s", "collapse_key": "dossier-42"},
            "apns": {"headers": {"apns-priority": "10"}, "payload": {"aps": {"sound": "default"}}}
        }});
        let checked = check(&body).expect("valid");
        assert_eq!(checked.target, Target::Token("abc:DEF".into()));
        assert!(!checked.validate_only);
    }

    #[test]
    fn targets_types_blocks_and_sizes_are_checked() {
        assert!(err(json!({"message": {"data": {}}})).contains("Exactly one"));
        assert!(err(json!({"message": {"token": "a", "topic": "b"}})).contains("Exactly one"));
        assert!(err(json!({"message": {"token": "a", "data": {"n": 1}}})).contains("message.data[0].value"));
        assert!(err(json!({"message": {"token": "a", "data": {"from": "x"}}})).contains("from"));
        assert!(err(json!({"message": {"token": "a", "colour": "red"}})).contains("Unknown name \"colour\""));
        assert!(err(json!({"message": {"token": "a", "android": {"priority": "urgent"}}})).contains("priority"));
        assert!(err(json!({"message": {"token": "a", "android": {"ttl": "86400"}}})).contains("ttl"));
        assert!(err(json!({"message": {"token": "a", "android": {"ttl": "9999999s"}}})).contains("ttl"));
        assert!(
            err(json!({"message": {"token": "a", "apns": {"headers": {"apns-priority": 10}}}})).contains("headers")
        );
        assert!(err(json!({"message": {"topic": "/topics/news"}})).contains("topic"));
        let big = "x".repeat(4100);
        assert!(err(json!({"message": {"token": "a", "data": {"k": big}}})).contains("too big"));
        let medium = "x".repeat(3000);
        assert!(check(&json!({"message": {"token": "a", "data": {"k": medium}}})).is_ok());
        assert!(err(json!({"message": {"topic": "news", "data": {"k": medium}}})).contains("too big"));
    }
}
