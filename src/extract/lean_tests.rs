//! The pre-parse scan: what it cuts, what it must keep, and its depth estimate.

use super::lean::scan;
use super::*;
use std::borrow::Cow;

fn lean(html: &str) -> String {
    scan(html).text.into_owned()
}

#[test]
fn scripts_styles_and_comments_go_json_ld_stays() {
    let page = "<html><head><script>var a = \"<p>x</p>\";</script>\
        <SCRIPT type=\"application/LD+JSON\">{\"@type\":\"NewsArticle\"}</SCRIPT>\
        <style>p > a { color: red }</style></head><body><!-- <p>hidden</p> --><p>Hi</p></body></html>";
    let expected = "<html><head><SCRIPT type=\"application/LD+JSON\">{\"@type\":\"NewsArticle\"}</SCRIPT>\
        </head><body><p>Hi</p></body></html>";
    assert_eq!(lean(page), expected);
}

#[test]
fn nothing_to_cut_borrows_the_page() {
    let page = "<p title='a > b'>Text &amp; more</p><br/>";
    assert!(matches!(scan(page).text, Cow::Borrowed(_)));
}

#[test]
fn markup_inside_attribute_values_and_raw_text_is_not_markup() {
    let page = "<div title=\"<script>\" data-x='<!--'>A</div><textarea><script>t</script><!-- c --></textarea>\
        <title><style>s</style></title><p>B</p><script>x</script>";
    let expected = "<div title=\"<script>\" data-x='<!--'>A</div><textarea><script>t</script><!-- c --></textarea>\
        <title><style>s</style></title><p>B</p>";
    assert_eq!(lean(page), expected);
}

#[test]
fn script_ends_where_the_tokenizer_ends_it() {
    // In an escaped script, `<script>` nests up to its own end tag.
    let page = "<script><!-- document.write(\"<script>x</script>\"); --></script><p>after</p>";
    assert_eq!(lean(page), "<p>after</p>");
    let page = "<script>if (a < b) { s = '</scripty>'; }</script ><p>after</p>";
    assert_eq!(lean(page), "<p>after</p>");
}

#[test]
fn comment_forms() {
    assert_eq!(lean("a<!-->b<!--->c<!-- x --!>d<!---->e"), "abcde");
    assert_eq!(lean("a<!DOCTYPE html>b<?xml x?>c</ >d"), "a<!DOCTYPE html>b<?xml x?>c</ >d");
}

#[test]
fn unterminated_constructs_run_to_the_end() {
    assert_eq!(lean("<p>a</p><script>never closed <p>b</p>"), "<p>a</p>");
    assert_eq!(lean("<p>a</p><!-- never closed <p>b</p>"), "<p>a</p>");
    assert_eq!(lean("<p>a</p><style>never closed"), "<p>a</p>");
    assert_eq!(lean("<p>a</p><div title=\"never closed"), "<p>a</p><div title=\"never closed");
}

#[test]
fn the_parsed_text_is_the_same() {
    let page = "<html><head><title>T &amp; t</title><script>var s = '<div>';</script></head>\
        <body><div>One<!-- c -->Two</div><noscript><p>No script</p></noscript>\
        <svg><style>.a{}</style><path d=\"M0 0\"/></svg><table><script>x</script><tr><td>Cell</td></tr></table></body></html>";
    let text = |html: &str| dom_query::Document::from(html).select("body").text().to_string();
    assert_eq!(text(&lean(page)), text(page).replace(".a{}", "").replace('x', ""));
}

#[test]
fn depth_counts_open_elements() {
    assert_eq!(scan("<div><div><p><img><br></div></div><div>").depth, 2);
    assert_eq!(scan("<div title=\"a>b\"><section>").depth, 2);
    // Tags inside scripts and comments are not elements.
    assert_eq!(scan("<div><script>'<div><div><div>'</script><!-- <div><div> --></div>").depth, 1);
}

#[test]
fn depth_ignores_self_closing_only_where_the_parser_does() {
    // An HTML element's `/>` does not close it.
    assert_eq!(scan(&"<div/>".repeat(10)).depth, 10);
    // Inside SVG it does, until an HTML element breaks out of it.
    assert_eq!(scan("<svg><path/><path/><g><circle/></g>").depth, 2);
    assert_eq!(scan("<svg><path/><div/><div/><div/>").depth, 4);
    assert_eq!(scan("<svg/><div/><div/>").depth, 2);
}

#[test]
fn self_closing_nesting_is_refused() {
    let page = "<div/>".repeat(100_000);
    assert!(matches!(article(page.as_bytes(), None, None), Err(ExtractError::TooDeep(d)) if d >= 100_000));
}

#[test]
fn svg_drawings_are_emptied_unless_they_hold_html() {
    let icon = "<a href=\"/s\"><svg viewBox=\"0 0 9 9\"><title>Share</title><path d=\"M0 0L9 9\"/>\
        <svg><circle r=\"1\"/></svg><![CDATA[</svg>]]><text>a < b</text></svg>Share</a>";
    assert_eq!(lean(icon), "<a href=\"/s\"><svg viewBox=\"0 0 9 9\"></svg>Share</a>");
    // HTML inside ends the drawing where the parser ends it: all of it is kept.
    for page in
        ["<svg><path/><p>Text</p></svg>", "<svg><foreignObject><b>x</b></foreignObject></svg>", "<svg></p>x</svg>"]
    {
        assert_eq!(lean(page), page);
    }
    assert_eq!(lean("<svg/><p>x</p>"), "<svg/><p>x</p>");
    assert_eq!(lean("<svg><path/>never closed"), "<svg><path/>never closed");
}

#[test]
fn the_public_estimate_is_the_scan_s() {
    let page = "<script>'<div><div>'</script><div/><div/><svg><path/></svg>";
    assert_eq!(depth::estimate(page), 3);
    assert_eq!(depth::estimate(page), scan(page).depth);
}
