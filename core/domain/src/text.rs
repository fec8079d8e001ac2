//! Vietnamese search folding and matching: one fold for the server index and the phone.
//!
//! [`fold`] maps text to lowercase ASCII words separated by single spaces ("Đăng ký đất
//! đai" → "dang ky dat dai"), so a citizen typing without diacritics finds the same
//! procedures as one typing with them. Store the folded form of a name; fold the query.

/// Folds text for search: transliterate to ASCII with `deunicode` (which maps đ/Đ to d),
/// lowercase, turn every run of non-alphanumeric characters into one space, and trim.
///
/// The result contains only `[a-z0-9]` and single inner spaces, so `fold` is idempotent.
pub fn fold(s: &str) -> String {
    let ascii = deunicode::deunicode(s);
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// The folded words of `s`.
pub fn tokens(s: &str) -> Vec<String> {
    fold(s).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Whether a folded haystack (the output of [`fold`]) matches a raw query.
///
/// Rule: every word of the folded query is a **prefix of some word** of the haystack, in
/// any order ("dk khai" does not match, "dang khai" and "khai sinh dang" do match
/// "dang ky khai sinh"). Word prefixes, not arbitrary substrings, because Vietnamese
/// syllables are short and a substring rule would make "an" match "quang", "toan", ...
/// An empty query matches everything.
pub fn matches(haystack_folded: &str, query: &str) -> bool {
    let words: Vec<&str> = haystack_folded.split(' ').collect();
    tokens(query).iter().all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
}

/// A ranking score of a folded name against a raw query: higher is better, 0 is no match.
///
/// Tiers: the whole name equals the query (1000) > the name starts with the query as a
/// phrase (900) > the query occurs as a phrase at a word start (800) > every query word is
/// a word prefix, see [`matches`] (600) > every query word is a substring (300). Inside a
/// tier, up to 99 points favour query words that are whole words and shorter names.
pub fn score(name_folded: &str, query: &str) -> u32 {
    let q = fold(query);
    if q.is_empty() {
        return 0;
    }
    let name_words: Vec<&str> = name_folded.split(' ').filter(|w| !w.is_empty()).collect();
    let q_words: Vec<&str> = q.split(' ').collect();
    let base = if name_folded == q {
        1000
    } else if name_folded.starts_with(&q) && name_folded.as_bytes().get(q.len()).is_none_or(|b| *b == b' ') {
        900
    } else if name_folded.starts_with(&q) || name_folded.contains(&format!(" {q}")) {
        800
    } else if q_words.iter().all(|t| name_words.iter().any(|w| w.starts_with(t))) {
        600
    } else if q_words.iter().all(|t| name_folded.contains(t)) {
        300
    } else {
        return 0;
    };
    let whole = q_words.iter().filter(|t| name_words.iter().any(|w| w == *t)).count();
    let whole_bonus = u32::try_from(whole * 60 / q_words.len()).unwrap_or(0);
    let extra_words = name_words.len().saturating_sub(q_words.len());
    let short_bonus = 39_u32.saturating_sub(u32::try_from(extra_words).unwrap_or(u32::MAX));
    base + whole_bonus.min(60) + short_bonus
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese() {
        let cases = [
            ("Đăng ký khai sinh", "dang ky khai sinh"),
            ("ĐẤT ĐAI", "dat dai"),
            ("  Hà   Nội!! ", "ha noi"),
            ("Thành phố Hồ Chí Minh", "thanh pho ho chi minh"),
            ("Giấy phép xây dựng (cấp mới)", "giay phep xay dung cap moi"),
            ("Lao động - Thương binh & Xã hội", "lao dong thuong binh xa hoi"),
            ("Số 12/3B", "so 12 3b"),
            ("", ""),
            ("—…", ""),
            ("Thanh Hoá", "thanh hoa"),
        ];
        for (input, want) in cases {
            assert_eq!(fold(input), want, "{input:?}");
            assert_eq!(fold(&fold(input)), fold(input));
        }
    }

    #[test]
    fn token_list() {
        assert_eq!(tokens("Đăng ký, khai-sinh"), ["dang", "ky", "khai", "sinh"]);
        assert!(tokens("  ").is_empty());
    }

    #[test]
    fn matching() {
        let h = fold("Đăng ký khai sinh");
        assert!(matches(&h, "dang ky khai sinh"));
        assert!(matches(&h, "Đăng ký"));
        assert!(matches(&h, "khai dang"));
        assert!(matches(&h, "kha si"));
        assert!(matches(&h, ""));
        assert!(!matches(&h, "ket hon"));
        assert!(!matches(&h, "ang"));
        let land = fold("Đăng ký đất đai");
        assert!(matches(&land, "đất"));
        assert!(matches(&land, "dat"));
        assert!(matches(&land, "DAT DAI"));
    }

    #[test]
    fn ranking() {
        let q = "khai sinh";
        let exact = score(&fold("Khai sinh"), q);
        let starts = score(&fold("Khai sinh cho trẻ em"), q);
        let phrase = score(&fold("Đăng ký khai sinh"), q);
        let prefixes = score(&fold("Sinh con và khai báo"), q);
        let substr = score(&fold("Tái khai, sinhh"), "ai inh");
        assert!(exact > starts, "{exact} {starts}");
        assert!(starts > phrase, "{starts} {phrase}");
        assert!(phrase > prefixes, "{phrase} {prefixes}");
        assert!(prefixes > substr, "{prefixes} {substr}");
        assert!(substr > 0);
        assert_eq!(score(&fold("Kết hôn"), q), 0);
        assert_eq!(score(&fold("Kết hôn"), "  "), 0);
        assert!(score(&fold("Khai sinh"), q) > score(&fold("Khai sinhx"), q));
    }
}
