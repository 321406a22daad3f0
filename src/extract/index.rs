//! One walk over the parsed page that files the elements the metadata rules read, so that no rule
//! walks the whole tree again (a CSS `select` is a walk of its own, with its selector compiled anew).

use dom_query::{local_name, Document, LocalName, NodeId, NodeRef};
use std::collections::HashMap;

/// Candidate text lines kept: datelines and bylines sit near the top, and each candidate's text
/// costs its subtree, which must stay bounded on hostile pages.
const MAX_LINES: usize = 400;

/// Pictures looked at for the lead photo, and how far up each one's ancestors are looked at:
/// the lead photo sits near the top, and checking costs its depth.
const MAX_IMAGES: usize = 500;
const MAX_ANCESTORS: usize = 64;

/// The elements each rule reads, in document order.
#[derive(Debug, Default)]
pub(super) struct Index<'a> {
    /// `<meta>`: its `property`, `name` and `itemprop` values, and its `content`.
    pub metas: Vec<Meta>,
    /// `<script type="application/ld+json">` (any case).
    pub json_ld: Vec<NodeRef<'a>>,
    /// `<html lang>`: the first one's value.
    pub lang: Option<String>,
    /// `datetime` of `<time datetime>`.
    pub times: Vec<String>,
    /// `<h1>`s with their place in document order.
    pub h1: Vec<(NodeRef<'a>, usize)>,
    /// Short-text candidates (`p`, `span`, `div`, `h2`…): the first [`MAX_LINES`].
    pub lines: Vec<NodeRef<'a>>,
    /// The first [`MAX_IMAGES`] `<img>`s with their place in document order.
    pub images: Vec<(NodeRef<'a>, usize)>,
}

/// A `<meta>` tag's keys and value.
#[derive(Debug)]
pub(super) struct Meta {
    pub keys: Vec<String>,
    pub content: Option<String>,
}

impl Meta {
    pub fn is(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k.eq_ignore_ascii_case(key))
    }
}

/// What an element is to the rules.
enum Kind {
    Meta(Meta),
    JsonLd,
    Html(Option<String>),
    Time(Option<String>),
    H1,
    Line,
    Image,
    Other,
}

/// Walks `doc` once.
pub(super) fn build(doc: &Document) -> Index<'_> {
    let mut ix = Index::default();
    for (at, node) in doc.root().descendants_it().enumerate() {
        match node.query_or(Kind::Other, kind) {
            Kind::Meta(m) => ix.metas.push(m),
            Kind::JsonLd => ix.json_ld.push(node),
            Kind::Html(lang) => ix.lang = ix.lang.take().or(lang),
            Kind::Time(t) => ix.times.extend(t),
            Kind::H1 => ix.h1.push((node, at)),
            Kind::Line if ix.lines.len() < MAX_LINES => ix.lines.push(node),
            Kind::Image if ix.images.len() < MAX_IMAGES => ix.images.push((node, at)),
            Kind::Line | Kind::Image | Kind::Other => {}
        }
    }
    ix
}

fn kind(n: &dom_query::TreeNode) -> Kind {
    let Some(e) = n.as_element() else { return Kind::Other };
    let attr = |name: LocalName| e.attr_ref(name).map(str::to_owned);
    match &*e.name.local {
        "meta" => {
            let keys = [local_name!("property"), local_name!("name"), local_name!("itemprop")];
            Kind::Meta(Meta {
                keys: keys.into_iter().filter_map(attr).collect(),
                content: attr(local_name!("content")),
            })
        }
        "script" => match e.attr_ref(local_name!("type")) {
            Some(t) if t.eq_ignore_ascii_case("application/ld+json") => Kind::JsonLd,
            _ => Kind::Other,
        },
        "html" => Kind::Html(attr(local_name!("lang"))),
        "time" => Kind::Time(attr(local_name!("datetime"))),
        "h1" => Kind::H1,
        "img" => Kind::Image,
        name if is_line(name) => Kind::Line,
        _ => Kind::Other,
    }
}

fn is_line(name: &str) -> bool {
    ["p", "span", "small", "time", "li", "address", "div", "h2", "h3", "h4", "h5", "h6", "em", "strong"].contains(&name)
}

/// The element's tag name is one of `names`.
pub(super) fn is_named(node: &NodeRef, names: &[&str]) -> bool {
    node.query_or(false, |n| n.as_element().is_some_and(|e| names.contains(&&*e.name.local)))
}

impl Index<'_> {
    /// The first picture in a `<figure>` or `<article>`, or after an `<h1>` (`figure img, h1 ~
    /// img, h1 ~ * img, article img`).
    pub fn lead_image(&self) -> Option<NodeRef<'_>> {
        let mut h1_by_parent: HashMap<NodeId, Vec<(NodeId, usize)>> = HashMap::new();
        for (h, at) in &self.h1 {
            if let Some(p) = h.parent() {
                h1_by_parent.entry(p.id).or_default().push((h.id, *at));
            }
        }
        let found = self.images.iter().find(|(img, at)| {
            let up: Vec<NodeRef> = std::iter::once(*img).chain(img.ancestors_it(Some(MAX_ANCESTORS))).collect();
            up.iter().any(|a| is_named(a, &["figure", "article"]))
                || up.iter().any(|a| a.parent().is_some_and(|p| h1_before(&h1_by_parent, p.id, a.id, *at)))
        });
        found.map(|(img, _)| *img)
    }
}

/// Whether `parent` has an `<h1>` child other than `child` placed before `place`: an element
/// there comes after that h1 among its siblings, or inside a sibling after it.
fn h1_before(
    h1_by_parent: &HashMap<NodeId, Vec<(NodeId, usize)>>,
    parent: NodeId,
    child: NodeId,
    place: usize,
) -> bool {
    h1_by_parent.get(&parent).is_some_and(|h1s| h1s.iter().any(|&(h, at)| h != child && at < place))
}
