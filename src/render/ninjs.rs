//! IPTC ninjs 3.1 ("News in JSON"), the format news agencies exchange items in: a channel is a
//! JSON document whose `items` are ninjs objects, with the channel's paging links beside them.

use super::{shown, Channel, Related};
use crate::domain::{Entry, TopicId};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

/// The schema every item follows, named in the document so a partner can validate it.
pub const SCHEMA: &str = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#";

pub fn render(ch: &Channel<'_>, entries: &[Entry]) -> Vec<u8> {
    let mut doc = Map::new();
    doc.insert("ninjs".into(), json!({ "version": "3.1", "schema": SCHEMA }));
    doc.insert("title".into(), json!(ch.title));
    doc.insert("description".into(), json!(ch.description));
    doc.insert("home".into(), json!(ch.home_url));
    doc.insert("self".into(), json!(ch.self_url));
    // The same paging JSON Feed's `next_url` and Atom's RFC 5005 links give.
    if let Some(first) = ch.first_url {
        doc.insert("first".into(), json!(first));
    }
    if let Some(next) = ch.next_url {
        doc.insert("next".into(), json!(next));
    }
    doc.insert("items".into(), json!(entries.iter().map(|e| item(ch, e)).collect::<Vec<_>>()));
    serde_json::to_vec_pretty(&Value::Object(doc)).unwrap_or_default()
}

/// One entry as a ninjs news object of type `text`.
pub fn item(ch: &Channel<'_>, e: &Entry) -> Value {
    let mut m = Map::new();
    m.insert("uri".into(), json!(e.key.urn()));
    m.insert("type".into(), json!("text"));
    m.insert("firstCreated".into(), json!(when(e.published)));
    m.insert("versionCreated".into(), json!(when(e.updated)));
    m.insert("headlines".into(), json!([{ "role": "main", "value": e.title }]));
    let (summary, content) = (shown::summary(e), shown::content(e));
    if let Some(html) = content.or(summary) {
        m.insert("bodies".into(), bodies(html));
    }
    // Like JSON Feed's `summary`: only when it is not the body already.
    if let (Some(s), Some(_)) = (summary, content) {
        let text = crate::text::sanitized_to_text(s);
        m.insert("descriptions".into(), json!([{ "role": "summary", "contentType": "text/plain", "value": text }]));
    }
    let by = byline(shown::authors(e));
    if !by.is_empty() {
        m.insert("by".into(), json!(by));
    }
    if let Some(lang) = shown::language(e) {
        m.insert("language".into(), json!(lang));
    }
    insert_nonempty(&mut m, "subjects", subjects(ch, e));
    insert_nonempty(&mut m, "infoSources", info_sources(ch, e));
    // The article's web page is the item's HTML rendition.
    if let Some(link) = &e.link {
        m.insert("renditions".into(), json!([{ "name": "web", "href": link, "contentType": "text/html" }]));
    }
    insert_nonempty(&mut m, "associations", associations(ch, e));
    Value::Object(m)
}

fn insert_nonempty(m: &mut Map<String, Value>, key: &str, values: Vec<Value>) {
    if !values.is_empty() {
        m.insert(key.into(), Value::Array(values));
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The body as sanitized HTML and as plain text: the plain one is `main`, as in IPTC's examples,
/// so a client that reads only the first body needs no HTML parser.
fn bodies(html: &str) -> Value {
    json!([
        { "role": "main", "contentType": "text/plain", "value": crate::text::sanitized_to_text(html) },
        { "role": "richtext", "contentType": "text/html", "value": html },
    ])
}

/// ninjs `by` is one string, as a byline reads: "A", "A and B", "A, B and C".
pub fn byline(authors: &[String]) -> String {
    match authors {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The item's topics the channel names (with their channel as URI), then its feed's own
/// categories.
fn subjects(ch: &Channel<'_>, e: &Entry) -> Vec<Value> {
    let mut seen: Vec<&TopicId> = Vec::new();
    let mut out = Vec::new();
    for t in e.own_topics() {
        // A topic can be both the item's own and its story's.
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        // Topics this channel may not name (private ones, or gone from the config) are left out.
        let Some(name) = ch.topics.get(t) else { continue };
        let uri = format!("{}topics/{t}.ninjs", ch.home_url);
        out.push(json!({ "name": name, "literal": t.as_str(), "uri": uri, "creator": "newsriver" }));
    }
    out.extend(e.categories.iter().map(|c| json!({ "name": c })));
    out
}

/// The outlet that published the item, and newsriver, which aggregated it.
fn info_sources(ch: &Channel<'_>, e: &Entry) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(s) = ch.sources.get(&e.source) {
        let uri = s.feed_url.as_deref().unwrap_or(&s.channel_url);
        let name = shown::site_name(e).unwrap_or(&s.title);
        out.push(json!({ "name": name, "role": "publisher", "uri": uri, "literal": e.source.as_str() }));
    }
    out.push(json!({ "name": "newsriver", "role": "aggregator", "uri": ch.home_url }));
    out
}

/// The lead picture with its credit, then the story's other outlets and the event's.
fn associations(ch: &Channel<'_>, e: &Entry) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(i) = shown::image(e) {
        let mut pic = Map::new();
        pic.insert("name".into(), json!("mainpic"));
        pic.insert("uri".into(), json!(i.url));
        pic.insert("type".into(), json!("picture"));
        pic.insert("renditions".into(), json!([{ "name": "main", "href": i.url }]));
        if let Some(c) = &i.caption {
            pic.insert("descriptions".into(), json!([{ "role": "caption", "contentType": "text/plain", "value": c }]));
        }
        // A credit line names who made or supplied the picture: ninjs's `by`.
        if let Some(c) = &i.credit {
            pic.insert("by".into(), json!(c));
        }
        out.push(Value::Object(pic));
    }
    out.extend(ch.related_to(e).iter().enumerate().map(|(n, r)| other(r, "related", n)));
    out.extend(ch.coverage_of(e).iter().enumerate().map(|(n, r)| other(r, "coverage", n)));
    out
}

/// Another outlet's report, by reference: its page is all newsriver may pass on.
fn other(r: &Related, rel: &str, n: usize) -> Value {
    json!({
        "name": format!("{rel}{}", n + 1),
        "rel": rel,
        "uri": r.link,
        "type": "text",
        "representationType": "partial",
        "firstCreated": when(r.published),
        "headlines": [{ "role": "main", "value": r.title }],
        "infoSources": [{ "name": r.outlet, "role": "publisher", "literal": r.source.as_str() }],
    })
}
