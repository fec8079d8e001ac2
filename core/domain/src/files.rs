//! Files attached to forms: which kinds are accepted (judged by their first bytes, never by
//! their name) and how large one may be. The phone checks a file when it is attached, with
//! the same rule the server applies when it is uploaded.

/// The largest attachment the server accepts by default (`MOTCUA_MAX_UPLOAD_BYTES`): 10 MB.
pub const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

/// How many first bytes [`sniff`] and [`is_heif`] need.
pub const SNIFF_BYTES: usize = 16;

/// The accepted content types, for the form view and the documentation.
pub const ACCEPTED_TYPES: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "image/webp"];

/// The type of a file judged by its first bytes: PDF, JPEG, PNG or WebP; `None` otherwise.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Whether the bytes start like a HEIF/HEIC/AVIF photo (iPhones' default), which the
/// server cannot clean of its metadata: the citizen should pick "most compatible" (JPEG).
pub fn is_heif(head: &[u8]) -> bool {
    head.len() >= 12
        && &head[4..8] == b"ftyp"
        && matches!(
            &head[8..12],
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judged_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8L"), Some("image/webp"));
        assert_eq!(sniff(b"MZ\x90\x00 an exe named scan.pdf"), None);
        assert_eq!(sniff(b""), None);
        assert!(is_heif(b"\0\0\0\x18ftypheic\0\0\0\0"));
        assert!(!is_heif(b"\0\0\0\x18ftypisom\0\0\0\0"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), None);
    }
}
