//! The nesting tracker of the pre-parse scan: which start tags open an element that stays open, as the HTML parser sees it.

/// Elements without an end tag, or whose end is implied by the next sibling: they do not nest.
const FLAT: [&[u8]; 22] = [
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"source", b"track", b"wbr",
    b"p", b"li", b"option", b"td", b"th", b"tr", b"dd", b"dt", b"param",
];

/// HTML elements that end SVG or MathML content where they start (the parser's "breakout" list,
/// `font` included whatever its attributes).
const BREAKOUT: &str = "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img \
    li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var font";

/// The deepest run of start tags not yet closed, counting every tag as a container except the
/// flat ones and, inside SVG and MathML, the self-closed ones. Fed by the pre-parse scan
/// (`lean`), which sees every tag once.
#[derive(Debug, Default)]
pub(super) struct Depth {
    now: usize,
    pub deepest: usize,
    /// The level of the open `<svg>` or `<math>`, whose content closes itself with `/>`.
    foreign: Option<usize>,
}

impl Depth {
    /// A start tag; `name` as written (any case).
    pub fn open(&mut self, name: &[u8], self_closing: bool) {
        if self.foreign.is_some() && BREAKOUT.split_ascii_whitespace().any(|b| b.as_bytes().eq_ignore_ascii_case(name))
        {
            self.foreign = None;
        }
        let foreign_root =
            self.foreign.is_none() && (name.eq_ignore_ascii_case(b"svg") || name.eq_ignore_ascii_case(b"math"));
        // An HTML element's `/>` is ignored by the parser: `<div/>` opens a div like `<div>` does.
        if is_flat(name) || self_closing && (foreign_root || self.foreign.is_some()) {
            return;
        }
        self.now += 1;
        self.deepest = self.deepest.max(self.now);
        if foreign_root {
            self.foreign = Some(self.now);
        }
    }

    /// An end tag.
    pub fn close(&mut self, name: &[u8]) {
        if !is_flat(name) {
            self.now = self.now.saturating_sub(1);
        }
        if self.foreign.is_some_and(|level| self.now < level) {
            self.foreign = None;
        }
    }
}

/// Whether an HTML start tag `name` ends SVG or MathML content.
pub(super) fn is_breakout(name: &[u8]) -> bool {
    BREAKOUT.split_ascii_whitespace().any(|b| b.as_bytes().eq_ignore_ascii_case(name))
}

fn is_flat(name: &[u8]) -> bool {
    // No flat name is longer than six bytes: the common containers are rejected without a scan.
    name.len() <= 6 && FLAT.iter().any(|f| f.eq_ignore_ascii_case(name))
}
