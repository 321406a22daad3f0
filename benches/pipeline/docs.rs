//! Synthetic newsroom documents shaped like `../shared/bench/gen_feeds.py`'s, in RSS 2.0, Atom
//! 1.0 and JSON Feed 1.1.

use super::common::Rng;
use chrono::{DateTime, Duration, Utc};
use std::fmt::Write as _;

const WORDS: &[&str] = &[
    "government",
    "minister",
    "council",
    "budget",
    "election",
    "court",
    "police",
    "storm",
    "market",
    "shares",
    "energy",
    "climate",
    "health",
    "hospital",
    "school",
    "university",
    "city",
    "region",
    "county",
    "river",
    "bridge",
    "railway",
    "airport",
    "port",
    "team",
    "match",
    "final",
    "league",
    "coach",
    "player",
    "season",
    "company",
    "startup",
    "investors",
    "profits",
    "workers",
    "strike",
    "union",
    "protest",
    "report",
    "study",
    "scientists",
    "researchers",
    "space",
    "mission",
    "launch",
    "satellite",
    "museum",
    "festival",
    "film",
    "music",
    "album",
    "artist",
    "award",
    "ceremony",
    "summit",
    "talks",
    "treaty",
    "border",
    "security",
    "army",
    "ceasefire",
    "refugees",
    "aid",
    "drought",
    "flood",
    "wildfire",
    "earthquake",
    "vaccine",
    "virus",
    "data",
    "privacy",
    "software",
    "chip",
    "phone",
    "network",
    "outage",
    "price",
    "inflation",
    "rates",
    "bank",
    "loan",
    "housing",
    "rent",
    "farmers",
    "harvest",
    "exports",
    "imports",
    "tariff",
    "deal",
    "merger",
    "lawsuit",
    "judge",
    "verdict",
    "appeal",
    "senate",
    "parliament",
    "mayor",
    "governor",
    "president",
    "opposition",
    "poll",
];
const TOPICS: &[&str] = &["politics", "business", "technology", "sports", "world", "science", "health", "culture"];
/// One synthetic item, as `gen_feeds.py` makes them.
/// `n` words of the synthetic newsroom vocabulary.
fn words(rng: &mut Rng, n: usize) -> Vec<&'static str> {
    (0..n).map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize]).collect()
}

pub struct Item {
    title: String,
    pub link: String,
    pub guid: String,
    published: DateTime<Utc>,
    author: String,
    category: &'static str,
    body_html: String,
}

pub fn items(feed: u64, n: usize, start: DateTime<Utc>) -> Vec<Item> {
    let mut rng = Rng(feed);
    (0..n)
        .rev() // newest first
        .map(|i| {
            let title_words = words(&mut rng, 8);
            let mut title = title_words.join(" ");
            title[..1].make_ascii_uppercase();
            let slug = title_words[..5].join("-");
            let mut body = words(&mut rng, 80).join(" ");
            body[..1].make_ascii_uppercase();
            Item {
                title,
                link: format!("https://www.outlet{feed}.example/news/0/{slug}-{}", rng.next() % 100_000_000),
                guid: format!("urn:feed{feed}:item{i}:{}", rng.next() % 10_000_000_000),
                published: start + Duration::minutes(30 * i as i64),
                author: format!("Desk {}", rng.next() % 40),
                category: TOPICS[(rng.next() % TOPICS.len() as u64) as usize],
                body_html: format!("<p>{body}.</p>"),
            }
        })
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn rss(feed: u64, items: &[Item]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n\
         <title>Outlet {feed} News</title>\n<link>https://www.outlet{feed}.example/</link>\n\
         <atom:link href=\"http://127.0.0.1:18080/feed-{feed:06}.xml\" rel=\"self\" type=\"application/rss+xml\"/>\n\
         <description>Synthetic newsroom feed {feed}</description>\n<language>en</language>\n"
    );
    for it in items {
        let _ = write!(
            out,
            "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n<pubDate>{}</pubDate>\n\
             <dc:creator>{}</dc:creator>\n<category>{}</category>\n<description>{}</description>\n</item>\n",
            esc(&it.title),
            esc(&it.link),
            esc(&it.guid),
            it.published.to_rfc2822(),
            esc(&it.author),
            it.category,
            esc(&it.body_html)
        );
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

pub fn atom(feed: u64, items: &[Item]) -> String {
    let updated = items.first().map_or_else(Utc::now, |i| i.published).to_rfc3339();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>Outlet {feed} News</title>\n<id>urn:outlet{feed}:feed</id>\n<updated>{updated}</updated>\n\
         <link rel=\"alternate\" href=\"https://www.outlet{feed}.example/\"/>\n\
         <link rel=\"self\" href=\"http://127.0.0.1:18080/feed-{feed:06}.atom\"/>\n"
    );
    for it in items {
        let date = it.published.to_rfc3339();
        let _ = write!(
            out,
            "<entry>\n<title>{}</title>\n<link rel=\"alternate\" href=\"{}\"/>\n<id>{}</id>\n\
             <published>{date}</published>\n<updated>{date}</updated>\n<author><name>{}</name></author>\n\
             <category term=\"{}\"/>\n<summary type=\"html\">{}</summary>\n</entry>\n",
            esc(&it.title),
            esc(&it.link),
            esc(&it.guid),
            esc(&it.author),
            it.category,
            esc(&it.body_html)
        );
    }
    out.push_str("</feed>\n");
    out
}

pub fn json(feed: u64, items: &[Item]) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|it| {
            serde_json::json!({
                "id": it.guid,
                "url": it.link,
                "title": it.title,
                "content_html": it.body_html,
                "date_published": it.published.to_rfc3339(),
                "authors": [{"name": it.author}],
                "tags": [it.category],
            })
        })
        .collect();
    let doc = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": format!("Outlet {feed} News"),
        "home_page_url": format!("https://www.outlet{feed}.example/"),
        "feed_url": format!("http://127.0.0.1:18080/feed-{feed:06}.json"),
        "items": items,
    });
    serde_json::to_string_pretty(&doc).expect("json")
}
