//! `[[topic]]` tables as written, and their validation (every bad term and unknown source named).

use super::problems::{Place, Problems};
use super::{Checks, TopicField, TopicSettings};
use crate::domain::{SourceId, TopicId};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub any: Vec<String>,
    #[serde(default)]
    pub all: Vec<String>,
    #[serde(default)]
    pub none: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    pub fields: Option<Vec<String>>,
    pub max_items: Option<usize>,
    pub group: Option<String>,
    #[serde(default)]
    pub private: bool,
}

const ALL_FIELDS: [TopicField; 4] =
    [TopicField::Title, TopicField::Summary, TopicField::Content, TopicField::Categories];

impl RawTopic {
    pub(super) fn validate(
        &self,
        p: &mut Problems,
        place: &Place,
        known_sources: &HashSet<&str>,
        seen: &mut HashMap<String, Place>,
        default_items: usize,
        checks: &dyn Checks,
    ) -> Option<TopicSettings> {
        let at = |key: &str| place.key("topic", key);
        let id = TopicId::parse(&self.id).map_err(|e| p.push(at("id"), format!("{:?} {e}", self.id))).ok();
        match seen.get(&self.id) {
            Some(first) => {
                let elsewhere = place.elsewhere("topic", first);
                p.push(at("id"), format!("{:?} is used by an earlier topic{elsewhere}", self.id));
            }
            None => _ = seen.insert(self.id.clone(), place.clone()),
        }
        for (key, list) in [("any", &self.any), ("all", &self.all), ("none", &self.none)] {
            for (j, term) in list.iter().enumerate() {
                if let Err(e) = checks.term(term) {
                    p.push(at(&format!("{key}[{j}]")), format!("{term:?}: {e}"));
                }
            }
        }
        let mut sources = Vec::new();
        for (j, s) in self.sources.iter().enumerate() {
            match SourceId::parse(s) {
                Ok(id) if known_sources.contains(s.as_str()) => sources.push(id),
                _ => p.push(at(&format!("sources[{j}]")), format!("unknown source {s:?}")),
            }
        }
        let fields = self.fields(p, &at);
        if self.any.is_empty() && self.all.is_empty() && self.categories.is_empty() && self.sources.is_empty() {
            p.push(at("any"), "the topic has no rule: give `any`, `all`, `categories` or `sources`");
        }
        let max_items = p.positive(&at("max_items"), self.max_items, default_items.max(200));
        Some(TopicSettings {
            id: id?,
            title: self.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| self.id.clone()),
            description: self.description.clone().unwrap_or_default(),
            any: self.any.clone(),
            all: self.all.clone(),
            none: self.none.clone(),
            categories: self.categories.clone(),
            sources,
            fields,
            max_items,
            group: p.grouping(&at("group"), self.group.as_deref()),
            private: self.private,
        })
    }

    fn fields(&self, p: &mut Problems, at: &dyn Fn(&str) -> String) -> Vec<TopicField> {
        let Some(names) = &self.fields else { return ALL_FIELDS.to_vec() };
        let mut out = Vec::new();
        for (j, name) in names.iter().enumerate() {
            match name.as_str() {
                "title" => out.push(TopicField::Title),
                "summary" => out.push(TopicField::Summary),
                "content" => out.push(TopicField::Content),
                "categories" => out.push(TopicField::Categories),
                other => p.push(
                    at(&format!("fields[{j}]")),
                    format!("unknown field {other:?} (use title, summary, content, categories)"),
                ),
            }
        }
        if names.is_empty() {
            p.push(at("fields"), "must name at least one field");
        }
        out
    }
}
