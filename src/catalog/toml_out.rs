//! New sources and suggested topics as config text: each `[[source]]` table under comment lines
//! saying where it came from (folder, site), written by the TOML serializer so any title is
//! quoted right.

use super::{one_line, NewSource, TopicSuggestion};
use crate::config::tables::{source_tables, SourceTable};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize)]
struct TopicTables<'a> {
    topic: Vec<&'a TopicSuggestion>,
}

/// A whole file of imported sources: a header naming where they came from, then the tables.
pub fn sources_file(origin: &str, config_name: &str, added: &[NewSource]) -> String {
    let mut out = format!(
        "# Sources imported from {} by `newsriver import`; read through `include` in {}.\n\
         # Edit freely: ids are what channels and topics name, so keep them once in use.\n",
        one_line(origin),
        one_line(config_name)
    );
    for s in added {
        out.push('\n');
        out.push_str(&source_block(s, None));
    }
    out
}

/// One source's `[[source]]` table, under its comment lines (`note` first, when given).
pub fn source_block(s: &NewSource, note: Option<&str>) -> String {
    let mut out = String::new();
    for (label, value) in
        [("", note), ("folder: ", s.folder.as_deref()), ("site: ", s.html_url.as_ref().map(|u| u.as_str()))]
    {
        if let Some(v) = value {
            let _ = writeln!(out, "# {label}{}", one_line(v));
        }
    }
    let table = SourceTable::new(&s.id, &s.title, s.url.as_str(), s.kind);
    out.push_str(&source_tables(&[table]));
    out
}

/// Suggested `[[topic]]` tables, ready to paste into the config.
pub fn topics_toml(topics: &[TopicSuggestion]) -> String {
    if topics.is_empty() {
        return String::new();
    }
    toml::to_string(&TopicTables { topic: topics.iter().collect() }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;
    use url::Url;

    #[test]
    fn the_text_reads_back_as_the_same_sources() {
        let s = NewSource {
            id: "quotes".into(),
            title: "Quotes \" and \\ back\nslash".into(),
            url: Url::parse("https://q.example/feed?a=1&b=2").expect("url"),
            html_url: Some(Url::parse("https://q.example/").expect("url")),
            folder: Some("News\n# not a key = 1".into()),
            kind: SourceKind::Sitemap,
        };
        let text = sources_file("my\nlist.opml", "newsriver.toml", &[s.clone(), NewSource { id: "b".into(), ..s }]);
        let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let sources = doc["source"].as_array().expect("sources");
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[0]["title"].as_str(), Some("Quotes \" and \\ back\nslash"));
        assert_eq!(sources[0]["url"].as_str(), Some("https://q.example/feed?a=1&b=2"));
        assert_eq!(sources[0]["kind"].as_str(), Some("sitemap"));
        assert_eq!(doc.len(), 1, "comments stay comments: {text}");
        assert!(text.contains("# folder: News # not a key = 1\n# site: https://q.example/\n[[source]]\n"), "{text}");
        let topics =
            topics_toml(&[TopicSuggestion { id: "news".into(), title: "News".into(), sources: vec!["b".into()] }]);
        let doc: toml::Table = toml::from_str(&topics).expect("topics");
        assert_eq!(doc["topic"][0]["sources"][0].as_str(), Some("b"));
    }
}
