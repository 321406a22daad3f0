//! Plain-text helpers shared by every stage: the text of sanitized HTML, whitespace and control
//! characters, escaping, excerpts, and the words texts are compared on.

/// Removes characters XML 1.0 forbids or readers choke on (C0 except tab/newline/CR, DEL, C1,
/// and the non-characters U+FFFE/U+FFFF).
pub fn strip_controls(s: &str) -> String {
    without_controls(s).into_owned()
}

fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// `strip_controls` without a copy in the usual case of nothing to strip.
pub(crate) fn without_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(is_forbidden) {
        std::borrow::Cow::Owned(s.chars().filter(|&c| !is_forbidden(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Plain text of HTML that this crate sanitized (well-formed, no scripts or styles): tags
/// become spaces, entities are decoded, whitespace collapses. Many times faster than parsing.
pub fn sanitized_to_text(html: &str) -> String {
    // One pass, no allocation but the result: this runs several times per item (fingerprint,
    // stories, topics), and splitting and joining words afterwards cost as much as the scan.
    let mut out = Text { out: String::with_capacity(html.len()), space: false };
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.run(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            out.space = true;
            rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
        } else {
            let (decoded, used) = entity(rest);
            out.char(decoded);
            rest = &rest[used..];
        }
    }
    out.run(rest);
    out.out
}

/// Text with whitespace collapsed as it is written: runs become one space, none at either end.
struct Text {
    out: String,
    /// Whitespace was seen since the last word.
    space: bool,
}

impl Text {
    fn run(&mut self, run: &str) {
        for (i, piece) in run.split(char::is_whitespace).enumerate() {
            self.space |= i > 0;
            if !piece.is_empty() {
                self.word_start();
                self.out.push_str(piece);
            }
        }
    }

    fn char(&mut self, c: char) {
        if c.is_whitespace() {
            self.space = true;
        } else {
            self.word_start();
            self.out.push(c);
        }
    }

    fn word_start(&mut self) {
        if self.space && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.space = false;
    }
}

/// Decodes the entity at the start of `s` (which starts with `&`): (character, bytes consumed).
/// An unknown entity is left as it is: its `&` is taken as a character.
fn entity(s: &str) -> (char, usize) {
    let Some(end) = s.find(';').filter(|&e| e <= 10) else { return ('&', 1) };
    let name = &s[1..end];
    let named = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" | "#39" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => None,
    };
    let numeric = || {
        let n = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"));
        let code = match n {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
        };
        code.and_then(char::from_u32)
    };
    match named.or_else(numeric) {
        Some(c) => (c, end + 1),
        None => ('&', 1),
    }
}

/// Collapses runs of whitespace to one space and trims; controls removed.
pub fn collapse_ws(s: &str) -> String {
    let input = without_controls(s);
    let mut out = Text { out: String::with_capacity(input.len()), space: false };
    out.run(&input);
    out.out
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A short excerpt for an item that has no title.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let at_word = cut.rfind(' ').filter(|&i| i > max_chars / 2).map_or(cut.as_str(), |i| &cut[..i]);
    format!("{at_word}…")
}

/// Lowercased alphanumeric words of a text (any script).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(lowercase).collect()
}

/// `str::to_lowercase`, without its per-character Unicode lookups for the common ASCII word.
fn lowercase(w: &str) -> String {
    if w.is_ascii() {
        w.to_ascii_lowercase()
    } else {
        w.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The former implementation: scan, then split on whitespace and join.
    fn sanitized_to_text_reference(html: &str) -> String {
        let mut out = String::new();
        let mut rest = html;
        while let Some(i) = rest.find(['<', '&']) {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            if rest.starts_with('<') {
                out.push(' ');
                rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
            } else {
                let (decoded, used) = entity(rest);
                out.push(decoded);
                rest = &rest[used..];
            }
        }
        out.push_str(rest);
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn sanitized_text_collapses_whitespace_as_splitting_and_joining_did() {
        // Fixed text changes every stored fingerprint: the one-pass version must agree exactly.
        let pieces = [
            "<p>",
            "</p>",
            "<br/>",
            "&amp;",
            "&nbsp;",
            "&#32;",
            "&#x20;",
            "&#9;",
            "&bogus;",
            "&",
            ";",
            "<",
            ">",
            " ",
            "  ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{2003}",
            "word",
            "Café",
            "x",
            "&#8212;",
            "&lt;b&gt;",
            "<b",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for case in 0..20_000 {
            let mut html = String::new();
            for _ in 0..(case % 12) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                html.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            assert_eq!(sanitized_to_text(&html), sanitized_to_text_reference(&html), "{html:?}");
            let joined = strip_controls(&html).split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(collapse_ws(&html), joined, "{html:?}");
        }
    }

    #[test]
    fn words_lowercase_every_script_like_str_to_lowercase() {
        let text = "ÀB Straße ΣΑΣ İstanbul ABC-def 42x DŽungla";
        let expected: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        assert_eq!(words(text), expected);
        assert_eq!(words("ABC-def"), ["abc", "def"]);
    }

    #[test]
    fn text_helpers() {
        assert_eq!(strip_controls("a\u{0}b\u{1b}c\td\u{85}"), "abc\td");
        assert_eq!(excerpt("one two three four", 9), "one two…");
        assert_eq!(excerpt("short", 9), "short");
    }
}
