//! The FCM HTTP v1 message model: one target (token, topic or condition), notification,
//! data, and the Android and APNs blocks; and FCM's payload size limits, checked before a
//! message is queued, so FCM never has to refuse one for its size.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Largest payload of a message to a device token, in bytes.
pub const MAX_PAYLOAD: usize = 4096;
/// Largest payload of a message to a topic or condition, in bytes.
pub const MAX_TOPIC_PAYLOAD: usize = 2048;

/// Whom a message goes to: exactly one, by construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Token(String),
    Topic(String),
    Condition(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AndroidPriority {
    Normal,
    High,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AndroidConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<AndroidPriority>,
    /// How long FCM keeps the message for an offline phone (`"86400s"`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ttl")]
    pub ttl: Option<Duration>,
    /// Messages with the same key replace each other while the phone is offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse_key: Option<String>,
}

/// The `aps` dictionary of an APNs payload (the parts this server uses).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Aps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge: Option<u32>,
    #[serde(rename = "thread-id", default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(rename = "mutable-content", default, skip_serializing_if = "Option::is_none")]
    pub mutable_content: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApnsPayload {
    pub aps: Aps,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApnsConfig {
    /// APNs request headers (`apns-priority`, `apns-expiration`, `apns-collapse-id`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<ApnsPayload>,
}

/// One FCM v1 `Message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(flatten)]
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Notification>,
    /// Key-value pairs handed to the app (strings only, as FCM requires).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub android: Option<AndroidConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apns: Option<ApnsConfig>,
}

/// A message FCM would refuse for its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the message payload is {size} bytes; FCM takes at most {limit}")]
pub struct TooBig {
    pub size: usize,
    pub limit: usize,
}

impl Message {
    /// The payload's size: the compact JSON of the message without its target.
    pub fn payload_size(&self) -> usize {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            for key in ["token", "topic", "condition"] {
                map.remove(key);
            }
        }
        value.to_string().len()
    }

    /// FCM's limit for this message's kind of target.
    pub fn limit(&self) -> usize {
        match self.target {
            Target::Token(_) => MAX_PAYLOAD,
            Target::Topic(_) | Target::Condition(_) => MAX_TOPIC_PAYLOAD,
        }
    }

    /// Refuses a message FCM would refuse for its size.
    pub fn check_size(&self) -> Result<(), TooBig> {
        let (size, limit) = (self.payload_size(), self.limit());
        if size > limit { Err(TooBig { size, limit }) } else { Ok(()) }
    }

    /// The message's JSON, serialized once, if FCM would take its size: the payload's size
    /// is the whole text less the target's `"token":"…"` member (the target comes first,
    /// then a comma when anything follows), which equals [`Message::payload_size`].
    pub fn to_checked_json(&self) -> Result<String, TooBig> {
        let json = serde_json::to_string(self).unwrap_or_default();
        let (key, value) = match &self.target {
            Target::Token(v) => ("token", v),
            Target::Topic(v) => ("topic", v),
            Target::Condition(v) => ("condition", v),
        };
        let member = key.len() + 3 + serde_json::to_string(value).map(|v| v.len()).unwrap_or_default();
        let rest = json.len().saturating_sub(2 + member);
        let size = 2 + rest.saturating_sub(usize::from(rest > 0));
        let limit = self.limit();
        if size > limit { Err(TooBig { size, limit }) } else { Ok(json) }
    }
}

/// `Duration` as protobuf's JSON form: whole seconds and an `s`.
mod ttl {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ttl: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match ttl {
            Some(d) => s.serialize_str(&format!("{}s", d.as_secs())),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            let secs = t.strip_suffix('s').and_then(|n| n.split('.').next()).and_then(|n| n.parse::<u64>().ok());
            secs.map(Duration::from_secs).ok_or_else(|| serde::de::Error::custom(format!("not a duration: {t}")))
        })
        .transpose()
    }
}

/// Cuts `text` to at most `max` bytes at a character boundary, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(target: Target, data: &str) -> Message {
        Message {
            target,
            notification: Some(Notification {
                title: Some("Tiêu đề".into()),
                body: Some("Nội dung".into()),
                image: None,
            }),
            data: BTreeMap::from([("k".to_owned(), data.to_owned())]),
            android: Some(AndroidConfig {
                priority: Some(AndroidPriority::High),
                ttl: Some(Duration::from_secs(86_400)),
                collapse_key: Some("c".into()),
            }),
            apns: Some(ApnsConfig {
                headers: BTreeMap::from([("apns-priority".to_owned(), "10".to_owned())]),
                payload: Some(ApnsPayload { aps: Aps { sound: Some("default".into()), ..Aps::default() } }),
            }),
        }
    }

    #[test]
    fn wire_form_is_fcms() {
        let json = serde_json::to_value(message(Target::Token("t".into()), "v")).expect("json");
        assert_eq!(json["token"], "t");
        assert_eq!(json["android"]["priority"], "high");
        assert_eq!(json["android"]["ttl"], "86400s");
        assert_eq!(json["apns"]["payload"]["aps"]["sound"], "default");
        assert!(json.get("topic").is_none());
        let back: Message = serde_json::from_value(json).expect("back");
        assert_eq!(back, message(Target::Token("t".into()), "v"));
    }

    #[test]
    fn sizes_are_checked_per_target() {
        let small = message(Target::Token("t".repeat(4000)), "v");
        assert!(small.check_size().is_ok(), "the token does not count");
        let medium = "x".repeat(3000);
        assert!(message(Target::Token("t".into()), &medium).check_size().is_ok());
        let err = message(Target::Topic("news".into()), &medium).check_size().expect_err("too big for a topic");
        assert_eq!(err.limit, MAX_TOPIC_PAYLOAD);
        assert!(message(Target::Token("t".into()), &"x".repeat(4100)).check_size().is_err());
    }

    #[test]
    fn the_one_pass_size_is_the_payload_size() {
        for target in
            [Target::Token("tok:\"en".into()), Target::Topic("news".into()), Target::Condition("'a' in topics".into())]
        {
            for data in ["", "v", &"x".repeat(1500)] {
                let m = message(target.clone(), data);
                let json = m.to_checked_json().expect("fits");
                assert_eq!(serde_json::from_str::<Message>(&json).expect("json"), m);
                let bare =
                    Message { notification: None, data: BTreeMap::new(), android: None, apns: None, ..m.clone() };
                assert_eq!(bare.to_checked_json().map(|j| j.len() > 2), Ok(true));
            }
        }
        let too_big = message(Target::Topic("news".into()), &"x".repeat(2100));
        assert_eq!(too_big.to_checked_json().map_err(|e| e.size), Err(too_big.payload_size()));
        let fits = message(Target::Token("t".into()), &"x".repeat(1000));
        let json = fits.to_checked_json().expect("fits");
        let without: serde_json::Value = {
            let mut v: serde_json::Value = serde_json::from_str(&json).expect("json");
            v.as_object_mut().expect("object").remove("token");
            v
        };
        assert_eq!(without.to_string().len(), fits.payload_size());
    }

    #[test]
    fn clipping_keeps_characters_whole() {
        assert_eq!(clip("abc", 10), "abc");
        let clipped = clip(&"đ".repeat(100), 21);
        assert!(clipped.len() <= 21 && clipped.ends_with('…'), "{clipped}");
    }
}
