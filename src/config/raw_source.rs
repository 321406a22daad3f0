//! `[[source]]` as written, and its validation.

use super::problems::{Place, Problems};
use super::{ArticleRules, Checks, PageSelectors, Schedule, SourceKind, SourceSettings};
use crate::domain::{FeedUrl, SourceId};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub id: String,
    pub title: Option<String>,
    pub url: String,
    pub every: Option<String>,
    pub cron: Option<String>,
    pub initial_items: Option<usize>,
    pub kind: Option<String>,
    pub respect_robots: Option<bool>,
    pub full_text: Option<bool>,
    pub content_selector: Option<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    pub select: Option<RawSelect>,
    #[serde(default)]
    pub private: bool,
}

/// `[source.select]` of a page source.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSelect {
    pub item: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub date: Option<String>,
    pub date_format: Option<String>,
    pub summary: Option<String>,
    pub image: Option<String>,
}

impl RawSource {
    /// The source, with `respect_robots` and `full_text` left for the caller, which knows the
    /// `[polling]` defaults.
    pub(super) fn validate(
        &self,
        p: &mut Problems,
        place: &Place,
        base: &Path,
        seen: &mut HashMap<String, Place>,
        checks: &dyn Checks,
    ) -> Option<SourceSettings> {
        let at = |key: &str| place.key("source", key);
        let id = SourceId::parse(&self.id).map_err(|e| p.push(at("id"), format!("{:?} {e}", self.id))).ok();
        match seen.get(&self.id) {
            Some(first) => {
                let elsewhere = place.elsewhere("source", first);
                p.push(at("id"), format!("{:?} is used by an earlier source{elsewhere}", self.id));
            }
            None => _ = seen.insert(self.id.clone(), place.clone()),
        }
        let url = FeedUrl::parse(self.url.trim(), base).map_err(|e| p.push(at("url"), e.to_string())).ok();
        let schedule = self.schedule(p, &at, checks);
        let title = self.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| self.id.clone());
        // 0 means "inherit polling.initial_items", filled in by the caller.
        let initial_items = p.positive(&at("initial_items"), self.initial_items, 0);
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("feed") => Some(SourceKind::Feed),
            Some("sitemap") => Some(SourceKind::Sitemap),
            Some("page") => Some(SourceKind::Page),
            Some(other) => {
                p.push(at("kind"), format!("{other:?} is not a source kind (\"feed\", \"sitemap\" or \"page\")"));
                None
            }
        };
        let article = self.article_rules(p, &at, checks);
        let page = self.page(p, &at, kind, checks);
        let (kind, schedule) = (kind?, schedule?);
        let (respect_robots, full_text) = (true, false);
        Some(SourceSettings {
            id: id?,
            title,
            url: url?,
            schedule,
            initial_items,
            kind,
            respect_robots,
            full_text,
            article,
            page,
            private: self.private,
        })
    }

    fn schedule(&self, p: &mut Problems, at: &dyn Fn(&str) -> String, checks: &dyn Checks) -> Option<Schedule> {
        match (&self.every, &self.cron) {
            (Some(_), Some(_)) => {
                p.push(at("cron"), "set either `every` or `cron`, not both");
                None
            }
            (Some(e), None) => Some(Schedule::Every(p.duration(&at("every"), Some(e), Duration::from_secs(900)))),
            (None, Some(c)) => match checks.cron(c) {
                Ok(()) => Some(Schedule::Cron(c.trim().to_owned())),
                Err(e) => {
                    p.push(at("cron"), e);
                    None
                }
            },
            // Filled in from polling.every by the caller; zero means "use the default".
            (None, None) => Some(Schedule::Every(Duration::ZERO)),
        }
    }

    fn article_rules(&self, p: &mut Problems, at: &dyn Fn(&str) -> String, checks: &dyn Checks) -> ArticleRules {
        let content_selector = selector(p, &at("content_selector"), self.content_selector.as_deref(), checks);
        let remove = (self.remove.iter().enumerate())
            .filter_map(|(j, css)| selector(p, &at(&format!("remove[{j}]")), Some(css), checks))
            .collect();
        ArticleRules { content_selector, remove }
    }

    fn page(
        &self,
        p: &mut Problems,
        at: &dyn Fn(&str) -> String,
        kind: Option<SourceKind>,
        checks: &dyn Checks,
    ) -> Option<PageSelectors> {
        let Some(select) = &self.select else {
            if kind == Some(SourceKind::Page) {
                p.push(at("select"), "a page source needs `[source.select]` with at least `item`");
            }
            return None;
        };
        if kind.is_some_and(|k| k != SourceKind::Page) {
            p.push(at("select"), "only a `kind = \"page\"` source reads a page with selectors");
            return None;
        }
        let mut sel = |key: &str, v: &Option<String>| selector(p, &at(&format!("select.{key}")), v.as_deref(), checks);
        let item = sel("item", &select.item);
        let out = PageSelectors {
            item: item.unwrap_or_default(),
            title: sel("title", &select.title),
            link: sel("link", &select.link),
            date: sel("date", &select.date),
            date_format: select.date_format.clone().filter(|f| !f.trim().is_empty()),
            summary: sel("summary", &select.summary),
            image: sel("image", &select.image),
        };
        if select.item.is_none() {
            p.push(at("select.item"), "is required: the selector of each story on the page");
        }
        if select.date_format.is_some() && select.date.is_none() {
            p.push(at("select.date_format"), "needs `select.date`, the element the date is read from");
        }
        Some(out)
    }
}

/// A CSS selector as written, checked by the extractor's own parser.
fn selector(p: &mut Problems, path: &str, raw: Option<&str>, checks: &dyn Checks) -> Option<String> {
    let css = raw?.trim();
    if css.is_empty() {
        p.push(path, "empty selector");
        return None;
    }
    match checks.selector(css) {
        Ok(()) => Some(css.to_owned()),
        Err(e) => {
            p.push(path, format!("{css:?} is not a CSS selector: {e}"));
            None
        }
    }
}
