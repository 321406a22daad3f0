//! Where each item of a feed lies in its bytes, found by a tokenizer pass and not a parse, so
//! that a poll can hand feed-rs only the items whose bytes changed since the last one.
//!
//! Only the layouts feed-rs reads items from are recognised: RSS 0.9x/2.0 (`rss` → `channel` →
//! `item`), RSS 0.90/1.0 (`rdf:RDF` → `item`), Atom (`feed` → `entry`) and JSON Feed (the
//! top-level `items` array). Anything else (another root, a second channel, a tokenizer error)
//! gives `None`, and the caller parses the whole document as before.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::ops::Range;

/// An XML feed's items as byte ranges, and the bytes every item is read within.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skim {
    /// What every item is read within: for XML the prolog through the root's start tag
    /// (declaration, DOCTYPE and its entities, the namespaces and `xml:base` items inherit) and
    /// the item holder's start tag when there is one (RSS 2.0's `channel`); for JSON everything
    /// around the `items` array. An item's bytes mean the same only within the same context.
    pub context: Vec<Range<usize>>,
    /// Each item (element, start tag through end tag; or array value) in document order.
    pub items: Vec<Range<usize>>,
    /// A JSON Feed: items are array values, separated by commas.
    pub json: bool,
}

impl Skim {
    /// `doc` without the items `drop` names: what a parse of the remaining items reads.
    pub fn without(&self, doc: &[u8], mut drop: impl FnMut(usize) -> bool) -> Vec<u8> {
        if !self.json {
            return without(doc, &self.items, drop);
        }
        // An array keeps its commas between values only: the kept values are joined anew.
        let (Some(first), Some(last)) = (self.items.first(), self.items.last()) else { return doc.to_vec() };
        let mut out = Vec::with_capacity(doc.len());
        out.extend_from_slice(doc.get(..first.start).unwrap_or_default());
        let kept = self.items.iter().enumerate().filter(|(i, _)| !drop(*i));
        for (n, (_, r)) in kept.enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(doc.get(r.clone()).unwrap_or_default());
        }
        out.extend_from_slice(doc.get(last.end..).unwrap_or_default());
        out
    }
}

/// The layout of a feed by its root element: where its items sit and what they are called.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The depth of item elements (the root is 1).
    depth: usize,
    item: &'static str,
    /// The element between the root and the items (RSS 2.0's `channel`).
    holder: Option<&'static str>,
}

fn layout(root: &BytesStart<'_>) -> Option<Layout> {
    match (root.name().as_ref(), root.local_name().as_ref()) {
        ("rss", _) => Some(Layout { depth: 3, item: "item", holder: Some("channel") }),
        (_, "RDF") => Some(Layout { depth: 2, item: "item", holder: None }),
        ("feed", _) => Some(Layout { depth: 2, item: "entry", holder: None }),
        _ => None,
    }
}

/// Where the items of `doc` (UTF-8, starting at its first `<` or `{`) are; `None` when it is not
/// a feed of a known layout, or not one the tokenizer reads to its end.
pub fn skim(doc: &[u8]) -> Option<Skim> {
    match doc.first()? {
        b'<' => xml(doc),
        b'{' => json(doc),
        _ => None,
    }
}

/// A JSON Feed's items: the values of its top-level `items` array, as serde_json reads them
/// (without building them), at their places in `doc`.
fn json(doc: &[u8]) -> Option<Skim> {
    #[derive(serde::Deserialize)]
    struct Top<'a> {
        #[serde(borrow)]
        items: Vec<&'a serde_json::value::RawValue>,
    }
    let text = std::str::from_utf8(doc).ok()?;
    let top: Top<'_> = serde_json::from_str(text).ok()?;
    let at = |raw: &serde_json::value::RawValue| {
        let start = (raw.get().as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        Some(start..start + raw.get().len())
    };
    let items: Vec<Range<usize>> = top.items.iter().map(|r| at(r)).collect::<Option<_>>()?;
    let (start, end) = (items.first().map_or(0, |r| r.start), items.last().map_or(0, |r| r.end));
    Some(Skim { context: vec![0..start, end..doc.len()], items, json: true })
}

fn xml(doc: &[u8]) -> Option<Skim> {
    let mut r = Reader::from_reader(doc);
    let mut walk = Walk::default();
    loop {
        let before = usize::try_from(r.buffer_position()).ok()?;
        let event = r.read_event().ok()?;
        let at = before..usize::try_from(r.buffer_position()).ok()?;
        match event {
            Event::Start(e) => walk.start(&e, at)?,
            Event::End(_) => walk.end(at.end)?,
            Event::Empty(e) => walk.empty(&e, at)?,
            Event::Eof => break,
            _ => {}
        }
    }
    (walk.depth == 0 && walk.open.is_none() && walk.layout.is_some()).then_some(walk.skim)
}

/// The tokenizer pass's state.
#[derive(Debug, Default)]
struct Walk {
    depth: usize,
    layout: Option<Layout>,
    /// Whether the item holder (RSS 2.0's channel) is open, and whether one was seen.
    inside: bool,
    held: bool,
    /// Where the open item started; its end tag closes it at the same depth.
    open: Option<usize>,
    skim: Skim,
}

impl Walk {
    fn start(&mut self, e: &BytesStart<'_>, at: Range<usize>) -> Option<()> {
        self.depth += 1;
        if self.depth == 1 {
            // A second root is not a feed feed-rs reads.
            (self.layout.is_none()).then_some(())?;
            self.layout = Some(layout(e)?);
            self.skim.context.push(0..at.end);
            return Some(());
        }
        let l = self.layout?;
        if self.is_item(l, self.depth, e) {
            self.open = Some(at.start);
        } else if self.open.is_none() && self.depth == 2 && l.holder == Some(e.name().as_ref()) {
            // feed-rs reads the first channel only: with a second, which items it reads is unsure.
            (!self.held).then_some(())?;
            (self.held, self.inside) = (true, true);
            self.skim.context.push(at);
        }
        Some(())
    }

    fn end(&mut self, at: usize) -> Option<()> {
        if let (Some(start), Some(l)) = (self.open, self.layout) {
            if self.depth == l.depth {
                self.skim.items.push(start..at);
                self.open = None;
            }
        }
        self.inside &= self.depth != 2;
        self.depth = self.depth.checked_sub(1)?;
        Some(())
    }

    fn empty(&mut self, e: &BytesStart<'_>, at: Range<usize>) -> Option<()> {
        if self.is_item(self.layout?, self.depth + 1, e) {
            self.skim.items.push(at);
        }
        Some(())
    }

    /// Whether an element opening at `depth` is one of the feed's items.
    fn is_item(&self, l: Layout, depth: usize, e: &BytesStart<'_>) -> bool {
        self.open.is_none() && depth == l.depth && (self.inside || l.holder.is_none()) && e.name().as_ref() == l.item
    }
}

fn without(doc: &[u8], items: &[Range<usize>], mut drop: impl FnMut(usize) -> bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.len());
    let mut at = 0;
    for (i, r) in items.iter().enumerate() {
        if drop(i) {
            out.extend_from_slice(doc.get(at..r.start).unwrap_or_default());
            at = r.end;
        }
    }
    out.extend_from_slice(doc.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(doc: &'a str, s: &Skim) -> Vec<&'a str> {
        s.items.iter().map(|r| &doc[r.clone()]).collect()
    }

    #[test]
    fn rss_items_are_found_inside_the_channel_only() {
        let doc = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
            <channel><title>T</title><item><title>A</title><description><![CDATA[<item>not one</item>]]></description></item>\
            <!-- <item>nor this</item> --><item><title>B</title><item>nested</item></item><item/></channel>\
            <item><title>outside</title></item><extra><item>elsewhere</item></extra></rss>";
        let s = skim(doc.as_bytes()).expect("skim");
        assert_eq!(
            texts(doc, &s),
            [
                "<item><title>A</title><description><![CDATA[<item>not one</item>]]></description></item>",
                "<item><title>B</title><item>nested</item></item>",
                "<item/>"
            ]
        );
        let context: Vec<&str> = s.context.iter().map(|r| &doc[r.clone()]).collect();
        assert_eq!(
            context,
            [
                "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">",
                "<channel>"
            ]
        );
    }

    #[test]
    fn rdf_and_atom_items_sit_under_the_root() {
        let rdf =
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">\
            <channel rdf:about=\"x\"><items><rdf:Seq><rdf:li resource=\"a\"/></rdf:Seq></items></channel>\
            <item rdf:about=\"a\"><title>A</title></item></rdf:RDF>";
        let s = skim(rdf.as_bytes()).expect("rdf");
        assert_eq!(texts(rdf, &s), ["<item rdf:about=\"a\"><title>A</title></item>"]);
        let atom = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><entry><id>1</id></entry>\n\
            <entry><id>2</id><source><entry>no</entry></source></entry></feed>";
        let s = skim(atom.as_bytes()).expect("atom");
        assert_eq!(
            texts(atom, &s),
            ["<entry><id>1</id></entry>", "<entry><id>2</id><source><entry>no</entry></source></entry>"]
        );
    }

    #[test]
    fn other_documents_are_left_to_the_parser() {
        for doc in [
            "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": {}}",
            "{\"items\": [1, 2], \"items\": []}",
            "{\"items\": [1, 2",
            "[{\"items\": []}]",
            "<html><body><item>x</item></body></html>",
            "<rss><channel><item><title>unclosed</channel></rss>",
            "<rss><channel><item>x</item></channel><channel><item>y</item></channel></rss>",
            "<rss><channel><item>x</item></channel>",
            "<rss><channel><item>x</item></channel></rss><rss><channel><item>y</item></channel></rss>",
            "",
        ] {
            assert_eq!(skim(doc.as_bytes()), None, "{doc}");
        }
    }

    #[test]
    fn without_drops_exactly_the_named_items() {
        let doc = "<rss><channel><t/><item>a</item>\n<item>b</item>\n<item>c</item></channel></rss>";
        let s = skim(doc.as_bytes()).expect("skim");
        let out = s.without(doc.as_bytes(), |i| i != 1);
        assert_eq!(String::from_utf8(out).expect("utf8"), "<rss><channel><t/>\n<item>b</item>\n</channel></rss>");
        assert_eq!(s.without(doc.as_bytes(), |_| false), doc.as_bytes());
    }

    #[test]
    fn json_feed_items_are_the_values_of_the_top_level_items_array() {
        let doc = "{\"title\": \"T\", \"items\": [ {\"id\": \"a\", \"x\": \"]}, {\\\"\"},\n {\"id\": \"b\"} ,{\"id\": \"c\"}],\n \"home_page_url\": \"https://n.example/\"}";
        let s = skim(doc.as_bytes()).expect("skim");
        assert_eq!(texts(doc, &s), ["{\"id\": \"a\", \"x\": \"]}, {\\\"\"}", "{\"id\": \"b\"}", "{\"id\": \"c\"}"]);
        let context: Vec<&str> = s.context.iter().map(|r| &doc[r.clone()]).collect();
        assert_eq!(context, ["{\"title\": \"T\", \"items\": [ ", "],\n \"home_page_url\": \"https://n.example/\"}"]);
        let kept = String::from_utf8(s.without(doc.as_bytes(), |i| i != 1)).expect("utf8");
        assert_eq!(
            kept,
            "{\"title\": \"T\", \"items\": [ {\"id\": \"b\"}],\n \"home_page_url\": \"https://n.example/\"}"
        );
        let none = String::from_utf8(s.without(doc.as_bytes(), |_| true)).expect("utf8");
        assert!(serde_json::from_str::<serde_json::Value>(&none).is_ok(), "{none}");
        let both = String::from_utf8(s.without(doc.as_bytes(), |i| i == 1)).expect("utf8");
        let v: serde_json::Value = serde_json::from_str(&both).expect("json");
        assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
    }
}
