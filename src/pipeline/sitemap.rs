//! A sitemap source's fetch: its document and, for an index, its children (two levels deep, at
//! most 50, each once per poll), all through the fetcher and robots.txt, read into one list.

use super::plan::Content;
use super::{Got, Heard, PollContext, PollError};
use crate::config::SourceSettings;
use crate::domain::{DocumentNotes, FeedUrl};
use crate::fetch::{FetchError, FetchResult, Fetched, Validators};
use crate::parse::sitemap::{parse_sitemap, Sitemap, SitemapUrl};
use sha2::{Digest, Sha256};
use std::collections::{HashSet, VecDeque};
use url::Url;

/// Levels of indexes below the source's own document that are followed.
const MAX_DEPTH: usize = 2;
/// Child sitemaps fetched in one poll.
const MAX_CHILDREN: usize = 50;
/// Warnings kept on the source: the first few say what is wrong.
const MAX_WARNINGS: usize = 5;

/// Fetches and reads the sitemap at `url` and every child it leads to. Only the source's own
/// document can fail the poll; a child that fails is a warning on the source.
pub(super) async fn gather(
    ctx: &PollContext,
    source: &SourceSettings,
    url: &FeedUrl,
    heard: &mut Heard,
) -> Result<Got, PollError> {
    let root = fetch(ctx, source, url).await?;
    (heard.answer, heard.bytes) = (Some(root.answer.clone()), root.body.len() as u64);
    let (validators, doc_url) = (root.validators.clone(), root.final_url.clone());
    let mut walk = Walk { max_items: ctx.polling.max_items, ..Walk::default() };
    walk.visited.insert(url.to_string());
    let first = walk.read(ctx, root).await?;
    walk.absorb(url, doc_url.as_ref(), first, 0);
    while let Some((child, depth)) = walk.queue.pop_front() {
        let read = match fetch(ctx, source, &child).await {
            Ok(f) => {
                let base = f.final_url.clone();
                walk.read(ctx, f).await.map(|r| (r, base))
            }
            Err(e) => Err(e),
        };
        match read {
            Ok((r, base)) => walk.absorb(&child, base.as_ref(), r, depth),
            Err(e) => walk.warn(format!("child sitemap {child}: {e}")),
        }
    }
    let body_hash = walk.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let content = Content::Sitemap { urls: walk.urls, notes: walk.notes };
    Ok(Got { validators, body_hash, content, url: doc_url })
}

/// One sitemap document, after robots.txt allows it. Always unconditional: an index's children
/// change while the index does not, and a 304 would hide them; an unchanged poll is still told
/// apart by the hash of every document read.
async fn fetch(ctx: &PollContext, source: &SourceSettings, url: &FeedUrl) -> Result<Fetched, PollError> {
    if source.respect_robots {
        ctx.robots.check(url).await?;
    }
    match ctx.fetcher.fetch(url, &Validators::default()).await? {
        FetchResult::Fetched(f) => Ok(f),
        FetchResult::NotModified(a) => Err(FetchError::Status { status: a.status, retry_after: None }.into()),
    }
}

/// What one poll's walk through a sitemap and its children has gathered.
#[derive(Debug, Default)]
struct Walk {
    max_items: usize,
    urls: Vec<SitemapUrl>,
    notes: DocumentNotes,
    hasher: Sha256,
    visited: HashSet<String>,
    queue: VecDeque<(FeedUrl, usize)>,
    children: usize,
}

impl Walk {
    /// Parses a fetched document off the async workers, keeping to the items still allowed.
    async fn read(&mut self, ctx: &PollContext, f: Fetched) -> Result<(Sitemap, bool), PollError> {
        self.hasher.update(&f.body);
        let charset = f.content_type.as_deref().and_then(crate::parse::charset_of);
        let room = self.max_items.saturating_sub(self.urls.len());
        let parsed = ctx.cpu.run(move || parse_sitemap(&f.body, charset, room)).await;
        parsed.map_err(|e| PollError::Task(e.to_string()))?.map_err(PollError::from)
    }

    /// Files a document read at `depth`: its URLs kept, or its children queued.
    fn absorb(&mut self, at: &FeedUrl, base: Option<&Url>, (sitemap, replaced): (Sitemap, bool), depth: usize) {
        self.notes.replaced_bytes |= replaced;
        match sitemap {
            Sitemap::Urls { urls, dropped } => {
                self.notes.dropped_items += dropped;
                self.urls.extend(urls);
            }
            Sitemap::Index(children) => self.queue_children(at, base, children, depth + 1),
        }
    }

    fn queue_children(&mut self, at: &FeedUrl, base: Option<&Url>, children: Vec<String>, depth: usize) {
        if depth > MAX_DEPTH {
            return self.warn(format!("sitemap index {at} is nested deeper than {MAX_DEPTH} levels; not read"));
        }
        for loc in children {
            let Some(child) = child_url(&loc, base) else {
                self.warn(format!("sitemap index {at} lists {loc:?}, not a URL that can be fetched"));
                continue;
            };
            if !self.visited.insert(child.to_string()) {
                self.warn(format!("sitemap index {at} lists {child} again (a cycle); read once"));
                continue;
            }
            if self.children == MAX_CHILDREN {
                return self.warn(format!("more than {MAX_CHILDREN} child sitemaps; the rest were not read"));
            }
            self.children += 1;
            self.queue.push_back((child, depth));
        }
    }

    fn warn(&mut self, warning: String) {
        if self.notes.warnings.len() < MAX_WARNINGS {
            self.notes.warnings.push(warning);
        }
    }
}

/// A child's `<loc>` as a URL to fetch: web URLs anywhere, files only beside a file.
fn child_url(loc: &str, base: Option<&Url>) -> Option<FeedUrl> {
    let url = match (Url::parse(loc), base) {
        (Ok(u), _) => u,
        (Err(url::ParseError::RelativeUrlWithoutBase), Some(b)) => b.join(loc).ok()?,
        _ => return None,
    };
    match url.scheme() {
        "http" | "https" => Some(FeedUrl::Http(url)),
        "file" if base.is_some_and(|b| b.scheme() == "file") => url.to_file_path().ok().map(FeedUrl::File),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(u: &str) -> FeedUrl {
        FeedUrl::Http(Url::parse(u).expect("url"))
    }

    #[test]
    fn children_are_bounded_in_depth_and_number_and_read_once() {
        let base = Url::parse("https://n.example/index.xml").ok();
        let mut walk = Walk::default();
        walk.visited.insert("https://n.example/index.xml".into());
        let mut locs: Vec<String> = (0..60).map(|i| format!("/s{i}.xml")).collect();
        locs.insert(0, "https://n.example/index.xml".into());
        locs.insert(1, "ftp://n.example/x.xml".into());
        walk.absorb(&web("https://n.example/index.xml"), base.as_ref(), (Sitemap::Index(locs), false), 0);
        assert_eq!(walk.queue.len(), MAX_CHILDREN);
        assert_eq!(walk.queue[0], (web("https://n.example/s0.xml"), 1));
        let words = walk.notes.warnings.join("\n");
        for w in ["a cycle", "not a URL that can be fetched", "more than 50 child sitemaps"] {
            assert!(words.contains(w), "{w}: {words}");
        }
        let deep = Sitemap::Index(vec!["/deeper.xml".into()]);
        walk.absorb(&web("https://n.example/s0.xml"), base.as_ref(), (deep, false), MAX_DEPTH);
        assert!(walk.notes.warnings.len() <= MAX_WARNINGS);
        assert!(!walk.queue.iter().any(|(u, _)| u.to_string().contains("deeper")));
    }

    #[test]
    fn child_urls() {
        let file = Url::parse("file:///srv/demo/index.xml").ok();
        let web_base = Url::parse("https://n.example/a/index.xml").ok();
        assert_eq!(child_url("b.xml", file.as_ref()), Some(FeedUrl::File("/srv/demo/b.xml".into())));
        assert_eq!(child_url("b.xml", web_base.as_ref()), Some(web("https://n.example/a/b.xml")));
        assert_eq!(child_url("file:///etc/passwd", web_base.as_ref()), None, "no files from the web");
        assert_eq!(child_url("b.xml", None), None);
    }
}
