//! A discovery as people read it: the list as TOML comments, then `[[source]]` tables, so the
//! whole printout can be pasted into a config file (pure).

use super::{Discovery, Format, Found, Via};
use crate::config::tables::SourceTable;
use crate::config::SourceKind;
use std::fmt::Write as _;

/// Slug length before a `-2` suffix; ids may be 64 characters.
const MAX_SLUG: usize = 48;

/// Characters left out of slugs: apostrophes, straight and typographic.
const APOSTROPHES: [char; 3] = ['\'', '\u{2019}', '\u{2bc}'];

/// Longest reason printed for a rejected address.
const MAX_REASON: usize = 200;

/// Letters written with marks, as the plain letters a slug keeps of them.
const FOLDS: [(&str, &str); 19] = [
    ("àáâãäåāăą", "a"),
    ("çćčĉċ", "c"),
    ("ďđð", "d"),
    ("èéêëēėęěĕ", "e"),
    ("ğĝġģ", "g"),
    ("ìíîïīįı", "i"),
    ("łľĺļ", "l"),
    ("ñńňņ", "n"),
    ("òóôõöøōő", "o"),
    ("ŕřŗ", "r"),
    ("śšşŝș", "s"),
    ("ťţț", "t"),
    ("ùúûüūůűų", "u"),
    ("ýÿ", "y"),
    ("źžż", "z"),
    ("ß", "ss"),
    ("æ", "ae"),
    ("œ", "oe"),
    ("þ", "th"),
];

/// `text` as a source id: lower-case ASCII letters and digits, runs of anything else one `-`.
/// Empty when nothing in it is a letter or digit it can keep.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    // An apostrophe joins a word (`Tom's` is `toms`), it does not split it.
    for c in text.chars().filter(|c| !APOSTROPHES.contains(c)).flat_map(char::to_lowercase) {
        let folded = FOLDS.iter().find(|(from, _)| from.contains(c)).map(|(_, to)| *to);
        let mut plain = [0; 4];
        for p in folded.unwrap_or_else(|| c.encode_utf8(&mut plain)).chars() {
            if p.is_ascii_alphanumeric() {
                out.push(p);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        if out.len() >= MAX_SLUG {
            out.truncate(MAX_SLUG);
            break;
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Gives every find an id: its title's slug (a sitemap's host and path), else its host's;
/// repeats get `-2`, `-3`.
pub fn assign_ids(found: &mut [Found]) {
    let mut used: Vec<String> = Vec::new();
    for f in found.iter_mut() {
        let host = f.url.host_str().unwrap_or_default();
        let named = match f.kind {
            SourceKind::Sitemap => {
                slug(&format!("{host} {}", f.url.path().trim_end_matches(".gz").trim_end_matches(".xml")))
            }
            SourceKind::Feed | SourceKind::Page => slug(&f.title),
        };
        let base = [named, slug(host)].into_iter().find(|s| !s.is_empty()).unwrap_or_else(|| "source".into());
        let id = (1..).map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") }).find(|id| !used.contains(id));
        f.id = id.unwrap_or(base);
        used.push(f.id.clone());
    }
}

/// The finds as `[[source]]` tables (`kind` written for sitemaps only: feed is the default).
pub fn source_tables(found: &[Found]) -> String {
    let tables: Vec<SourceTable<'_>> =
        found.iter().map(|f| SourceTable::new(&f.id, &f.title, f.url.as_str(), f.kind)).collect();
    crate::config::tables::source_tables(&tables)
}

/// The list as TOML comment lines, then the tables.
pub fn summary(d: &Discovery) -> String {
    let mut out = String::new();
    let page = d.page.as_str();
    match (d.page_is_feed, d.found.len()) {
        (true, _) => _ = writeln!(out, "# {page} is itself a feed or a sitemap:"),
        (false, 0) => _ = writeln!(out, "# {page} advertises no feed or sitemap, and none answers at the usual paths"),
        (false, n) => _ = writeln!(out, "# {page} leads to {n} feed(s) and sitemap(s):"),
    }
    for f in &d.found {
        let (format, noun) = describe(f.format);
        let title = one_line(&f.title, MAX_REASON);
        let noun = if f.items == 1 { noun.trim_end_matches('s') } else { noun };
        let _ = writeln!(out, "#   {format:<13} {title:?}, {} {noun}: {} ({})", f.items, f.url, via(f.via));
    }
    if !d.rejected.is_empty() {
        let _ = writeln!(out, "# advertised but not usable:");
    }
    for r in &d.rejected {
        let _ = writeln!(out, "#   {} ({}): {}", r.url, via(r.via), one_line(&r.reason, MAX_REASON));
    }
    let tables = source_tables(&d.found);
    if !tables.is_empty() {
        let _ = write!(out, "\n{tables}");
    }
    out
}

fn describe(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::Rss => ("RSS", "items"),
        Format::Atom => ("Atom", "items"),
        Format::JsonFeed => ("JSON Feed", "items"),
        Format::Sitemap => ("sitemap", "URLs"),
        Format::SitemapIndex => ("sitemap index", "sitemaps"),
    }
}

fn via(v: Via) -> &'static str {
    match v {
        Via::Page => "the URL itself",
        Via::Alternate => "linked from the page",
        Via::Robots => "listed in robots.txt",
        Via::CommonPath => "at a usual path",
    }
}

/// Text a comment line can hold: TOML refuses control characters there, and a line must end.
fn one_line(s: &str, max: usize) -> String {
    super::one_line(&s.chars().take(max).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn found(title: &str, url: &str, kind: SourceKind) -> Found {
        let format = if kind == SourceKind::Sitemap { Format::Sitemap } else { Format::Rss };
        let url = Url::parse(url).expect("test URL");
        Found {
            id: String::new(),
            title: title.into(),
            url,
            kind,
            format,
            items: 1,
            via: Via::Alternate,
            served_from: None,
        }
    }

    #[test]
    fn slugs_are_readable_ids() {
        assert_eq!(slug("The Kestrel Valley Courier"), "the-kestrel-valley-courier");
        assert_eq!(slug("  Café Müller — Nachrichten!  "), "cafe-muller-nachrichten");
        assert_eq!(slug("Straße & Œuvre"), "strasse-oeuvre");
        assert_eq!(slug("新闻"), "");
        assert_eq!(slug("-- 2026 --"), "2026");
        assert_eq!(slug("The Mayor's Office \u{2013} What\u{2019}s on"), "the-mayors-office-whats-on");
        let long = slug(&"word ".repeat(40));
        assert!(long.len() <= MAX_SLUG && !long.ends_with('-'), "{long}");
        for s in ["The Kestrel Valley Courier", "新闻 news", &"x".repeat(200)] {
            let id = slug(s);
            assert!(crate::domain::SourceId::parse(&id).is_ok(), "{s:?} gave {id:?}");
        }
    }

    #[test]
    fn ids_are_unique_and_fall_back_to_the_host() {
        let mut all = [
            found("City News", "https://www.city.example/feed", SourceKind::Feed),
            found("City News", "https://www.city.example/atom", SourceKind::Feed),
            found("新闻", "https://www.city.example/zh", SourceKind::Feed),
            found("x", "https://www.city.example/news-sitemap.xml", SourceKind::Sitemap),
        ];
        assign_ids(&mut all);
        let ids: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["city-news", "city-news-2", "www-city-example", "www-city-example-news-sitemap"]);
    }

    #[test]
    fn the_printout_is_a_config_fragment() {
        let mut all = [
            found("Quotes \" and \\ back\nslash", "https://a.example/feed", SourceKind::Feed),
            found("a.example/sitemap.xml", "https://a.example/sitemap.xml", SourceKind::Sitemap),
        ];
        assign_ids(&mut all);
        let d = Discovery {
            page: Url::parse("https://a.example/").expect("URL"),
            page_is_feed: false,
            found: all.to_vec(),
            rejected: vec![super::super::Rejected {
                url: Url::parse("https://a.example/x.rss").expect("URL"),
                via: Via::Alternate,
                reason: "HTTP 404\nand \u{7} more".into(),
            }],
        };
        let text = summary(&d);
        let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let sources = doc["source"].as_array().expect("[[source]] tables");
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[0]["title"].as_str(), Some("Quotes \" and \\ back\nslash"));
        assert!(sources[0].get("kind").is_none());
        assert_eq!(sources[1]["kind"].as_str(), Some("sitemap"));
        assert!(text.contains("#   https://a.example/x.rss (linked from the page): HTTP 404 and more\n"), "{text}");
        assert_eq!(source_tables(&[]), "");
    }
}
