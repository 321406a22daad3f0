//! A channel as a page for people (`/feeds/all`, `/topics/{id}`, `/sources/{id}` without an
//! extension): each item with title, outlet, time, byline, summary and the story's other
//! outlets, paging, and links to subscribe in every feed format.

use super::{shown, Channel, Format, Related};
use crate::domain::Entry;
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// How much of an item's text a page shows.
const SUMMARY_CHARS: usize = 320;

pub fn render(ch: &Channel<'_>, entries: &[Entry]) -> Vec<u8> {
    // The feeds live beside the page: its URL plus the format's extension, without the query.
    let plain = ch.self_url.split('?').next().unwrap_or(ch.self_url);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (ch.title) }
                // Feed readers given this page find its feeds here.
                @for f in Format::ALL {
                    link rel="alternate" type=(f.content_type().split(';').next().unwrap_or_default())
                        title=(ch.title) href=(format!("{plain}{}", f.suffix()));
                }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    p.home { a href=(ch.home_url) { "newsriver" } }
                    h1 { (ch.title) }
                    p { (ch.description) }
                    (subscribe(plain))
                }
                main {
                    @if entries.is_empty() { p { "Nothing here yet." } }
                    @for e in entries { (item(ch, e)) }
                }
                (paging(ch))
            }
        }
    };
    page.into_string().into_bytes()
}

fn subscribe(plain: &str) -> Markup {
    html! {
        p.subscribe {
            "Subscribe: "
            @for (i, f) in Format::ALL.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(format!("{plain}{}", f.suffix())) rel="alternate" { (label(*f)) }
            }
        }
    }
}

fn label(f: Format) -> &'static str {
    match f {
        Format::Rss => "RSS",
        Format::Atom => "Atom",
        Format::Json => "JSON Feed",
        Format::Ninjs => "ninjs",
        Format::Html => "page",
    }
}

fn item(ch: &Channel<'_>, e: &Entry) -> Markup {
    let outlet = ch.sources.get(&e.source).map_or(e.source.as_str(), |s| s.title.as_str());
    let authors = shown::authors(e);
    html! {
        article id=(e.key.to_string()) {
            h2 {
                @match &e.link { Some(l) => a href=(l) { (e.title) }, None => (e.title) }
            }
            p.meta {
                span.outlet { (outlet) } " · " (time(e.published))
                @if (e.updated - e.published).num_minutes() >= 1 { " · updated " (time(e.updated)) }
                @if !authors.is_empty() { " · " span.byline { "By " (authors.join(", ")) } }
            }
            @if let Some(text) = excerpt(e) { p.summary { (text) } }
            (others("Also reported by", ch.related_to(e)))
            (others("More coverage", ch.coverage_of(e)))
        }
    }
}

/// The item's text, cut at a word near `SUMMARY_CHARS`.
fn excerpt(e: &Entry) -> Option<String> {
    let html = shown::summary(e).or_else(|| shown::content(e))?;
    let text = crate::text::sanitized_to_text(html);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.chars().count() <= SUMMARY_CHARS {
        return Some(text.to_owned());
    }
    let cut: String = text.chars().take(SUMMARY_CHARS).collect();
    let at_word = cut.rfind(char::is_whitespace).map_or(cut.as_str(), |i| &cut[..i]);
    Some(format!("{}…", at_word.trim_end()))
}

fn others(what: &str, related: &[Related]) -> Markup {
    html! {
        @if !related.is_empty() {
            details.others open[related.len() <= 3] {
                summary { (what) " (" (related.len()) ")" }
                ul { @for r in related {
                    li { a href=(r.link) { (r.title) } " — " (r.outlet) ", " (time(r.published)) }
                } }
            }
        }
    }
}

fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%-d %b %Y, %H:%M UTC")) } }
}

fn paging(ch: &Channel<'_>) -> Markup {
    let newer = ch.first_url.filter(|f| *f != ch.self_url);
    html! {
        nav.paging {
            @if let Some(f) = newer { a href=(f) rel="first" { "← Newest" } }
            @if let Some(n) = ch.next_url { a href=(n) rel="next" { "Older →" } }
        }
    }
}

const STYLE: &str = "
body{font:16px/1.5 Georgia,serif;margin:1rem auto;max-width:44rem;padding:0 .9rem;color:#222}
header{border-bottom:1px solid #ddd;margin-bottom:1rem}h1{margin:.2rem 0;font-family:system-ui,sans-serif}
.home{margin:0;font:14px system-ui,sans-serif}.subscribe{font:14px system-ui,sans-serif}
article{border-bottom:1px solid #eee;padding:.6rem 0}h2{font-size:1.2rem;margin:.2rem 0}
a{color:#0645ad}.meta{font:13px system-ui,sans-serif;color:#666;margin:.1rem 0}.outlet{font-weight:600;color:#333}
.others{font:14px system-ui,sans-serif}.others ul{margin:.2rem 0}
.paging{display:flex;justify-content:space-between;padding:1rem 0;font-family:system-ui,sans-serif}
";
