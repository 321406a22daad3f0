//! The page as the parsers need it: scripts (JSON-LD kept), styles and comments cut out in one pass
//! over the markup, which also estimates the nesting depth.
//!
//! On the shared benchmark's pages scripts and styles are over half the bytes. No rule reads them,
//! yet both parsers (the body extractor's and the metadata's) would tokenize them, and the body
//! extractor serializes and re-parses its tree once more. Cutting follows the HTML tokenizer's
//! states (tags and quoted attribute values, raw-text elements, script escapes, comments) so
//! that only what the parser itself would have read as script, style or comment goes; anything
//! the scan is unsure of is kept.

use super::nesting::{is_breakout, Depth};
use std::borrow::Cow;

/// The page to parse, and its estimated nesting depth.
#[derive(Debug)]
pub(super) struct Lean<'a> {
    pub text: Cow<'a, str>,
    pub depth: usize,
}

/// Elements whose content is text up to their end tag (RAWTEXT and RCDATA, scripting off): kept as is.
const RAW: [&[u8]; 6] = [b"title", b"textarea", b"xmp", b"iframe", b"noembed", b"noframes"];

/// Scans `html` once; borrows it when nothing was cut.
pub(super) fn scan(html: &str) -> Lean<'_> {
    let mut s = Scanner::run(html, true);
    let depth = s.depth.deepest;
    if s.kept == 0 {
        return Lean { text: Cow::Borrowed(html), depth };
    }
    s.out.push_str(&html[s.kept..]);
    Lean { text: Cow::Owned(s.out), depth }
}

/// The nesting depth alone, nothing cut.
pub(super) fn nesting(html: &str) -> usize {
    Scanner::run(html, false).depth.deepest
}

struct Scanner<'a> {
    src: &'a str,
    out: String,
    /// `src[kept..]` is not yet copied to `out`.
    kept: usize,
    depth: Depth,
    cutting: bool,
}

impl<'a> Scanner<'a> {
    fn run(html: &'a str, cutting: bool) -> Self {
        let mut s = Scanner { src: html, out: String::new(), kept: 0, depth: Depth::default(), cutting };
        let mut i = 0;
        // Every step ends just after an ASCII byte (or at the end), so `i` stays on a char boundary.
        while let Some(at) = html.get(i..).and_then(|rest| rest.find('<')) {
            i = s.markup(i + at);
        }
        s
    }

    /// Handles the markup starting at `lt` (a `<`); returns where scanning goes on.
    fn markup(&mut self, lt: usize) -> usize {
        let b = self.src.as_bytes();
        match b.get(lt + 1) {
            Some(b'!') => self.declaration(lt),
            Some(b'?') => after_gt(b, lt + 2),
            Some(b'/') => self.end_tag(lt),
            Some(c) if c.is_ascii_alphabetic() => self.start_tag(lt),
            _ => lt + 1,
        }
    }

    fn cut(&mut self, from: usize, to: usize) {
        if !self.cutting {
            return;
        }
        if self.out.capacity() == 0 {
            self.out.reserve(self.src.len());
        }
        self.out.push_str(&self.src[self.kept..from]);
        self.kept = to;
    }

    /// `<!--` comments are cut; `<![CDATA[` (real only inside SVG and MathML) is kept to its end;
    /// the rest (`<!DOCTYPE`, bogus comments) ends at the first `>`.
    fn declaration(&mut self, lt: usize) -> usize {
        let b = self.src.as_bytes();
        let rest = &b[lt..];
        if rest.starts_with(b"<!--") {
            let end = comment_end(b, lt + 4);
            self.cut(lt, end);
            return end;
        }
        if rest.get(2..9).is_some_and(|r| r.eq_ignore_ascii_case(b"[CDATA[")) {
            return find(b, lt + 9, b"]]>").map_or_else(|| after_gt(b, lt + 2), |at| at + 3);
        }
        after_gt(b, lt + 2)
    }

    fn end_tag(&mut self, lt: usize) -> usize {
        let b = self.src.as_bytes();
        match b.get(lt + 2) {
            Some(c) if c.is_ascii_alphabetic() => {
                let tag = tag(b, lt + 2);
                self.depth.close(&b[lt + 2..tag.name_end]);
                tag.end
            }
            Some(b'>') => lt + 3,
            Some(_) => after_gt(b, lt + 2),
            None => b.len(),
        }
    }

    fn start_tag(&mut self, lt: usize) -> usize {
        let b = self.src.as_bytes();
        let tag = tag(b, lt + 1);
        let name = &b[lt + 1..tag.name_end];
        if name.eq_ignore_ascii_case(b"script") {
            let end = script_end(b, tag.end);
            if find_ignore_case(&b[lt..tag.end], b"ld+json").is_none() {
                self.cut(lt, end);
            }
            end
        } else if name.eq_ignore_ascii_case(b"style") {
            let end = raw_end(b, tag.end, b"style");
            self.cut(lt, end);
            end
        } else if RAW.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            raw_end(b, tag.end, name)
        } else if name.eq_ignore_ascii_case(b"plaintext") {
            b.len()
        } else if name.eq_ignore_ascii_case(b"svg") && !tag.self_closing {
            self.depth.open(name, false);
            // The drawing goes, the element stays (empty): no rule reads inside it.
            let Some(close) = svg_close(b, tag.end) else { return tag.end };
            self.cut(tag.end, close);
            close
        } else {
            self.depth.open(name, tag.self_closing);
            tag.end
        }
    }
}

/// Where the end tag of an `<svg>` whose content starts at `from` starts; `None` when the content
/// holds HTML (an element that ends SVG content, or `foreignObject`) or never ends, and is kept.
fn svg_close(b: &[u8], from: usize) -> Option<usize> {
    let (mut open, mut at) = (1usize, from);
    while let Some(p) = b.get(at..)?.iter().position(|&c| c == b'<').map(|p| at + p) {
        let next = b.get(p + 1).copied().unwrap_or(b' ');
        at = if b[p..].starts_with(b"<!--") {
            comment_end(b, p + 4)
        } else if b[p..].starts_with(b"<![CDATA[") {
            find(b, p + 9, b"]]>")? + 3
        } else if next == b'/' && b.get(p + 2).is_some_and(u8::is_ascii_alphabetic) {
            let t = tag(b, p + 2);
            let name = &b[p + 2..t.name_end];
            if name.eq_ignore_ascii_case(b"p") || name.eq_ignore_ascii_case(b"br") {
                return None;
            }
            if name.eq_ignore_ascii_case(b"svg") {
                open -= 1;
                if open == 0 {
                    return Some(p);
                }
            }
            t.end
        } else if next.is_ascii_alphabetic() {
            let t = tag(b, p + 1);
            let name = &b[p + 1..t.name_end];
            if is_breakout(name) || name.eq_ignore_ascii_case(b"foreignobject") {
                return None;
            }
            open += usize::from(name.eq_ignore_ascii_case(b"svg") && !t.self_closing);
            t.end
        } else if next == b'?' || next == b'/' {
            after_gt(b, p + 2)
        } else {
            p + 1
        };
    }
    None
}

/// Where a tag's name ends, where the tag ends (just after its `>`, or the end of the page),
/// and whether it closed itself (`/>`).
struct Tag {
    name_end: usize,
    end: usize,
    self_closing: bool,
}

/// The tokenizer's attribute states, as far as they decide where a tag ends.
#[derive(Clone, Copy, PartialEq)]
enum Attr {
    Before,
    Name,
    AfterName,
    Value,
    Unquoted,
}

fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Reads a tag whose name starts at `from`, skipping quoted attribute values whole.
fn tag(b: &[u8], from: usize) -> Tag {
    let name_end = b[from..].iter().position(|&c| is_space(c) || c == b'/' || c == b'>').map_or(b.len(), |p| from + p);
    let (mut state, mut i) = (Attr::Before, name_end);
    while let Some(&c) = b.get(i) {
        if c == b'>' {
            return Tag { name_end, end: i + 1, self_closing: false };
        }
        if c == b'/' && state != Attr::Unquoted && b.get(i + 1) == Some(&b'>') {
            return Tag { name_end, end: i + 2, self_closing: true };
        }
        if state == Attr::Value && (c == b'"' || c == b'\'') {
            // A quoted value runs to its closing quote, `>` and all.
            i = b[i + 1..].iter().position(|&q| q == c).map_or(b.len(), |p| i + 1 + p) + 1;
            state = Attr::Before;
            continue;
        }
        state = next_state(state, c);
        i += 1;
    }
    Tag { name_end, end: b.len(), self_closing: false }
}

/// The attribute state after byte `c` (neither `>` nor the start of a quoted value).
fn next_state(state: Attr, c: u8) -> Attr {
    match (state, c) {
        (Attr::Unquoted, c) if is_space(c) => Attr::Before,
        (Attr::Unquoted, _) => Attr::Unquoted,
        (Attr::Value, c) if is_space(c) => Attr::Value,
        (Attr::Value, _) => Attr::Unquoted,
        (Attr::Name | Attr::AfterName, b'=') => Attr::Value,
        (Attr::Name, c) if is_space(c) => Attr::AfterName,
        (Attr::AfterName, c) if is_space(c) => Attr::AfterName,
        (_, b'/') => Attr::Before,
        (Attr::Before, c) if is_space(c) => Attr::Before,
        _ => Attr::Name,
    }
}

/// Just after the next `>` from `from`, or the end of the page.
fn after_gt(b: &[u8], from: usize) -> usize {
    b.get(from..).and_then(|r| r.iter().position(|&c| c == b'>')).map_or(b.len(), |p| from + p + 1)
}

/// The end of a comment whose `<!--` ends at `from`: `-->`, `--!>`, or at once for `<!-->` and `<!--->`.
fn comment_end(b: &[u8], from: usize) -> usize {
    let rest = &b[from.min(b.len())..];
    if rest.starts_with(b">") {
        return from + 1;
    }
    if rest.starts_with(b"->") {
        return from + 2;
    }
    let mut at = from;
    while let Some(p) = find(b, at, b"--") {
        match b.get(p + 2) {
            Some(b'>') => return p + 3,
            Some(b'!') if b.get(p + 3) == Some(&b'>') => return p + 4,
            _ => at = p + 1,
        }
    }
    b.len()
}

/// Whether an end tag named `name` starts at `at` (`</name` then a space, `/` or `>`).
fn end_tag_at(b: &[u8], at: usize, name: &[u8]) -> bool {
    let after = at + 2 + name.len();
    b.get(at + 2..after).is_some_and(|n| n.eq_ignore_ascii_case(name))
        && b.get(after).is_none_or(|&c| is_space(c) || c == b'/' || c == b'>')
}

/// Just after the end tag of a raw-text element whose content starts at `from`.
fn raw_end(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(p) = find(b, at, b"</") {
        if end_tag_at(b, p, name) {
            return tag(b, p + 2).end;
        }
        at = p + 2;
    }
    b.len()
}

/// Just after a script's end tag, its content starting at `from`. A `<!--` in a script makes
/// `<script` inside it nest up to its own `</script>` (the tokenizer's escaped and double-escaped
/// states), which old pages do write.
fn script_end(b: &[u8], from: usize) -> usize {
    let (mut escaped, mut double, mut at) = (false, false, from);
    while let Some(p) = b.get(at..).and_then(|r| r.iter().position(|&c| c == b'<' || c == b'-')).map(|p| at + p) {
        at = p + 1;
        let rest = &b[p..];
        if rest.starts_with(b"-->") {
            (escaped, double) = (false, false);
        } else if rest.starts_with(b"<!--") && !escaped {
            (escaped, at) = (true, p + 2);
        } else if end_tag_at(b, p, b"script") {
            if !double {
                return tag(b, p + 2).end;
            }
            double = false;
        } else if escaped && !double && start_tag_at(b, p, b"script") {
            double = true;
        }
    }
    b.len()
}

fn start_tag_at(b: &[u8], at: usize, name: &[u8]) -> bool {
    let after = at + 1 + name.len();
    b.get(at + 1..after).is_some_and(|n| n.eq_ignore_ascii_case(name))
        && b.get(after).is_some_and(|&c| is_space(c) || c == b'/' || c == b'>')
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}
