//! Character references in OPML attribute values as real exports write them: XML's five named
//! entities and numeric references, the HTML named entities some exporters leave in titles
//! (`&nbsp;`, `&eacute;`), and titles escaped twice (`&amp;#39;`). A reference nobody knows is
//! kept as written rather than failing the file.

/// HTML named entities seen in feed titles, beyond XML's own five.
#[rustfmt::skip]
const HTML: &[(&str, &str)] = &[
    ("nbsp", "\u{a0}"), ("ndash", "–"), ("mdash", "—"), ("hellip", "…"), ("laquo", "«"), ("raquo", "»"),
    ("lsquo", "‘"), ("rsquo", "’"), ("ldquo", "“"), ("rdquo", "”"), ("bdquo", "„"), ("middot", "·"),
    ("bull", "•"), ("copy", "©"), ("reg", "®"), ("trade", "™"), ("euro", "€"), ("pound", "£"),
    ("deg", "°"), ("aacute", "á"), ("agrave", "à"), ("acirc", "â"), ("auml", "ä"), ("aring", "å"),
    ("ccedil", "ç"), ("eacute", "é"), ("egrave", "è"), ("ecirc", "ê"), ("euml", "ë"), ("iacute", "í"),
    ("icirc", "î"), ("iuml", "ï"), ("ntilde", "ñ"), ("oacute", "ó"), ("ocirc", "ô"), ("ouml", "ö"),
    ("oslash", "ø"), ("uacute", "ú"), ("ucirc", "û"), ("uuml", "ü"), ("szlig", "ß"), ("Eacute", "É"),
    ("Auml", "Ä"), ("Ouml", "Ö"), ("Uuml", "Ü"),
];

/// Longest reference name looked at; `&` followed by more is plain text.
const MAX_NAME: usize = 12;

/// An attribute value or text as a person reads it: references resolved (a second pass for
/// text escaped twice), on one line.
pub fn decode(raw: &str) -> String {
    let once = unescape(raw);
    let text = if once.contains('&') { unescape(&once) } else { once };
    super::one_line(&text)
}

/// The replacement of one reference's name (`amp`, `#39`, `#x2019`, `eacute`).
pub fn resolve(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| !c.is_control() || c.is_whitespace()).map(String::from);
    }
    let xml = match name {
        "amp" => Some("&"),
        "lt" => Some("<"),
        "gt" => Some(">"),
        "quot" => Some("\""),
        "apos" => Some("'"),
        _ => None,
    };
    xml.or_else(|| HTML.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)).map(str::to_owned)
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name = after.find(';').filter(|end| *end <= MAX_NAME).map(|end| &after[..end]);
        match name.and_then(|n| Some((n, resolve(n)?))) {
            Some((n, text)) => {
                out.push_str(&text);
                rest = &after[n.len() + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn references_of_every_kind_are_read() {
        for (raw, want) in [
            ("Tom&#039;s Hardware", "Tom's Hardware"),
            ("Ars Technica &amp;raquo; All", "Ars Technica » All"),
            ("Caf&eacute; &amp; Bar", "Café & Bar"),
            ("Tom&amp;#39;s", "Tom's"),
            ("It&#x2019;s &lt;b&gt;", "It’s <b>"),
            ("a&nbsp;b", "a b"),
            ("AT&T News & more", "AT&T News & more"),
            ("&unknown; &#xZZ; &#0; &", "&unknown; &#xZZ; &#0; &"),
            ("  spread\n\tover   lines ", "spread over lines"),
            ("x&#10;y", "x y"),
        ] {
            assert_eq!(decode(raw), want, "{raw}");
        }
    }
}
