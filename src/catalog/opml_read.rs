//! OPML 1.0, 1.1 and 2.0 subscription lists read with a streaming XML reader: every `outline`
//! with an `xmlUrl` at any folder depth, in document order, with the folders it sits in.
//! Attribute names are matched without case (`xmlUrl`, `xmlurl`), the encoding comes from the
//! BOM or the XML declaration, and references are read as real exports write them.

use super::entities;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::Serialize;

/// The namespace prefix of our own attributes (`newsriver:id`), written by `export-sources`.
pub(super) const OUR_PREFIX: &str = "newsriver:";

/// Why a file could not be read as OPML.
#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("the file is empty")]
    Empty,
    #[error("not an OPML file: {0}")]
    NotOpml(String),
    #[error("not well-formed XML (line {line}): {message}")]
    Xml { line: usize, message: String },
}

/// A subscription list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Opml {
    /// `<head><title>`, when there is one.
    pub title: Option<String>,
    /// The `version` attribute of `<opml>`.
    pub version: Option<String>,
    pub feeds: Vec<OpmlFeed>,
}

/// One outline that is a subscription (or an empty outline that should have been one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpmlFeed {
    /// `text`, else `title`: what the reader showed; may be empty.
    pub title: String,
    /// `xmlUrl` as written; `None` when the outline has none.
    pub xml_url: Option<String>,
    pub html_url: Option<String>,
    /// `type`, lower-cased (`rss`, `atom`, FreshRSS's `html+xpath`, ...).
    pub kind: Option<String>,
    /// The folders around it, outermost first.
    pub folders: Vec<String>,
    /// `newsriver:id` and `newsriver:kind`, from our own export.
    pub id: Option<String>,
    pub source_kind: Option<String>,
}

/// An open `outline`: the folder it names (`None` for a feed), and whether anything is in it.
struct Open {
    folder: Option<String>,
    feed: bool,
    children: usize,
    /// The outline itself, kept in case it turns out to be an empty one.
    empty_as: OpmlFeed,
}

/// Reads an OPML document in any encoding its BOM or declaration names.
pub fn read_opml(bytes: &[u8]) -> Result<Opml, OpmlError> {
    let (utf8, _) = crate::parse::to_utf8(bytes, None);
    let text = String::from_utf8_lossy(&utf8);
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(OpmlError::Empty);
    }
    let mut state = State::default();
    let mut reader = Reader::from_str(text);
    loop {
        let event = reader.read_event().map_err(|e| xml_error(text, reader.error_position(), &e.to_string()))?;
        match event {
            Event::Start(e) => state.start(&e, false)?,
            Event::Empty(e) => state.start(&e, true)?,
            Event::End(e) => state.end(e.local_name().as_ref()),
            Event::Text(t) => state.text(&t.xml10_content()),
            Event::CData(c) => state.text(&c),
            Event::GeneralRef(r) => state.text(&entities::resolve(&r.xml10_content()).unwrap_or_default()),
            Event::Eof => break,
            _ => {}
        }
    }
    state.finish(text, reader.buffer_position())
}

#[derive(Default)]
struct State {
    opml: Opml,
    root: bool,
    depth: usize,
    outlines: Vec<Open>,
    /// Inside `<head><title>`.
    in_title: bool,
}

impl State {
    fn start(&mut self, e: &BytesStart, empty: bool) -> Result<(), OpmlError> {
        let name = e.local_name().as_ref().to_ascii_lowercase();
        if !self.root {
            if name != "opml" {
                return Err(OpmlError::NotOpml(format!("the root element is <{name}>, not <opml>")));
            }
            self.root = true;
            self.opml.version = attrs(e).into_iter().find(|(k, _)| k == "version").map(|(_, v)| v);
        }
        self.depth += usize::from(!empty);
        match name.as_str() {
            "outline" => self.outline(e, empty),
            "title" if !empty && self.outlines.is_empty() && self.opml.title.is_none() => self.in_title = true,
            _ => {}
        }
        Ok(())
    }

    fn outline(&mut self, e: &BytesStart, empty: bool) {
        if let Some(parent) = self.outlines.last_mut() {
            parent.children += 1;
        }
        let feed = self.feed_of(e);
        let is_feed = feed.xml_url.is_some();
        if is_feed {
            self.opml.feeds.push(feed.clone());
        } else if empty {
            // An outline with neither a feed nor anything inside: a link, or an empty folder.
            self.opml.feeds.push(feed.clone());
        }
        if !empty {
            let folder = (!is_feed).then(|| feed.title.clone());
            self.outlines.push(Open { folder, feed: is_feed, children: 0, empty_as: feed });
        }
    }

    fn feed_of(&self, e: &BytesStart) -> OpmlFeed {
        let mut f = OpmlFeed { folders: self.folders(), ..OpmlFeed::default() };
        let (mut text, mut title) = (None, None);
        for (key, value) in attrs(e) {
            let value = Some(value).filter(|v| !v.is_empty());
            match key.as_str() {
                "text" => text = value,
                "title" => title = value,
                "xmlurl" => f.xml_url = value,
                "htmlurl" => f.html_url = value,
                "type" => f.kind = value.map(|v| v.to_ascii_lowercase()),
                k if k.strip_prefix(OUR_PREFIX) == Some("id") => f.id = value,
                k if k.strip_prefix(OUR_PREFIX) == Some("kind") => f.source_kind = value,
                _ => {}
            }
        }
        f.title = text.or(title).unwrap_or_default();
        f
    }

    fn folders(&self) -> Vec<String> {
        self.outlines.iter().filter_map(|o| o.folder.clone()).filter(|f| !f.is_empty()).collect()
    }

    fn end(&mut self, local_name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.in_title = false;
        if !local_name.eq_ignore_ascii_case("outline") {
            return;
        }
        // `<outline text="x"></outline>` with nothing inside is an empty one, not a folder.
        if let Some(open) = self.outlines.pop().filter(|o| !o.feed && o.children == 0) {
            self.opml.feeds.push(open.empty_as);
        }
    }

    fn text(&mut self, text: &str) {
        if self.in_title {
            let title = self.opml.title.get_or_insert_with(String::new);
            title.push_str(text);
        }
    }

    fn finish(mut self, text: &str, at: u64) -> Result<Opml, OpmlError> {
        if !self.root {
            return Err(OpmlError::NotOpml("no <opml> element".into()));
        }
        if self.depth > 0 {
            return Err(xml_error(text, at, "the file ends inside an element: is it cut short?"));
        }
        self.opml.title = self.opml.title.map(|t| entities::decode(&t)).filter(|t| !t.is_empty());
        Ok(self.opml)
    }
}

/// Every attribute, the name lower-cased and the value's references read. A malformed
/// attribute is left out rather than failing the list.
fn attrs(e: &BytesStart) -> Vec<(String, String)> {
    (e.attributes().with_checks(false).flatten())
        .map(|a| (a.key.as_ref().to_ascii_lowercase(), entities::decode(&a.value)))
        .collect()
}

fn xml_error(text: &str, at: u64, message: &str) -> OpmlError {
    let at = usize::try_from(at).unwrap_or(usize::MAX).min(text.len());
    let line = text.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
    OpmlError::Xml { line, message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feeds(doc: &str) -> Vec<(String, Option<String>, Vec<String>)> {
        let opml = read_opml(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        opml.feeds.into_iter().map(|f| (f.title, f.xml_url, f.folders)).collect()
    }

    fn row(title: &str, url: Option<&str>, folders: &[&str]) -> (String, Option<String>, Vec<String>) {
        (title.into(), url.map(Into::into), folders.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn nested_folders_of_any_depth_and_empty_outlines() {
        let doc = r#"<?xml version="1.0"?>
<OPML version="2.0"><head><title>Mine &amp; yours</title></head><body>
  <outline text="Top" xmlUrl="https://a.example/rss"/>
  <outline text="News"><outline title="Only a title" XMLURL="https://b.example/rss"></outline>
    <outline text="World"><outline text="Deep"><outline text="c" xmlurl="https://c.example/rss"/></outline></outline>
    <outline text="Empty folder"></outline>
    <outline text="A link" type="link" url="https://d.example/"/>
  </outline>
  <outline text="Feed with children" xmlUrl="https://e.example/rss"><outline text="f" xmlUrl="https://f.example/rss"/></outline>
</body></OPML>"#;
        let got = feeds(doc);
        let want = vec![
            row("Top", Some("https://a.example/rss"), &[]),
            row("Only a title", Some("https://b.example/rss"), &["News"]),
            row("c", Some("https://c.example/rss"), &["News", "World", "Deep"]),
            row("Empty folder", None, &["News"]),
            row("A link", None, &["News"]),
            row("Feed with children", Some("https://e.example/rss"), &[]),
            row("f", Some("https://f.example/rss"), &[]),
        ];
        assert_eq!(got, want);
        let opml = read_opml(doc.as_bytes()).expect("opml");
        assert_eq!((opml.title.as_deref(), opml.version.as_deref()), (Some("Mine & yours"), Some("2.0")));
    }

    #[test]
    fn encodings_come_from_the_bom_or_the_declaration() {
        let body = "<opml version=\"1.0\"><body><outline text=\"Caf\u{e9} Zürich\" xmlUrl=\"https://z.example/\"/></body></opml>";
        let latin1: Vec<u8> =
            format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{body}").chars().map(|c| c as u8).collect();
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?>{body}").encode_utf16().flat_map(u16::to_le_bytes),
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(body.as_bytes());
        for bytes in [latin1, utf16, bom] {
            let opml = read_opml(&bytes).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(opml.feeds[0].title, "Café Zürich");
        }
    }

    #[test]
    fn what_is_not_opml_is_refused_with_a_reason() {
        let err = |doc: &str| read_opml(doc.as_bytes()).expect_err(doc).to_string();
        assert_eq!(err("  "), "the file is empty");
        assert_eq!(
            err("<rss version=\"2.0\"><channel/></rss>"),
            "not an OPML file: the root element is <rss>, not <opml>"
        );
        assert!(err("\n<opml><body>\n<outline text=\"a\">\n</body></opml>").starts_with("not well-formed XML (line 4)"));
        assert!(err("<opml><body><outline text=\"a\">").contains("cut short"));
        assert_eq!(err("just text"), "not an OPML file: no <opml> element");
    }
}
