//! Vietnamese text folding: one fold for the server, the phone and the search index.
//!
//! [`fold`] maps text to lowercase ASCII words separated by single spaces ("Đăng ký đất
//! đai" → "dang ky dat dai"), so a citizen typing without diacritics finds the same
//! procedures as one typing with them. Matching and ranking live in [`crate::search`].

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
}
