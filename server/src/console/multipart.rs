//! A small, bounded reader of `multipart/form-data` bodies (RFC 7578), for the console's
//! forms that carry files (a browser without script sends files no other way). The body
//! is already in memory and capped by the route's body limit; parts are capped in number,
//! and a malformed body is a 422 naming `body`, never a panic.

use axum::http::{HeaderMap, header};
use motcua_domain::form::FieldErrorCode;

use crate::error::ApiError;

/// Most parts one form may carry.
const MAX_PARTS: usize = 40;
/// Longest header block of one part.
const MAX_PART_HEAD: usize = 4096;

/// One part of a form: its field name, the file name a file input gave, its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    pub name: String,
    pub file_name: Option<String>,
    pub data: &'a [u8],
}

impl Part<'_> {
    /// The part as text (a plain field), if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(self.data).ok()
    }
}

fn invalid() -> ApiError {
    ApiError::field("body", FieldErrorCode::Invalid)
}

/// The boundary of a `multipart/form-data` request.
fn boundary(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mut params = value.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.filter_map(|p| p.trim().split_once('=')).find(|(k, _)| k.eq_ignore_ascii_case("boundary")).and_then(
        |(_, v)| {
            let v = v.trim().trim_matches('"');
            (!v.is_empty() && v.len() <= 70).then(|| v.to_owned())
        },
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A parameter of a `Content-Disposition` header (`name="..."`), quotes removed.
fn disposition_param(value: &str, key: &str) -> Option<String> {
    value.split(';').skip(1).filter_map(|p| p.trim().split_once('=')).find(|(k, _)| k.eq_ignore_ascii_case(key)).map(
        |(_, v)| {
            let v = v.trim();
            v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v).replace("%22", "\"")
        },
    )
}

/// The parts of a `multipart/form-data` body, in order.
pub(crate) fn parse<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<Vec<Part<'a>>, ApiError> {
    let boundary = boundary(headers).ok_or_else(invalid)?;
    let delimiter = format!("--{boundary}");
    let mut rest = body;
    let start = find(rest, delimiter.as_bytes()).ok_or_else(invalid)?;
    rest = &rest[start + delimiter.len()..];
    let next_delimiter = format!("\r\n--{boundary}");
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest.strip_prefix(b"\r\n").ok_or_else(invalid)?;
        if parts.len() == MAX_PARTS {
            return Err(ApiError::field("body", FieldErrorCode::TooLarge));
        }
        let head_end = find(&rest[..rest.len().min(MAX_PART_HEAD)], b"\r\n\r\n").ok_or_else(invalid)?;
        let head = std::str::from_utf8(&rest[..head_end]).map_err(|_| invalid())?;
        let disposition = head
            .split("\r\n")
            .filter_map(|line| line.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v.trim())
            .ok_or_else(invalid)?;
        let name = disposition_param(disposition, "name").ok_or_else(invalid)?;
        let file_name = disposition_param(disposition, "filename");
        rest = &rest[head_end + 4..];
        let end = find(rest, next_delimiter.as_bytes()).ok_or_else(invalid)?;
        parts.push(Part { name, file_name, data: &rest[..end] });
        rest = &rest[end + next_delimiter.len()..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn reads_fields_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"file\"; filename=\"qd.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1\r\n\r\n--XyZ--\r\n";
        let parts = parse(&headers("multipart/form-data; boundary=XyZ"), body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].text()), ("csrf", Some("tok")));
        assert_eq!(parts[1].file_name.as_deref(), Some("qd.pdf"));
        assert_eq!(parts[1].data, b"%PDF-1\r\n");
    }

    #[test]
    fn refuses_what_is_not_multipart_or_is_cut_short() {
        assert!(parse(&headers("application/x-www-form-urlencoded"), b"a=b").is_err());
        let cut = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok";
        assert!(parse(&headers("multipart/form-data; boundary=XyZ"), cut).is_err());
        let no_name = b"--XyZ\r\nContent-Disposition: form-data\r\n\r\ntok\r\n--XyZ--";
        assert!(parse(&headers("multipart/form-data; boundary=XyZ"), no_name).is_err());
    }

    #[test]
    fn caps_the_number_of_parts() {
        let mut body = Vec::new();
        for i in 0..=MAX_PARTS {
            body.extend_from_slice(
                format!("--b\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(b"--b--");
        assert!(parse(&headers("multipart/form-data; boundary=b"), &body).is_err());
    }
}
