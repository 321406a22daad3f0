//! A cheap upper estimate of a page's element nesting, taken before parsing: tree building and
//! content scoring cost grows with depth times size, so pathological nesting is refused up front.

/// Real pages nest a few dozen levels (sloppy ones a few hundred); far beyond is an attack or a bug.
pub const MAX_DEPTH: usize = 5_000;

/// Elements without an end tag, or whose end is implied by the next sibling: they do not nest.
const FLAT: [&[u8]; 22] = [
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"source", b"track", b"wbr",
    b"p", b"li", b"option", b"td", b"th", b"tr", b"dd", b"dt", b"param",
];

/// The deepest run of start tags not yet closed, counting every tag as a container except the
/// flat ones; `<script>`/`<style>` contents are not skipped, so this over-estimates, never under.
pub fn estimate(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|&b| b == b'<') {
        i += at + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if len == 0 || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        let name = bytes[start..start + len].to_ascii_lowercase();
        if FLAT.contains(&name.as_slice()) || self_closing(&bytes[start + len..]) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

fn self_closing(rest: &[u8]) -> bool {
    let end = rest.iter().take(512).position(|&b| b == b'>');
    end.is_some_and(|e| e > 0 && rest[e - 1] == b'/')
}
