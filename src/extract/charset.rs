//! Character set of an HTML page: BOM, `<meta charset>`, `http-equiv` content type, the HTTP header, else UTF-8.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// Declarations are looked for in the first bytes only, as browsers do (the HTML standard's
/// prescan reads 1024 bytes; pages with long heads put theirs a little later).
const PRESCAN: usize = 4096;

/// Decodes a page to text; malformed sequences become U+FFFD.
pub fn decode<'a>(bytes: &'a [u8], header_charset: Option<&str>) -> Cow<'a, str> {
    let encoding = Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| declared(&bytes[..bytes.len().min(PRESCAN)]))
        .or_else(|| header_charset.and_then(|c| Encoding::for_label(c.trim().as_bytes())))
        .unwrap_or(encoding_rs::UTF_8);
    // UTF-16 declared inside the document is a mislabel: the bytes read as ASCII to find it.
    let encoding = if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        if Encoding::for_bom(bytes).is_some() {
            encoding
        } else {
            encoding_rs::UTF_8
        }
    } else {
        encoding
    };
    encoding.decode_with_bom_removal(bytes).0
}

/// The charset a `<meta charset>` or `<meta http-equiv=content-type content="...; charset=...">` names.
fn declared(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"<meta") {
        let start = from + at;
        let end = lower[start..].iter().position(|&b| b == b'>').map_or(lower.len(), |e| start + e);
        if let Some(enc) = charset_in(&lower[start..end]) {
            return Some(enc);
        }
        from = end;
    }
    None
}

fn charset_in(tag: &[u8]) -> Option<&'static Encoding> {
    let at = find(tag, b"charset")?;
    let rest = &tag[at + b"charset".len()..];
    let rest = rest.iter().skip_while(|b| b.is_ascii_whitespace()).copied().collect::<Vec<u8>>();
    let rest = rest.strip_prefix(b"=")?;
    let label: Vec<u8> = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || **b == b'"' || **b == b'\'')
        .take_while(|b| !(b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';' | b'/' | b'>')))
        .copied()
        .collect();
    Encoding::for_label(&label)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
