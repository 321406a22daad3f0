//! JSON Feed 1.1, with a `_newsriver` extension naming the source newsroom.

use super::{shown, Channel};
use crate::domain::Entry;
use serde_json::{json, Map, Value};

pub fn render(ch: &Channel<'_>, entries: &[Entry]) -> Vec<u8> {
    let mut doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": ch.title,
        "description": ch.description,
        "home_page_url": ch.home_url,
        "feed_url": ch.self_url,
        "items": entries.iter().map(|e| item(ch, e)).collect::<Vec<_>>(),
    });
    if let (Some(next), Some(obj)) = (ch.next_url, doc.as_object_mut()) {
        obj.insert("next_url".into(), json!(next));
    }
    if let (Some(hub), Some(obj)) = (ch.hub_url, doc.as_object_mut()) {
        obj.insert("hubs".into(), json!([{ "type": "WebSub", "url": hub }]));
    }
    serde_json::to_vec_pretty(&doc).unwrap_or_default()
}

fn item(ch: &Channel<'_>, e: &Entry) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(e.key.urn()));
    if let Some(l) = &e.link {
        m.insert("url".into(), json!(l));
    }
    m.insert("title".into(), json!(e.title));
    let (summary, content) = (shown::summary(e), shown::content(e));
    m.insert("content_html".into(), json!(content.or(summary).unwrap_or("")));
    if let (Some(s), Some(_)) = (summary, content) {
        m.insert("summary".into(), json!(crate::text::sanitized_to_text(s)));
    }
    m.insert("date_published".into(), json!(e.published.to_rfc3339()));
    m.insert("date_modified".into(), json!(e.updated.to_rfc3339()));
    let authors = shown::authors(e);
    if !authors.is_empty() {
        m.insert("authors".into(), json!(authors.iter().map(|a| json!({ "name": a })).collect::<Vec<_>>()));
    }
    let image = shown::image(e);
    if let Some(i) = &image {
        m.insert("image".into(), json!(i.url));
    }
    if let Some(lang) = shown::language(e) {
        m.insert("language".into(), json!(lang));
    }
    if !e.categories.is_empty() {
        m.insert("tags".into(), json!(e.categories));
    }
    if !e.enclosures.is_empty() {
        let att: Vec<Value> = e.enclosures.iter().map(attachment).collect();
        m.insert("attachments".into(), json!(att));
    }
    let also: Vec<Value> = ch
        .related_to(e)
        .iter()
        .map(|r| json!({ "source": r.source.as_str(), "outlet": r.outlet, "title": r.title, "url": r.link }))
        .collect();
    if let Some(s) = ch.sources.get(&e.source) {
        let source =
            json!({ "id": e.source.as_str(), "title": s.title, "feed_url": s.feed_url, "channel_url": s.channel_url });
        let story = e.story.map(|k| k.to_string());
        let mut ours = json!({ "source": source, "story": story, "also_reported_by": also });
        let coverage: Vec<Value> = ch
            .coverage_of(e)
            .iter()
            .map(|r| {
                let published = r.published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                json!({ "source": r.source.as_str(), "outlet": r.outlet, "title": r.title, "link": r.link, "published": published })
            })
            .collect();
        if let (Some(place), Some(obj)) = (&e.event, ours.as_object_mut()) {
            obj.insert("event".into(), json!(place.id.to_string()));
            obj.insert("coverage".into(), json!(coverage));
        }
        if let (Some(i), Some(obj)) = (&image, ours.as_object_mut()) {
            obj.insert("image".into(), json!({ "url": i.url, "caption": i.caption, "credit": i.credit }));
        }
        if let (Some(name), Some(obj)) = (shown::site_name(e), ours.as_object_mut()) {
            obj.insert("site_name".into(), json!(name));
        }
        m.insert("_newsriver".into(), ours);
    }
    Value::Object(m)
}

fn attachment(x: &crate::domain::Enclosure) -> Value {
    let mut a = json!({ "url": x.url, "mime_type": x.mime_type.as_deref().unwrap_or("application/octet-stream") });
    if let (Some(n), Some(obj)) = (x.length, a.as_object_mut()) {
        obj.insert("size_in_bytes".into(), json!(n));
    }
    a
}
