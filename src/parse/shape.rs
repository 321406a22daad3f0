//! A linear pre-scan that refuses documents built to hurt a parser: nesting deeper than any feed
//! needs (the tree builder recurses), giant tags, and entity declarations that expand entities.

use super::ParseError;

pub const MAX_DEPTH: usize = 256;
pub const MAX_TAG_BYTES: usize = 1 << 20;

/// Checks an XML document's shape; JSON and anything else pass through (serde_json bounds depth).
pub fn check(doc: &[u8]) -> Result<(), ParseError> {
    if doc.first() != Some(&b'<') {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = doc[i..].iter().position(|&c| c == b'<') {
        let at = i + off;
        let rest = &doc[at..];
        let end = if rest.starts_with(b"<!--") {
            find(rest, b"-->").map(|e| e + 3)
        } else if rest.starts_with(b"<![CDATA[") {
            find(rest, b"]]>").map(|e| e + 3)
        } else if rest.starts_with(b"<!DOCTYPE") {
            doctype(rest)?
        } else {
            tag(rest, &mut depth)?
        };
        let Some(len) = end else { return Ok(()) }; // unterminated: the parser reports it
        i = at + len;
    }
    Ok(())
}

fn too_complex(why: String) -> ParseError {
    ParseError::TooComplex(why)
}

/// One tag starting at `rest[0] == b'<'`; returns its length and tracks depth.
fn tag(rest: &[u8], depth: &mut usize) -> Result<Option<usize>, ParseError> {
    let mut quote = None;
    for (n, &c) in rest.iter().enumerate().skip(1) {
        if n > MAX_TAG_BYTES {
            return Err(too_complex(format!("a tag longer than {} KiB (a huge attribute)", MAX_TAG_BYTES >> 10)));
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => {
                match rest[1] {
                    b'/' => *depth = depth.saturating_sub(1),
                    b'?' | b'!' => {}
                    _ if rest[n - 1] == b'/' => {}
                    _ => *depth += 1,
                }
                if *depth > MAX_DEPTH {
                    return Err(too_complex(format!("elements nested deeper than {MAX_DEPTH} levels")));
                }
                return Ok(Some(n + 1));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// A DOCTYPE, with its internal subset: entities defined through other entities are refused.
fn doctype(rest: &[u8]) -> Result<Option<usize>, ParseError> {
    let Some(open) = rest.iter().position(|&c| c == b'[' || c == b'>') else { return Ok(None) };
    if rest[open] == b'>' {
        return Ok(Some(open + 1));
    }
    let Some(close) = find(rest, b"]>") else { return Ok(None) };
    let subset = &rest[open..close];
    let mut decls = 0;
    let mut i = 0;
    while let Some(off) = find(&subset[i..], b"<!ENTITY") {
        decls += 1;
        let start = i + off;
        let end = subset[start..].iter().position(|&c| c == b'>').map_or(subset.len(), |e| start + e);
        if subset[start + 8..end].contains(&b'&') || subset[start + 8..end].contains(&b'%') {
            return Err(too_complex("entity declarations that expand other entities (an entity bomb)".into()));
        }
        i = end;
    }
    if decls > 64 {
        return Err(too_complex(format!("{decls} entity declarations")));
    }
    Ok(Some(close + 2))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_shapes_are_refused_and_feeds_pass() {
        let deep = format!("<rss>{}{}</rss>", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert!(matches!(check(deep.as_bytes()), Err(ParseError::TooComplex(_))));
        let fine = format!("<rss>{}<br/><x a='>'/>{}</rss>", "<a>".repeat(200), "</a>".repeat(200));
        assert!(check(fine.as_bytes()).is_ok());
        let wide = format!("<rss>{}</rss>", "<item><title>t</title></item>".repeat(50_000));
        assert!(check(wide.as_bytes()).is_ok(), "many siblings are fine");
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><r>&b;</r>";
        assert!(matches!(check(bomb.as_bytes()), Err(ParseError::TooComplex(_))));
        let simple = "<!DOCTYPE rss PUBLIC \"-//Netscape//DTD RSS 0.91//EN\" \"http://x/rss-0.91.dtd\"><rss/>";
        assert!(check(simple.as_bytes()).is_ok());
        let huge = format!("<rss><item a=\"{}\"/></rss>", "x".repeat(MAX_TAG_BYTES + 10));
        assert!(matches!(check(huge.as_bytes()), Err(ParseError::TooComplex(_))));
        assert!(check(b"<!-- <<<< --><rss><![CDATA[<a><a><a>]]></rss>").is_ok());
    }
}
