//! Atom 1.0 via atom_syndication.

use super::{shown, Channel};
use crate::domain::Entry;
use atom_syndication::extension::{Extension, ExtensionMap};
use atom_syndication::{Category, Content, Entry as AtomEntry, Feed, Link, Person, Source, Text};

pub fn render(ch: &Channel<'_>, entries: &[Entry]) -> Vec<u8> {
    let namespaces = if shown::any_image(entries) {
        [("media".to_owned(), shown::MEDIA_NS.to_owned())].into()
    } else {
        Default::default()
    };
    let feed = Feed {
        namespaces,
        title: Text::plain(ch.title),
        // One id for the channel, whichever page of it this is.
        id: ch.self_url.split('?').next().unwrap_or(ch.self_url).to_owned(),
        updated: ch.updated(entries).fixed_offset(),
        subtitle: Some(Text::plain(ch.description)),
        authors: vec![person(ch.title)],
        links: channel_links(ch),
        generator: Some(atom_syndication::Generator {
            value: "newsriver".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        entries: entries.iter().map(|e| entry(ch, e)).collect(),
        ..Feed::default()
    };
    // Writing into a Vec cannot fail for I/O reasons; an error would mean a bug in the writer.
    feed.write_to(Vec::new()).unwrap_or_default()
}

fn entry(ch: &Channel<'_>, e: &Entry) -> AtomEntry {
    let mut links: Vec<Link> = e.link.iter().map(|l| link(l, "alternate", Some("text/html"))).collect();
    links.extend(e.enclosures.iter().map(|x| Link {
        href: x.url.clone(),
        rel: "enclosure".into(),
        mime_type: x.mime_type.clone(),
        length: x.length.map(|n| n.to_string()),
        title: x.credit.clone(),
        ..Link::default()
    }));
    // Copies name their outlet; other outlets' own reports of the event, their title.
    let related = |href: &str, title: &str| Link {
        href: href.to_owned(),
        rel: "related".into(),
        mime_type: Some("text/html".into()),
        title: Some(title.to_owned()),
        ..Link::default()
    };
    links.extend(ch.related_to(e).iter().map(|r| related(&r.link, &r.outlet)));
    links.extend(ch.coverage_of(e).iter().map(|r| related(&r.link, &r.title)));
    AtomEntry {
        id: e.key.urn(),
        title: Text::plain(e.title.as_str()),
        updated: e.updated.fixed_offset(),
        published: Some(e.published.fixed_offset()),
        authors: shown::authors(e).iter().map(|a| person(a)).collect(),
        categories: e.categories.iter().map(|c| Category { term: c.clone(), ..Category::default() }).collect(),
        links,
        summary: shown::summary(e).map(Text::html),
        content: shown::content(e).map(|c| Content {
            value: Some(c.to_owned()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        source: ch.sources.get(&e.source).map(|s| Source {
            title: Text::plain(s.title.as_str()),
            id: s.feed_url.clone().unwrap_or_else(|| s.channel_url.clone()),
            updated: e.updated.fixed_offset(),
            links: vec![link(s.feed_url.as_deref().unwrap_or(&s.channel_url), "self", None)],
            ..Source::default()
        }),
        extensions: shown::image(e).map(|i| media(&i)).unwrap_or_default(),
        ..AtomEntry::default()
    }
}

fn channel_links(ch: &Channel<'_>) -> Vec<Link> {
    let mut links = vec![
        link(ch.self_url, "self", Some("application/atom+xml")),
        link(ch.home_url, "alternate", Some("text/html")),
    ];
    links.extend(ch.hub_url.map(|u| link(u, "hub", None)));
    links.extend(ch.first_url.map(|u| link(u, "first", Some("application/atom+xml"))));
    links.extend(ch.next_url.map(|u| link(u, "next", Some("application/atom+xml"))));
    links
}

fn person(name: &str) -> Person {
    Person { name: name.to_owned(), ..Person::default() }
}

fn link(href: &str, rel: &str, mime: Option<&str>) -> Link {
    Link { href: href.to_owned(), rel: rel.to_owned(), mime_type: mime.map(str::to_owned), ..Link::default() }
}

/// `<media:content url medium="image">` with the image's credit and caption.
fn media(i: &crate::domain::ArticleImage) -> ExtensionMap {
    let children = shown::media_children(i).into_iter().map(|(name, text)| {
        let local = name.trim_start_matches("media:").to_owned();
        (local, vec![Extension { name: name.into(), value: Some(text), ..Extension::default() }])
    });
    let content = Extension {
        name: "media:content".into(),
        attrs: [("url".to_owned(), i.url.clone()), ("medium".to_owned(), "image".to_owned())].into(),
        children: children.collect(),
        ..Extension::default()
    };
    [("media".to_owned(), [("content".to_owned(), vec![content])].into())].into()
}
