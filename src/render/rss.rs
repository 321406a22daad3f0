//! RSS 2.0 via the rss crate, with atom:link self (and hub), content:encoded and dc:creator.

use super::{shown, Channel};
use crate::domain::Entry;
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::Extension;
use rss::{Category, Enclosure, Guid, Item, Source};

pub fn render(ch: &Channel<'_>, entries: &[Entry]) -> Vec<u8> {
    let link = |href: &str, rel: &str| Link {
        href: href.to_owned(),
        rel: rel.into(),
        mime_type: Some("application/rss+xml".into()),
        ..Link::default()
    };
    let mut links = vec![link(ch.self_url, "self")];
    links.extend(ch.hub_url.map(|u| Link { href: u.to_owned(), rel: "hub".into(), ..Link::default() }));
    links.extend(ch.first_url.map(|u| link(u, "first")));
    links.extend(ch.next_url.map(|u| link(u, "next")));
    let mut channel = rss::Channel::default();
    channel.set_title(ch.title);
    channel.set_link(ch.home_url);
    channel.set_description(ch.description);
    channel.set_generator(Some(concat!("newsriver/", env!("CARGO_PKG_VERSION")).to_owned()));
    channel.set_last_build_date(Some(ch.updated(entries).to_rfc2822()));
    channel.set_atom_ext(Some(AtomExtension { links }));
    channel.set_items(entries.iter().map(|e| item(ch, e)).collect::<Vec<_>>());
    if shown::any_image(entries) {
        channel.namespaces.insert("media".into(), shown::MEDIA_NS.into());
    }
    channel.write_to(Vec::new()).unwrap_or_default()
}

fn item(ch: &Channel<'_>, e: &Entry) -> Item {
    let mut item = Item::default();
    item.set_title(e.title.clone());
    item.set_link(e.link.clone());
    item.set_guid(Guid { value: e.key.urn(), permalink: false });
    item.set_pub_date(e.published.to_rfc2822());
    // Readers show <description> when they ignore content:encoded, so give it the fullest text.
    let lists = [super::also_reported_html(ch.related_to(e)), super::coverage_html(ch.coverage_of(e))];
    let also = Some(lists.iter().flatten().cloned().collect::<Vec<_>>().join("\n")).filter(|s| !s.is_empty());
    let with_also = |html: Option<&String>| match (html, &also) {
        (Some(h), Some(a)) => Some(format!("{h}\n{a}")),
        (h, a) => h.cloned().or_else(|| a.clone()),
    };
    let (summary, content) = (shown::summary(e).map(str::to_owned), shown::content(e).map(str::to_owned));
    if summary.is_some() && content.is_some() {
        item.set_description(summary);
        item.set_content(with_also(content.as_ref()));
    } else {
        item.set_description(with_also(summary.as_ref().or(content.as_ref())));
    }
    item.set_categories(e.categories.iter().map(|c| Category { name: c.clone(), domain: None }).collect::<Vec<_>>());
    if let Some(x) = e.enclosures.first() {
        item.set_enclosure(Enclosure {
            url: x.url.clone(),
            length: x.length.unwrap_or(0).to_string(),
            mime_type: x.mime_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
        });
    }
    let authors = shown::authors(e);
    if !authors.is_empty() {
        item.set_dublin_core_ext(DublinCoreExtension { creators: authors.to_vec(), ..DublinCoreExtension::default() });
    }
    if let Some(image) = shown::image(e) {
        item.extensions.entry("media".into()).or_default().insert("content".into(), vec![media_content(&image)]);
    }
    if let Some(s) = ch.sources.get(&e.source) {
        item.set_source(Source {
            url: s.feed_url.clone().unwrap_or_else(|| s.channel_url.clone()),
            title: Some(s.title.clone()),
        });
    }
    item
}

/// `<media:content url medium="image">` with the image's credit and caption.
fn media_content(i: &crate::domain::ArticleImage) -> Extension {
    let children = shown::media_children(i).into_iter().map(|(name, text)| {
        let local = name.trim_start_matches("media:").to_owned();
        (local, vec![Extension { name: name.into(), value: Some(text), ..Extension::default() }])
    });
    Extension {
        name: "media:content".into(),
        attrs: [("url".to_owned(), i.url.clone()), ("medium".to_owned(), "image".to_owned())].into(),
        children: children.collect(),
        ..Extension::default()
    }
}
