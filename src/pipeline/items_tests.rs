//! Reading by bytes against the whole document: each test reads both ways and requires the
//! same items, keys, entries and digests, then checks what the shortcut recognised.

use super::*;
use crate::domain::{Entry, EntryKey, SourceId};

const SALT: (bool, usize) = (true, 40);
const DAY: &str = "Fri, 27 Nov 2026 10:00:00 +0000";

fn item(guid: &str, title: &str) -> String {
    format!(
        "<item><guid>{guid}</guid><title>{title}</title><link>/news/{guid}</link>\
         <description>&lt;p&gt;Body of {title}.&lt;/p&gt;</description><pubDate>{DAY}</pubDate></item>\n"
    )
}

fn rss(site: &str, items: &[String]) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>T</title><link>{site}</link>\
         <lastBuildDate>{DAY}</lastBuildDate>\n{}</channel></rss>",
        items.concat()
    )
    .into_bytes()
}

struct Reader {
    source: SourceId,
    url: url::Url,
}

/// What a reading came to, comparable: each position with the key it was recognised by, or the
/// entry it was normalized to; and the marks.
type View = (Vec<(usize, Option<EntryKey>, Option<Entry>)>, Vec<Mark>);

impl Reader {
    fn new() -> Self {
        Self {
            source: SourceId::parse("src").expect("id"),
            url: url::Url::parse("https://n.example/feed").expect("url"),
        }
    }

    fn ctx(&self) -> FeedContext<'_> {
        FeedContext {
            source: &self.source,
            fetch_url: Some(&self.url),
            now: "2026-11-28T12:00:00Z".parse().expect("now"),
        }
    }

    /// Reads `body` with the memory `seen`, both ways; they must agree. Returns what the poll
    /// would remember, whether bytes were used, and the view.
    fn read(&self, body: &[u8], seen: &[SeenItem]) -> (Vec<SeenItem>, bool, View) {
        let memo: Memo<'_> = seen.iter().map(|s| (s.digest, s)).collect();
        let doc = crate::parse::prepare(body, None).expect("prepare");
        let fast = read(&doc, &self.ctx(), SALT, &memo).expect("read");
        let reference = whole(&doc, doc.skim().as_ref(), &self.ctx(), SALT, &memo).expect("whole");
        let view = view(&fast);
        assert_eq!(view, self::view(&reference), "reading by bytes must read what the whole document reads");
        (remember(&fast), fast.by_bytes, view)
    }
}

fn view(r: &Read<'_>) -> View {
    let items = (r.items.iter())
        .map(|(i, item)| match item {
            Item::Known(s) => (*i, Some(s.key), None),
            Item::Fresh(e, _) => (*i, None, Some(e.clone())),
        })
        .collect();
    (items, r.marks.clone())
}

fn remember(r: &Read<'_>) -> Vec<SeenItem> {
    (r.items.iter())
        .filter_map(|(i, item)| {
            let mark = r.marks[*i];
            let key = match item {
                Item::Known(s) => s.key,
                Item::Fresh(e, _) => e.key,
            };
            mark.digest.map(|digest| SeenItem { digest, key, url: None, text: None, guid: mark.guid })
        })
        .collect()
}

fn fresh_titles(v: &View) -> Vec<String> {
    v.0.iter().filter_map(|(_, _, e)| e.as_ref().map(|e| e.title.clone())).collect()
}

#[test]
fn unchanged_items_are_recognised_by_their_bytes_and_only_the_rest_is_parsed() {
    let r = Reader::new();
    let site = "https://n.example/";
    let (seen, by_bytes, first) = r.read(&rss(site, &[item("a", "A"), item("b", "B"), item("c", "C")]), &[]);
    assert!(!by_bytes, "nothing to recognise on a first read");
    assert_eq!(fresh_titles(&first), ["A", "B", "C"]);
    assert_eq!(seen.len(), 3);
    let next = rss(site, &[item("d", "D"), item("a", "A"), item("b", "B edited"), item("c", "C")]);
    let (seen2, by_bytes, second) = r.read(&next, &seen);
    assert!(by_bytes);
    assert_eq!(fresh_titles(&second), ["D", "B edited"]);
    let known: Vec<(usize, EntryKey)> = second.0.iter().filter_map(|(i, k, _)| k.map(|k| (*i, k))).collect();
    assert_eq!(known, [(1, seen[0].key), (3, seen[2].key)]);
    let link = second.0[0].2.as_ref().and_then(|e| e.link.clone());
    assert_eq!(link.as_deref(), Some("https://n.example/news/d"), "relative links resolve against the header's site");
    // The same document again: every item is recognised and nothing is normalized.
    let (_, by_bytes, third) = r.read(&next, &seen2);
    assert!(by_bytes && fresh_titles(&third).is_empty(), "{third:?}");
}

#[test]
fn a_changed_site_link_or_root_namespace_recognises_nothing() {
    let r = Reader::new();
    let items = [item("a", "A"), item("b", "B")];
    let (seen, ..) = r.read(&rss("https://n.example/", &items), &[]);
    let (_, _, moved) = r.read(&rss("https://elsewhere.example/", &items), &seen);
    assert_eq!(fresh_titles(&moved), ["A", "B"]);
    let link = moved.0[0].2.as_ref().and_then(|e| e.link.clone());
    assert_eq!(link.as_deref(), Some("https://elsewhere.example/news/a"));
    let renamed = String::from_utf8(rss("https://n.example/", &items))
        .expect("utf8")
        .replace("<rss version=\"2.0\">", "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">");
    let (_, _, v) = r.read(renamed.as_bytes(), &seen);
    assert_eq!(fresh_titles(&v), ["A", "B"], "items are read within their root's namespaces");
}

#[test]
fn a_new_item_sharing_a_remembered_guid_sends_the_document_to_the_whole_reading() {
    let r = Reader::new();
    let site = "https://n.example/";
    let (seen, ..) = r.read(&rss(site, &[item("a", "A"), item("b", "B")]), &[]);
    let shared = rss(site, &[item("a", "A again"), item("a", "A"), item("b", "B")]);
    let (seen2, by_bytes, v) = r.read(&shared, &seen);
    assert!(!by_bytes);
    // Both items under `a` are normalized, told apart, and neither is remembered.
    assert_eq!(fresh_titles(&v), ["A again", "A"]);
    let keys: Vec<EntryKey> = v.0.iter().filter_map(|(_, _, e)| e.as_ref().map(|e| e.key)).collect();
    assert_ne!(keys[0], keys[1]);
    assert_eq!(seen2.len(), 1, "only `b` is remembered: {seen2:?}");
}

#[test]
fn undated_items_are_never_recognised() {
    let r = Reader::new();
    let undated = "<item><guid>u</guid><title>Undated</title><link>/u</link></item>".to_owned();
    let body = rss("https://n.example/", &[undated, item("a", "A")]);
    let (seen, ..) = r.read(&body, &[]);
    assert_eq!(seen.len(), 1);
    let (_, by_bytes, v) = r.read(&body, &seen);
    assert!(by_bytes);
    assert_eq!(fresh_titles(&v), ["Undated"]);
}

#[test]
fn atom_rdf_and_json_feed_items_are_read_by_their_bytes_too() {
    let r = Reader::new();
    let entry = |id: &str| {
        format!("<entry><id>urn:{id}</id><title>{id}</title><link href=\"https://n.example/{id}\"/><updated>2026-11-27T10:00:00Z</updated></entry>")
    };
    let atom = |ids: &[&str]| {
        let entries: String = ids.iter().map(|i| entry(i)).collect();
        format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><id>urn:f</id>{entries}</feed>")
    };
    let (seen, ..) = r.read(atom(&["a", "b"]).as_bytes(), &[]);
    let (_, by_bytes, v) = r.read(atom(&["c", "a", "b"]).as_bytes(), &seen);
    assert!(by_bytes);
    assert_eq!(fresh_titles(&v), ["c"]);
    let rdf_item = |id: &str| {
        format!("<item rdf:about=\"https://n.example/{id}\"><title>{id}</title><link>https://n.example/{id}</link><dc:date>2026-11-27T10:00:00Z</dc:date></item>")
    };
    let rdf = |ids: &[&str]| {
        let items: String = ids.iter().map(|i| rdf_item(i)).collect();
        format!(
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel rdf:about=\"x\"><title>T</title><link>https://n.example/</link></channel>{items}</rdf:RDF>"
        )
    };
    // feed-rs reads no GUID from RSS 1.0 items: they all share the empty one, so they are
    // normalized every time, whichever way they are read.
    let (seen, ..) = r.read(rdf(&["a", "b"]).as_bytes(), &[]);
    assert!(seen.is_empty());
    let (_, _, v) = r.read(rdf(&["a", "b", "c"]).as_bytes(), &seen);
    assert_eq!(fresh_titles(&v), ["a", "b", "c"]);
    let json = |ids: &[&str]| {
        let items: Vec<String> = (ids.iter())
            .map(|i| format!("{{\"id\":\"{i}\",\"title\":\"{i}\",\"url\":\"https://n.example/{i}\",\"date_published\":\"2026-11-27T10:00:00Z\"}}"))
            .collect();
        format!("{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"T\",\"items\":[{}]}}", items.join(","))
    };
    let (seen, ..) = r.read(json(&["a", "b"]).as_bytes(), &[]);
    let (seen, by_bytes, v) = r.read(json(&["c", "a", "b"]).as_bytes(), &seen);
    assert!(by_bytes);
    assert_eq!(fresh_titles(&v), ["c"]);
    let (_, by_bytes, v) = r.read(json(&["d", "c", "b"]).as_bytes(), &seen);
    assert!(by_bytes);
    assert_eq!(fresh_titles(&v), ["d"]);
}
