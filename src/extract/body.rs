//! Article body: the main-content extractor (a trafilatura port, chosen by measurement, see README) and its cleanup.

use super::Source;
use crate::normalize::html::sanitize_html;
use url::Url;

/// The body as extracted, the title the extractor saw (a last resort for `title`), and the
/// rule that found it.
#[derive(Debug)]
pub(super) struct Body {
    pub html: String,
    pub text: String,
    pub title: Option<String>,
    pub source: Source,
}

/// Extracts the main content. The extractor is third-party code over hostile input: a panic
/// inside it yields an empty body rather than taking the caller down.
pub(super) fn extract(html: &str, url: Option<&Url>) -> Body {
    // The caller asks for an article: the extractor's own page classifier (a fifth of its time)
    // is skipped and its article profile used.
    let options = rs_trafilatura::Options {
        url: url.map(Url::to_string),
        page_type: Some(rs_trafilatura::page_type::PageType::Article),
        ..rs_trafilatura::Options::default()
    };
    let run = std::panic::catch_unwind(|| rs_trafilatura::extract_with_options(html, &options));
    let Ok(Ok(result)) = run else {
        return Body { html: String::new(), text: String::new(), title: None, source: Source::Heuristic };
    };
    let text = result.content_text.trim().to_owned();
    let raw_html = result.content_html.unwrap_or_default();
    let html = if raw_html.trim().is_empty() {
        crate::normalize::html::text_to_html(&text)
    } else {
        sanitize_html(&raw_html, url)
    };
    let title = result.metadata.title.filter(|t| !t.trim().is_empty());
    Body { html, text, title, source: Source::Heuristic }
}

/// Blocks near the top that repeat what the metadata already holds: the headline, the
/// dateline, the byline, the photo credit. Only the first few blocks are looked at.
const LEAD_BLOCKS: usize = 8;

/// Drops the page furniture (`furniture`: whitespace-normalized lines) from the top of the body.
pub(super) fn strip_furniture(body: &mut Body, furniture: &[String]) {
    let is_furniture = |line: &str| {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        !line.is_empty() && furniture.contains(&line)
    };
    let lines: Vec<&str> = body.text.lines().collect();
    let lead = lines.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()).take(LEAD_BLOCKS).map(|(i, _)| i).last();
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| lead.is_none_or(|lead| *i > lead) || !is_furniture(l))
        .map(|(_, l)| *l)
        .collect();
    body.text = kept.join("\n").trim().to_owned();
    for f in furniture {
        let escaped = f.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        for tag in ["h1", "p", "figcaption", "span", "div"] {
            let element = format!("<{tag}>{escaped}</{tag}>");
            if let Some(at) = body.html.find(&element) {
                body.html.replace_range(at..at + element.len(), "");
                break;
            }
        }
    }
}

/// Words as a reader counts them: runs of letters or digits.
pub(super) fn word_count(text: &str) -> usize {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count()
}
