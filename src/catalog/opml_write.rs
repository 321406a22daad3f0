//! The configured feeds as an OPML 2.0 subscription list, for any feed reader and for
//! `newsriver import` (which reads its `newsriver:id` back, so a round trip keeps the ids).

use super::{one_line, opml_read::OUR_PREFIX};
use crate::config::{Settings, SourceKind, SourceSettings};
use crate::domain::FeedUrl;
use chrono::{DateTime, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// The namespace of our attributes; a name, never fetched.
const NAMESPACE: &str = "urn:newsriver:opml";

/// The list, and the sources it leaves out with the reason (id, why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcesOpml {
    pub text: String,
    pub left_out: Vec<(String, &'static str)>,
}

/// Every web feed source as an `outline`: inside a folder for the first topic whose `sources`
/// names it (a source in several such topics is listed once, as readers would otherwise
/// subscribe twice), the others at the top level, both in config order. Sitemaps, listing
/// pages and `file:` sources are no feeds another reader can read: left out.
pub fn sources_opml(settings: &Settings, now: DateTime<Utc>) -> SourcesOpml {
    let mut left_out = Vec::new();
    let mut feeds: Vec<&SourceSettings> = Vec::new();
    for s in &settings.sources {
        match (&s.url, s.kind) {
            (FeedUrl::File(_), _) => left_out.push((s.id.to_string(), "a file: source is on this machine only")),
            (_, SourceKind::Sitemap) => left_out.push((s.id.to_string(), "a sitemap is not a feed")),
            (_, SourceKind::Page) => left_out.push((s.id.to_string(), "a listing page is read with selectors")),
            (FeedUrl::Http(_), SourceKind::Feed) => feeds.push(s),
        }
    }
    let mut folders: Vec<(&str, Vec<&SourceSettings>)> = Vec::new();
    let mut loose = Vec::new();
    for s in feeds {
        match settings.topics.iter().find(|t| t.sources.contains(&s.id)) {
            Some(t) => match folders.iter_mut().find(|(title, _)| *title == t.title) {
                Some((_, list)) => list.push(s),
                None => folders.push((&t.title, vec![s])),
            },
            None => loose.push(s),
        }
    }
    let text = document(&folders, &loose, now).unwrap_or_default();
    SourcesOpml { text, left_out }
}

/// Writing into memory cannot fail; the `io::Result` is the writer's signature.
fn document(
    folders: &[(&str, Vec<&SourceSettings>)],
    loose: &[&SourceSettings],
    now: DateTime<Utc>,
) -> std::io::Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let xmlns = format!("xmlns:{}", OUR_PREFIX.trim_end_matches(':'));
    w.write_event(Event::Start(
        BytesStart::new("opml").with_attributes([("version", "2.0"), (xmlns.as_str(), NAMESPACE)]),
    ))?;
    w.create_element("head").write_inner_content(|w| {
        w.create_element("title").write_text_content(BytesText::new("newsriver sources"))?;
        w.create_element("dateCreated").write_text_content(BytesText::new(&now.to_rfc2822()))?;
        Ok(())
    })?;
    w.write_event(Event::Start(BytesStart::new("body")))?;
    for (title, sources) in folders {
        let title = one_line(title);
        let folder = BytesStart::new("outline").with_attributes([("text", title.as_str()), ("title", title.as_str())]);
        w.write_event(Event::Start(folder))?;
        for s in sources {
            w.write_event(Event::Empty(outline(s)))?;
        }
        w.write_event(Event::End(BytesEnd::new("outline")))?;
    }
    for s in loose {
        w.write_event(Event::Empty(outline(s)))?;
    }
    w.write_event(Event::End(BytesEnd::new("body")))?;
    w.write_event(Event::End(BytesEnd::new("opml")))?;
    let mut text = String::from_utf8_lossy(&w.into_inner()).into_owned();
    text.push('\n');
    Ok(text)
}

fn outline(s: &SourceSettings) -> BytesStart<'static> {
    let title = one_line(&s.title);
    let id_key = format!("{OUR_PREFIX}id");
    let attrs = [
        ("type", "rss".to_owned()),
        ("text", title.clone()),
        ("title", title),
        ("xmlUrl", s.url.to_string()),
        (id_key.as_str(), s.id.to_string()),
    ];
    let mut e = BytesStart::new("outline");
    for (k, v) in &attrs {
        e.push_attribute((*k, v.as_str()));
    }
    e.into_owned()
}
