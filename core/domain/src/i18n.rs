//! Languages of user-facing text (Vietnamese first, English optional) and bilingual strings.

use serde::{Deserialize, Deserializer, Serialize};

/// A language the app speaks. Vietnamese is the default and always present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// Picks the language from an HTTP `Accept-Language` header: the one of `vi`/`en`
    /// with the highest q-value (the earlier one on a tie); Vietnamese when neither is
    /// acceptable or the header is malformed.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(Lang, f32)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
            let lang = match primary.as_str() {
                "vi" => Lang::Vi,
                "en" => Lang::En,
                _ => continue,
            };
            let mut q = 1.0_f32;
            for param in pieces {
                let param = param.trim();
                if let Some(v) = param.strip_prefix("q=").or_else(|| param.strip_prefix("Q=")) {
                    q = v.trim().parse::<f32>().ok().filter(|q| q.is_finite()).unwrap_or(0.0);
                }
            }
            if q <= 0.0 {
                continue;
            }
            if best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
        best.map_or(Lang::Vi, |(lang, _)| lang)
    }

    /// The ISO 639-1 code: `"vi"` or `"en"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// A user-facing string in Vietnamese, with an optional English translation.
///
/// Deserializes from a plain JSON string (Vietnamese only) or from
/// `{"vi": "...", "en": "..."}`; serializes to a plain string when it has one form only.
///
/// A catalogue fetched in one language (`GET /api/v1/catalogue/changes?lang=en`) holds
/// each text in that language as its only form, so [`Text::get`] returns it whatever the
/// language asked: the phone shows what it has until it fetches the catalogue again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub vi: String,
    pub en: Option<String>,
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match &self.en {
            None => serializer.serialize_str(&self.vi),
            Some(en) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("vi", &self.vi)?;
                map.serialize_entry("en", en)?;
                map.end()
            }
        }
    }
}

impl Text {
    /// A Vietnamese-only text.
    pub fn vi(s: impl Into<String>) -> Text {
        Text { vi: s.into(), en: None }
    }

    /// A text in both languages.
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Text {
        Text { vi: vi.into(), en: Some(en.into()) }
    }

    /// The text in `lang`, falling back to Vietnamese when there is no translation.
    pub fn get(&self, lang: Lang) -> &str {
        match (lang, &self.en) {
            (Lang::En, Some(en)) => en,
            _ => &self.vi,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TextRepr {
    Plain(String),
    Full {
        vi: String,
        #[serde(default)]
        en: Option<String>,
    },
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match TextRepr::deserialize(deserializer)? {
            TextRepr::Plain(vi) => Ok(Text { vi, en: None }),
            TextRepr::Full { vi, en } => Ok(Text { vi, en }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        let cases = [
            ("", Lang::Vi),
            ("en", Lang::En),
            ("en-US,en;q=0.9", Lang::En),
            ("vi-VN,vi;q=0.9,en;q=0.8", Lang::Vi),
            ("fr-FR,en;q=0.5,vi;q=0.7", Lang::Vi),
            ("fr-FR,vi;q=0.5,en;q=0.7", Lang::En),
            ("en;q=0,fr", Lang::Vi),
            ("EN-gb", Lang::En),
            ("en;q=abc", Lang::Vi),
            ("*", Lang::Vi),
            ("en, vi", Lang::En),
            (";;,,;q=", Lang::Vi),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
        assert_eq!(Lang::En.as_str(), "en");
        assert_eq!(Lang::Vi.as_str(), "vi");
    }

    #[test]
    fn lang_serde() {
        assert_eq!(serde_json::to_string(&Lang::En).unwrap(), "\"en\"");
        assert_eq!(serde_json::from_str::<Lang>("\"vi\"").unwrap(), Lang::Vi);
    }

    #[test]
    fn text_serde() {
        let plain: Text = serde_json::from_str("\"Họ và tên\"").unwrap();
        assert_eq!(plain, Text::vi("Họ và tên"));
        assert_eq!(plain.get(Lang::En), "Họ và tên");
        let full: Text = serde_json::from_str(r#"{"vi":"Họ và tên","en":"Full name"}"#).unwrap();
        assert_eq!(full.get(Lang::En), "Full name");
        assert_eq!(full.get(Lang::Vi), "Họ và tên");
        assert_eq!(serde_json::to_string(&full).unwrap(), r#"{"vi":"Họ và tên","en":"Full name"}"#);
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#""Họ và tên""#);
        let only_vi: Text = serde_json::from_str(r#"{"vi":"x"}"#).unwrap();
        assert_eq!(only_vi, Text::vi("x"));
        assert!(serde_json::from_str::<Text>("12").is_err());
        assert!(serde_json::from_str::<Text>(r#"{"en":"x"}"#).is_err());
    }
}
