//! Metadata from JSON-LD (`NewsArticle`, `Article`, `ReportageNewsArticle`, `BlogPosting`, also inside `@graph`): the most trusted rule.

use super::index::Index;
use super::meta::{clean, fill, Found};
use super::{dates, Source};
use serde_json::Value;

const ARTICLE_TYPES: [&str; 6] =
    ["NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "AnalysisNewsArticle", "OpinionNewsArticle"];

/// A script block larger than this is not metadata; it is skipped unparsed.
const MAX_SCRIPT: usize = 1024 * 1024;

/// Objects looked at per page: a `@graph` of thousands is not an article's.
const MAX_NODES: usize = 200;

/// Reads the first article object of the page's JSON-LD blocks.
pub(super) fn collect(ix: &Index, f: &mut Found) {
    let article = ix.json_ld.iter().filter_map(|s| parse(&s.text())).find_map(|v| find_article(&v, &mut 0).cloned());
    let Some(a) = article else { return };
    fill(&mut f.title, str_of(a.get("headline")).or_else(|| str_of(a.get("name"))), Source::JsonLd);
    let authors = names(a.get("author"));
    fill(&mut f.byline, (!authors.is_empty()).then_some(authors), Source::JsonLd);
    fill(&mut f.published, str_of(a.get("datePublished")).and_then(|d| dates::parse_machine(&d)), Source::JsonLd);
    fill(&mut f.modified, str_of(a.get("dateModified")).and_then(|d| dates::parse_machine(&d)), Source::JsonLd);
    fill(&mut f.site_name, a.get("publisher").and_then(|p| str_of(p.get("name"))), Source::JsonLd);
    fill(&mut f.lang, str_of(a.get("inLanguage")), Source::JsonLd);
    let image = a.get("image").map(first);
    f.fill_image(image.and_then(|i| str_of(Some(i)).or_else(|| str_of(i.get("url")))), Source::JsonLd);
    fill(&mut f.caption, image.and_then(|i| str_of(i.get("caption"))), Source::JsonLd);
    let credit = image.and_then(|i| str_of(i.get("creditText")).or_else(|| names(i.get("author")).into_iter().next()));
    fill(&mut f.credit, credit, Source::JsonLd);
}

fn parse(text: &str) -> Option<Value> {
    if text.len() > MAX_SCRIPT {
        return None;
    }
    // Some CMSs leave raw newlines and tabs inside strings; JSON forbids them, browsers' readers tolerate them.
    let text = text.replace(['\n', '\r', '\t'], " ");
    serde_json::from_str(text.trim().trim_end_matches(';')).ok()
}

/// Depth-first search for an object typed as an article; `seen` bounds the work.
fn find_article<'a>(v: &'a Value, seen: &mut usize) -> Option<&'a Value> {
    *seen += 1;
    if *seen > MAX_NODES {
        return None;
    }
    match v {
        Value::Array(items) => items.iter().find_map(|i| find_article(i, seen)),
        Value::Object(o) => {
            if is_article(o.get("@type")) {
                return Some(v);
            }
            o.get("@graph")
                .and_then(|g| find_article(g, seen))
                .or_else(|| o.get("mainEntity").and_then(|m| find_article(m, seen)))
        }
        _ => None,
    }
}

fn is_article(t: Option<&Value>) -> bool {
    match t {
        Some(Value::String(s)) => ARTICLE_TYPES.contains(&s.as_str()),
        Some(Value::Array(a)) => a.iter().any(|t| is_article(Some(t))),
        _ => false,
    }
}

fn first(v: &Value) -> &Value {
    match v {
        Value::Array(a) => a.first().unwrap_or(v),
        _ => v,
    }
}

fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => clean(s),
        Value::Array(a) => a.first().and_then(|x| str_of(Some(x))),
        _ => None,
    }
}

/// Author names from a string, a `Person`/`Organization` object, or a list of either.
fn names(v: Option<&Value>) -> Vec<String> {
    let list: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().take(20).collect(),
        Some(x) => vec![x],
        None => vec![],
    };
    list.into_iter()
        .filter_map(|a| str_of(Some(a)).or_else(|| str_of(a.get("name"))))
        .filter(|n| !n.starts_with("http"))
        .collect()
}
