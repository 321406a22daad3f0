//! A cheap upper estimate of a page's element nesting, taken before parsing: tree building and
//! content scoring cost grows with depth times size, so pathological nesting is refused up front.

/// Real pages nest a few dozen levels (sloppy ones a few hundred); far beyond is an attack or a bug.
pub const MAX_DEPTH: usize = 5_000;

/// The deepest run of elements left open, as the pre-parse scan counts them (the extractor takes
/// it from the scan that also trims the page): tags in scripts, styles, comments and attribute
/// values are not elements, and `/>` closes only inside SVG and MathML, as for the parser.
pub fn estimate(html: &str) -> usize {
    super::lean::nesting(html)
}
