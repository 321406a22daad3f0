//! Topic routing: which topic channels an entry belongs to, by rules an editor can read. Pure.

use crate::config::{Settings, TopicField, TopicSettings};
use crate::domain::{Entry, SourceId, TopicMatch};
use crate::text::sanitized_to_text;
use regex::{Regex, RegexBuilder};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Separates fields in the matched text: neither whitespace (phrases cannot span two fields)
/// nor a word character (word boundaries hold at field edges).
const FIELD_SEP: &str = "\u{1f}";

/// One `any`/`all`/`none` term: a word or phrase, or a `/regex/flags`.
#[derive(Debug, Clone)]
pub struct Term {
    raw: String,
    re: Regex,
}

impl Term {
    /// Words and phrases match case-insensitively on word boundaries, with any run of
    /// whitespace between words; `/.../flags` is a regex (flags `i`, `m`, `s`, `x`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Err("empty term".into());
        }
        let re = match regex_literal(t) {
            Some((pattern, flags)) => build(pattern, flags)?,
            None => build(&phrase_pattern(t), "i")?,
        };
        Ok(Self { raw: t.to_owned(), re })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }
}

fn regex_literal(t: &str) -> Option<(&str, &str)> {
    let rest = t.strip_prefix('/')?;
    let end = rest.rfind('/')?;
    let flags = &rest[end + 1..];
    flags.chars().all(|c| c.is_ascii_alphabetic()).then_some((&rest[..end], flags))
}

fn phrase_pattern(t: &str) -> String {
    let words: Vec<String> = t.split_whitespace().map(regex::escape).collect();
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let start = if is_word(t.chars().next()) { r"\b" } else { "" };
    let end = if is_word(t.chars().last()) { r"\b" } else { "" };
    format!("{start}{}{end}", words.join(r"\s+"))
}

fn build(pattern: &str, flags: &str) -> Result<Regex, String> {
    let mut b = RegexBuilder::new(pattern);
    for f in flags.chars() {
        match f {
            'i' => b.case_insensitive(true),
            'm' => b.multi_line(true),
            's' => b.dot_matches_new_line(true),
            'x' => b.ignore_whitespace(true),
            other => return Err(format!("unknown regex flag {other:?} (use i, m, s or x)")),
        };
    }
    b.size_limit(1 << 20).build().map_err(|e| format!("invalid regex: {e}"))
}

#[derive(Debug, Clone)]
struct Compiled {
    settings: TopicSettings,
    any: Vec<Term>,
    all: Vec<Term>,
    none: Vec<Term>,
}

/// Routes entries to topics. Built once from validated settings.
#[derive(Debug, Clone, Default)]
pub struct TopicRouter {
    topics: Vec<Compiled>,
    fingerprint: String,
    /// Sources whose items route to private topics only (and are marked private).
    private_sources: BTreeSet<SourceId>,
}

impl TopicRouter {
    /// Compiles every topic; loading the config already compiled each term (`crate::load`), so
    /// errors here are bugs in loading and are reported rather than panicking.
    pub fn new(topics: &[TopicSettings]) -> Result<Self, String> {
        let terms = |list: &[String]| list.iter().map(|t| Term::parse(t)).collect::<Result<Vec<_>, _>>();
        let mut compiled = Vec::with_capacity(topics.len());
        let mut h = Sha256::new();
        for t in topics {
            compiled.push(Compiled {
                settings: t.clone(),
                any: terms(&t.any)?,
                all: terms(&t.all)?,
                none: terms(&t.none)?,
            });
            h.update(format!("{:?}\n", (&t.id, &t.any, &t.all, &t.none, &t.categories, &t.sources, &t.fields)));
        }
        let fingerprint = crate::domain::hex(&h.finalize());
        Ok(Self { topics: compiled, fingerprint, private_sources: BTreeSet::new() })
    }

    /// The router of a config: its topics, and which sources and topics are private.
    pub fn of(settings: &Settings) -> Result<Self, String> {
        let router = Self::new(&settings.topics)?;
        Ok(router.with_private_sources(settings.sources.iter().filter(|s| s.private).map(|s| s.id.clone())))
    }

    /// Marks `ids` private: their items route to private topics only. Which sources and topics
    /// are private decides membership, so it joins the fingerprint (only when there are any, so
    /// a config without private channels keeps the fingerprint stores already hold).
    pub fn with_private_sources(mut self, ids: impl IntoIterator<Item = SourceId>) -> Self {
        self.private_sources.extend(ids);
        let private_topics: Vec<&str> =
            self.topics.iter().filter(|t| t.settings.private).map(|t| t.settings.id.as_str()).collect();
        if !self.private_sources.is_empty() || !private_topics.is_empty() {
            let sources: Vec<&str> = self.private_sources.iter().map(SourceId::as_str).collect();
            let mut h = Sha256::new();
            h.update(format!("{}\nprivate:{sources:?}:{private_topics:?}", self.fingerprint));
            self.fingerprint = crate::domain::hex(&h.finalize());
        }
        self
    }

    /// Changes whenever a rule that decides membership changes (not titles or descriptions).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The topics an entry belongs to; a private source's items belong to private topics only.
    pub fn route(&self, e: &Entry) -> Vec<TopicMatch> {
        let texts = EntryText::of(e);
        let private = self.is_private(&e.source);
        self.topics
            .iter()
            .filter(|t| !private || t.settings.private)
            .filter_map(|t| t.matches(e, &texts).map(|rule| TopicMatch { topic: t.settings.id.clone(), rule }))
            .collect()
    }

    pub fn is_private(&self, source: &SourceId) -> bool {
        self.private_sources.contains(source)
    }

    /// Routes an entry in place: its topics, and whether it is private.
    pub fn place(&self, e: &mut Entry) {
        e.topics = self.route(e);
        e.private = self.is_private(&e.source);
    }

    /// The entry as routed now, when that differs from how it is stored.
    pub fn rerouted(&self, e: &Entry) -> Option<Entry> {
        let (topics, private) = (self.route(e), self.is_private(&e.source));
        (topics != e.topics || private != e.private).then(|| Entry { topics, private, ..e.clone() })
    }
}

/// The plain text of each field, extracted once per entry.
struct EntryText {
    title: String,
    summary: String,
    content: String,
    categories: String,
}

impl EntryText {
    fn of(e: &Entry) -> Self {
        Self {
            title: e.title.clone(),
            summary: e.summary.as_deref().map(sanitized_to_text).unwrap_or_default(),
            content: e.content.as_deref().map(sanitized_to_text).unwrap_or_default(),
            categories: e.categories.join(FIELD_SEP),
        }
    }

    fn select(&self, fields: &[TopicField]) -> String {
        let pick = |f: &TopicField| match f {
            TopicField::Title => self.title.as_str(),
            TopicField::Summary => self.summary.as_str(),
            TopicField::Content => self.content.as_str(),
            TopicField::Categories => self.categories.as_str(),
        };
        fields.iter().map(pick).collect::<Vec<_>>().join(FIELD_SEP)
    }
}

impl Compiled {
    /// `none` always excludes; then a listed source, a listed category, or the word rules
    /// (`any` if given, and every `all` term) include. Returns the deciding rule.
    fn matches(&self, e: &Entry, texts: &EntryText) -> Option<String> {
        let s = &self.settings;
        let text = texts.select(&s.fields);
        if self.none.iter().any(|t| t.is_match(&text)) {
            return None;
        }
        if s.sources.contains(&e.source) {
            return Some(format!("source:{}", e.source));
        }
        if let Some(c) = e.categories.iter().find(|c| s.categories.iter().any(|w| w.to_lowercase() == c.to_lowercase()))
        {
            return Some(format!("category:{c:?}"));
        }
        if self.any.is_empty() && self.all.is_empty() {
            return None;
        }
        let any_hit = if self.any.is_empty() { None } else { Some(self.any.iter().find(|t| t.is_match(&text))?) };
        if !self.all.iter().all(|t| t.is_match(&text)) {
            return None;
        }
        Some(match any_hit {
            Some(t) => format!("any:{:?}", t.raw),
            None => format!("all:{:?}", self.all.iter().map(|t| t.raw.as_str()).collect::<Vec<_>>()),
        })
    }
}

#[cfg(test)]
mod tests;
