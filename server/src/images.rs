//! Photos: removing their metadata (EXIF with GPS, camera and owner; XMP; IPTC; comments)
//! losslessly, by dropping the container's metadata segments without touching the coded
//! image, and making the small JPEG thumbnails lists show.
//!
//! - JPEG: every APPn segment except APP0 (JFIF), APP2 (ICC colour profile) and APP14
//!   (Adobe colour transform) goes, and COM segments, also between the scans of a
//!   progressive file; bytes after the end-of-image marker go too. Orientation lives in
//!   EXIF, so it goes with it: apps show the pixels as stored (documented in README).
//! - PNG: the `eXIf`, `tEXt`, `iTXt`, `zTXt` and `tIME` chunks go; bytes after `IEND` go.
//! - WebP: the `EXIF` and `XMP ` chunks go, the VP8X flags that announced them are
//!   cleared and the RIFF size is written anew.
//!
//! HEIC/HEIF/AVIF are recognised so they can be refused with a message of their own.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// Why metadata could not be removed: the bytes are not a well-formed file of the kind
/// their first bytes claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StripError {
    #[error("not a well-formed {0}")]
    Malformed(&'static str),
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
}

/// The image kinds we clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    WebP,
}

impl Kind {
    pub fn of(head: &[u8]) -> Option<Kind> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else if head.starts_with(PNG_SIGNATURE) {
            Some(Kind::Png)
        } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            Some(Kind::WebP)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::WebP => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
            Kind::WebP => ImageFormat::WebP,
        }
    }
}

/// Whether `head` starts an ISO-BMFF image we do not clean (HEIC, HEIF, AVIF).
pub fn is_heif(head: &[u8]) -> bool {
    head.len() >= 12
        && &head[4..8] == b"ftyp"
        && matches!(
            &head[8..12],
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif"
        )
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// `bytes` without their metadata (the coded image untouched).
pub fn strip(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    match Kind::of(bytes) {
        Some(Kind::Jpeg) => strip_jpeg(bytes),
        Some(Kind::Png) => strip_png(bytes),
        Some(Kind::WebP) => strip_webp(bytes),
        None => Err(StripError::NotAnImage),
    }
}

/// Whether `bytes` still carry metadata [`strip`] would remove (a check for stored copies).
pub fn has_metadata(bytes: &[u8]) -> bool {
    strip(bytes).is_ok_and(|clean| clean.len() != bytes.len())
}

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, StripError> {
    const BAD: StripError = StripError::Malformed("JPEG");
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    loop {
        // Fill bytes (0xFF) may precede a marker.
        if b.get(i) != Some(&0xFF) {
            return Err(BAD);
        }
        while b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let marker = *b.get(i + 1).ok_or(BAD)?;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[i..i + 2]);
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i + 2).ok_or(BAD)?, *b.get(i + 3).ok_or(BAD)?]));
        if len < 2 || i + 2 + len > b.len() {
            return Err(BAD);
        }
        let end = i + 2 + len;
        let drop = matches!(marker, 0xE1 | 0xE3..=0xED | 0xEF | 0xFE);
        if !drop {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if marker == 0xDA {
            // Entropy-coded data runs until a marker other than a stuffed zero or a restart.
            let start = i;
            loop {
                match (b.get(i), b.get(i + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7 | 0xFF)) => i += if b[i + 1] == 0xFF { 1 } else { 2 },
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return Err(BAD),
                }
            }
            out.extend_from_slice(&b[start..i]);
        }
    }
}

fn strip_png(b: &[u8]) -> Result<Vec<u8>, StripError> {
    const BAD: StripError = StripError::Malformed("PNG");
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut i = PNG_SIGNATURE.len();
    loop {
        let header = b.get(i..i + 8).ok_or(BAD)?;
        let len = usize::try_from(u32::from_be_bytes([header[0], header[1], header[2], header[3]])).map_err(|_| BAD)?;
        let kind = &header[4..8];
        let end = i.checked_add(12).and_then(|e| e.checked_add(len)).ok_or(BAD)?;
        if end > b.len() {
            return Err(BAD);
        }
        if !matches!(kind, b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt" | b"tIME") {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

fn strip_webp(b: &[u8]) -> Result<Vec<u8>, StripError> {
    const BAD: StripError = StripError::Malformed("WebP");
    let declared = usize::try_from(u32::from_le_bytes([b[4], b[5], b[6], b[7]])).map_err(|_| BAD)?;
    let total = declared.checked_add(8).ok_or(BAD)?;
    if total > b.len() {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&b[..12]);
    let mut vp8x_flags_at = None;
    let mut i = 12;
    while i < total {
        let header = b.get(i..i + 8).ok_or(BAD)?;
        let len = usize::try_from(u32::from_le_bytes([header[4], header[5], header[6], header[7]])).map_err(|_| BAD)?;
        let padded = len + (len & 1);
        let end = i.checked_add(8).and_then(|e| e.checked_add(padded)).ok_or(BAD)?;
        if end > total {
            return Err(BAD);
        }
        match &header[..4] {
            b"EXIF" | b"XMP " => {}
            fourcc => {
                if fourcc == b"VP8X" {
                    if len < 10 {
                        return Err(BAD);
                    }
                    vp8x_flags_at = Some(out.len() + 8);
                }
                out.extend_from_slice(&b[i..end]);
            }
        }
        i = end;
    }
    if let Some(at) = vp8x_flags_at {
        // Bits of the VP8X flags byte: ICC 0x20, alpha 0x10, EXIF 0x08, XMP 0x04, animation 0x02.
        out[at] &= !(0x08 | 0x04);
    }
    let size = u32::try_from(out.len() - 8).map_err(|_| BAD)?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(out)
}

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;

/// A JPEG thumbnail of an image (decoded within limits, so a hostile file cannot take the
/// memory of the server).
pub fn thumbnail(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let kind = Kind::of(bytes).ok_or(StripError::NotAnImage)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode()?;
    let small = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&small)?;
    Ok(out)
}

/// Width and height, read from the headers only.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let kind = Kind::of(bytes)?;
    ImageReader::with_format(Cursor::new(bytes), kind.format()).into_dimensions().ok()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A real JPEG (`w`×`h`) carrying an APP1 Exif segment with GPS tags, an XMP packet, an
    /// IPTC (APP13) segment and a comment — what a phone's camera writes.
    pub fn jpeg_with_gps(w: u32, h: u32) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&pixels).expect("encode");
        let mut out = plain[..2].to_vec();
        out.extend(segment(0xE1, &exif_with_gps()));
        out.extend(segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>21,1.7N</exif:GPSLatitude></x:xmpmeta>",
        ));
        out.extend(segment(0xED, b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x0cNguyen Van An"));
        out.extend(segment(0xFE, b"Chup boi Nguyen Van An"));
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + 2).expect("short");
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&len.to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// An Exif block (big-endian TIFF) whose IFD0 has Make and a GPS IFD pointer, and whose
    /// GPS IFD holds GPSLatitudeRef 'N' and GPSLatitude 21°1'42".
    pub fn exif_with_gps() -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
        // IFD0 at 8: 2 entries.
        t.extend_from_slice(&2u16.to_be_bytes());
        // Make (0x010F) ASCII, 6 bytes at offset 38.
        t.extend_from_slice(&[0x01, 0x0F, 0, 2, 0, 0, 0, 6, 0, 0, 0, 38]);
        // GPS IFD pointer (0x8825) LONG -> 44.
        t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 44]);
        t.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(t.len(), 38);
        t.extend_from_slice(b"Phone\0");
        // GPS IFD at 44: 2 entries.
        t.extend_from_slice(&2u16.to_be_bytes());
        t.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
        t.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 74]);
        t.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(t.len(), 74);
        for (n, d) in [(21u32, 1u32), (1, 1), (42, 1)] {
            t.extend_from_slice(&n.to_be_bytes());
            t.extend_from_slice(&d.to_be_bytes());
        }
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend(t);
        exif
    }

    pub fn png_with_text(w: u32, h: u32) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([x as u8, 20, 30]));
        let mut plain = Vec::new();
        image::codecs::png::PngEncoder::new(&mut plain)
            .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
            .expect("png");
        // Insert eXIf and tEXt after IHDR (8 + 25 bytes).
        let mut out = plain[..33].to_vec();
        out.extend(png_chunk(b"eXIf", &exif_with_gps()[6..]));
        out.extend(png_chunk(b"tEXt", b"Author\0Nguyen Van An"));
        out.extend_from_slice(&plain[33..]);
        out
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len()).expect("short").to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        // The stripper does not check CRCs; a decoder would, so write a real one.
        c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
        c
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    /// A lossless WebP wrapped in VP8X with EXIF and XMP chunks (flags set for both).
    pub fn webp_with_exif(w: u32, h: u32) -> Vec<u8> {
        let pixels = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 7, 255]));
        let mut simple = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut simple)
            .write_image(&pixels, w, h, image::ExtendedColorType::Rgba8)
            .expect("webp");
        let vp8l = simple[12..].to_vec();
        let mut body = b"WEBP".to_vec();
        let mut vp8x = vec![0x08 | 0x04 | 0x10, 0, 0, 0];
        vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
        vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
        body.extend(riff_chunk(b"VP8X", &vp8x));
        body.extend_from_slice(&vp8l);
        body.extend(riff_chunk(b"EXIF", &exif_with_gps()[6..]));
        body.extend(riff_chunk(b"XMP ", b"<x:xmpmeta>Nguyen Van An</x:xmpmeta>"));
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&u32::try_from(body.len()).expect("short").to_le_bytes());
        out.extend(body);
        out
    }

    fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = kind.to_vec();
        c.extend_from_slice(&u32::try_from(data.len()).expect("short").to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    use image::ImageEncoder;

    #[test]
    fn jpeg_loses_exif_xmp_iptc_and_comments_but_not_a_pixel() {
        let dirty = jpeg_with_gps(40, 30);
        assert!(contains(&dirty, b"Exif\0\0") && contains(&dirty, b"Nguyen Van An"));
        let clean = strip(&dirty).expect("strip");
        for needle in [&b"Exif"[..], b"xmpmeta", b"Nguyen", b"Photoshop", b"Phone"] {
            assert!(!contains(&clean, needle), "{}", String::from_utf8_lossy(needle));
        }
        let a = image::load_from_memory(&dirty).expect("dirty decodes").to_rgb8();
        let b = image::load_from_memory(&clean).expect("clean decodes").to_rgb8();
        assert_eq!(a, b, "lossless: the same pixels");
        assert!(!has_metadata(&clean) && has_metadata(&dirty));
        assert_eq!(strip(&clean).expect("again"), clean, "idempotent");
    }

    #[test]
    fn png_loses_exif_and_text_chunks() {
        let dirty = png_with_text(12, 9);
        let clean = strip(&dirty).expect("strip");
        assert!(contains(&dirty, b"eXIf") && !contains(&clean, b"eXIf") && !contains(&clean, b"Nguyen"));
        let a = image::load_from_memory(&dirty).expect("dirty").to_rgb8();
        let b = image::load_from_memory(&clean).expect("clean").to_rgb8();
        assert_eq!(a, b);
    }

    #[test]
    fn webp_loses_exif_and_xmp_and_its_header_is_fixed() {
        let dirty = webp_with_exif(10, 6);
        let clean = strip(&dirty).expect("strip");
        assert!(!contains(&clean, b"EXIF") && !contains(&clean, b"XMP ") && !contains(&clean, b"Nguyen"));
        let size = u32::from_le_bytes([clean[4], clean[5], clean[6], clean[7]]) as usize;
        assert_eq!(size + 8, clean.len());
        // VP8X flags: alpha kept, EXIF and XMP cleared.
        assert_eq!(clean[20], 0x10);
        let b = image::load_from_memory(&clean).expect("clean decodes").to_rgba8();
        assert_eq!(b.dimensions(), (10, 6));
    }

    #[test]
    fn malformed_files_are_refused_not_passed_through() {
        let mut cut = jpeg_with_gps(8, 8);
        cut.truncate(60);
        assert_eq!(strip(&cut), Err(StripError::Malformed("JPEG")));
        let fake_png = [PNG_SIGNATURE, &[0, 0, 0, 13, b'I', b'H', b'D', b'R']].concat();
        assert_eq!(strip(&fake_png), Err(StripError::Malformed("PNG")));
        assert_eq!(strip(b"%PDF-1.7"), Err(StripError::NotAnImage));
        assert!(is_heif(b"\0\0\0\x18ftypheic\0\0\0\0"));
        assert!(!is_heif(b"\0\0\0\x18ftypisom\0\0\0\0"));
    }

    #[test]
    fn thumbnails_are_small_jpegs() {
        let big = jpeg_with_gps(800, 600);
        let thumb = thumbnail(&big).expect("thumbnail");
        assert_eq!(Kind::of(&thumb), Some(Kind::Jpeg));
        assert_eq!(dimensions(&thumb), Some((320, 240)));
        assert!(!has_metadata(&thumb));
    }
}
