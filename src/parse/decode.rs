//! Bytes in whatever encoding the publisher used to UTF-8 the XML layer can trust: BOM first,
//! then the HTTP charset, then the XML declaration; invalid bytes are replaced and reported.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use std::borrow::Cow;

/// The `charset` parameter of a Content-Type header, if encoding_rs knows it.
pub fn charset_of(content_type: &str) -> Option<&'static Encoding> {
    let param = content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches(['"', '\'']))
    })?;
    Encoding::for_label(param.as_bytes())
}

/// The document as UTF-8 (declaration rewritten to say so), and whether bytes were replaced.
pub fn to_utf8<'a>(body: &'a [u8], header: Option<&'static Encoding>) -> (Cow<'a, [u8]>, bool) {
    if let Some(utf16) = utf16(body) {
        let (text, _, replaced) = utf16.decode(body);
        return (Cow::Owned(declare_utf8(&text).into_bytes()), replaced);
    }
    let declared = declared(body);
    // UTF-16 named anywhere without UTF-16 bytes is a lie; read as UTF-8.
    let named = |e: &'static Encoding| (e != UTF_16LE && e != UTF_16BE).then_some(e);
    let mut enc = header.and_then(named).or(declared.and_then(named)).unwrap_or(UTF_8);
    let valid_utf8 = std::str::from_utf8(body).is_ok();
    if enc == UTF_8 && !valid_utf8 {
        // A server default of "utf-8" over a document that declares its real encoding.
        enc = declared.and_then(named).unwrap_or(UTF_8);
    }
    if enc == UTF_8 || (enc.is_ascii_compatible() && body.is_ascii()) {
        if valid_utf8 && declared.is_none_or(|d| d == UTF_8 || body.is_ascii()) {
            return (Cow::Borrowed(body), false);
        }
        let (text, replaced) = match String::from_utf8_lossy(body) {
            Cow::Borrowed(s) => (s.to_owned(), false),
            Cow::Owned(s) => (s, true),
        };
        return (Cow::Owned(declare_utf8(&text).into_bytes()), replaced);
    }
    let (text, replaced) = enc.decode_without_bom_handling(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body));
    (Cow::Owned(declare_utf8(&text).into_bytes()), replaced)
}

/// UTF-16, found by BOM or by the `<?` pattern of a declaration.
fn utf16(body: &[u8]) -> Option<&'static Encoding> {
    match body {
        [0xFE, 0xFF, ..] | [0x00, b'<', 0x00, ..] => Some(UTF_16BE),
        [0xFF, 0xFE, ..] | [b'<', 0x00, _, 0x00, ..] => Some(UTF_16LE),
        _ => None,
    }
}

/// The `encoding` of the XML declaration.
fn declared(body: &[u8]) -> Option<&'static Encoding> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let head = &body[..body.len().min(256)];
    let start = head.iter().position(|c| !c.is_ascii_whitespace())?;
    let head = head[start..].strip_prefix(b"<?xml")?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let rest = &decl[decl.find("encoding")? + 8..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..][..rest[1..].find(q)?];
    Encoding::for_label(value.trim().as_bytes())
}

/// Rewrites `encoding="..."` in the XML declaration to `utf-8`.
pub(super) fn declare_utf8(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    let Some(end) = trimmed.starts_with("<?xml").then(|| trimmed.find("?>")).flatten() else { return text.to_owned() };
    let decl = &trimmed[..end];
    let Some(at) = decl.find("encoding") else { return text.to_owned() };
    let rest = &decl[at..];
    let quote_at = rest.find(['"', '\'']);
    let Some((q_start, q)) = quote_at.map(|i| (i, rest.as_bytes()[i] as char)) else { return text.to_owned() };
    let Some(q_len) = rest[q_start + 1..].find(q) else { return text.to_owned() };
    let value_end = at + q_start + 1 + q_len + 1;
    format!("{}encoding=\"utf-8\"{}", &trimmed[..at], &trimmed[value_end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &[u8], header: Option<&str>) -> (String, bool) {
        let (out, replaced) = to_utf8(body, header.and_then(charset_of));
        (String::from_utf8(out.into_owned()).expect("utf-8 out"), replaced)
    }

    #[test]
    fn declared_header_and_replaced_encodings() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>caf\xe9</t>";
        assert_eq!(text(latin1, None), ("<?xml version=\"1.0\" encoding=\"utf-8\"?><t>caf\u{e9}</t>".into(), false));
        let (koi8, _) = text(b"<t>\xf0\xd2\xc9\xd7\xc5\xd4</t>", Some("text/xml; charset=KOI8-R"));
        assert_eq!(koi8, "<t>Привет</t>");
        let (cp1252, _) = text(b"<t>\x93quoted\x94 \x80</t>", Some("application/rss+xml;charset=\"windows-1252\""));
        assert_eq!(cp1252, "<t>\u{201c}quoted\u{201d} \u{20ac}</t>");
        let (fixed, replaced) = text(latin1, Some("text/xml; charset=utf-8"));
        assert!(fixed.contains("café") && !replaced, "a server's utf-8 default yields to the declaration");
        let (lossy, replaced) = text(b"<t>ok \xff\xfe bad</t>", None);
        assert!(replaced && lossy.contains('\u{fffd}'), "{lossy}");
        let plain = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><t>\xc3\xa9</t>";
        assert!(matches!(to_utf8(plain, None), (Cow::Borrowed(_), false)), "UTF-8 is not copied");
        assert_eq!(charset_of("text/xml"), None);
    }
}
