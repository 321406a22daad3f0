//! HTML cleaning: sanitized HTML for bodies (ammonia), text turned into HTML and back.

use crate::text::{collapse_ws, escape, strip_controls, without_controls};
use url::Url;

thread_local! {
    /// The allow-list, built once per thread: building it (hash sets of tags and attributes)
    /// cost more than cleaning a typical item.
    static SANITIZER: std::cell::RefCell<ammonia::Builder<'static>> = std::cell::RefCell::new({
        let mut b = ammonia::Builder::default();
        b.add_tags(["figure", "figcaption", "picture", "source"])
            .add_tag_attributes("img", ["srcset", "loading"])
            .add_tag_attributes("source", ["srcset", "type", "media"]);
        b
    });
}

/// Sanitizes untrusted HTML: no scripts, styles, event handlers or `javascript:`/`data:` URLs;
/// relative URLs are made absolute against `base` so the HTML works wherever it is republished.
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    let relative = match base {
        Some(base) if matches!(base.scheme(), "http" | "https") => ammonia::UrlRelative::RewriteWithBase(base.clone()),
        _ => ammonia::UrlRelative::Deny,
    };
    let input = without_controls(html);
    let cleaned = SANITIZER.with_borrow_mut(|b| b.url_relative(relative).clean(&input).to_string());
    match cleaned.trim() {
        t if t.len() == cleaned.len() => cleaned,
        t => t.to_owned(),
    }
}

/// Escapes plain text into an HTML paragraph, keeping the author's line breaks.
pub fn text_to_html(text: &str) -> String {
    let escaped = escape(strip_controls(text).trim());
    let paras: Vec<String> = escaped
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>")))
        .collect();
    paras.join("\n")
}

/// Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed.
pub fn html_to_text(html: &str) -> String {
    let no_tags = ammonia::Builder::empty().clean(html).to_string();
    collapse_ws(&unescape(&no_tags))
}

/// Decodes the entities html5ever's serializer emits (it escapes only these).
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::sanitized_to_text;

    #[test]
    fn sanitizer_removes_active_content() {
        let base = Url::parse("https://news.example/a/b.html").expect("url");
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:alert(1)">j</a> <a href="/rel">r</a> <img src="data:image/png;base64,AAA"><img src="pic.jpg"></p>"#;
        let clean = sanitize_html(dirty, Some(&base));
        assert!(!clean.contains("script") && !clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("javascript:") && !clean.contains("data:"), "{clean}");
        assert!(clean.contains(r#"href="https://news.example/rel""#), "{clean}");
        assert!(clean.contains(r#"src="https://news.example/a/pic.jpg""#), "{clean}");
    }

    #[test]
    fn sanitized_text_matches_the_parser() {
        let html = sanitize_html(
            "<p>Fish &amp; <b>chips</b> &lt;3 &#8212; caf&eacute; &#x263A;</p><p>next&nbsp;line</p>",
            None,
        );
        // Unlike the parser's text, paragraphs stay separate words.
        assert_eq!(sanitized_to_text(&html), "Fish & chips <3 — café ☺ next line");
        assert_eq!(sanitized_to_text("a &bogus; b & c"), "a &bogus; b & c");
    }

    #[test]
    fn text_helpers() {
        assert_eq!(html_to_text("<em>Fish</em> &amp; <b>chips</b>\n  today"), "Fish & chips today");
        assert_eq!(text_to_html("a < b\n\nnext"), "<p>a &lt; b</p>\n<p>next</p>");
    }
}
