//! Visible newsroom text: "Last update: …", "Updated …", "By NAME DATE", the lead photo, its caption and credit line.

use super::index::{is_named, Index};
use super::meta::{clean, fill, Found};
use super::{dates, Source};
use dom_query::{NodeRef, Selection};
use regex::Regex;
use std::sync::LazyLock;

/// Short lines only: datelines and credits are short (the index bounds how many are looked at).
const MAX_LINE: usize = 200;

const MONTH: &str = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";

static UPDATED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)^(?:last\s+update[ds]?|updated|modified)\s*(?:on|:)?\s*(?P<date>{MONTH}\s+\d{{1,2}},?\s+\d{{4}}(?:,?\s+(?:at\s+)?\d{{1,2}}:\d{{2}}(?:\s*[AP]M)?)?)")).ok()
});
static PUBLISHED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)^(?:published|posted)\s*(?:on|:)?\s*(?P<date>{MONTH}\s+\d{{1,2}},?\s+\d{{4}}(?:,?\s+(?:at\s+)?\d{{1,2}}:\d{{2}}(?:\s*[AP]M)?)?)")).ok()
});
static BYLINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(r"^[Bb]y\s+(?P<names>\p{{Lu}}[\p{{L}}'’.\-]*(?:(?:\s+|\s*,\s*|\s+and\s+|\s*&\s*)\p{{Lu}}[\p{{L}}'’.\-]*){{0,11}})(?:\s*[,|·•–—-]?\s*(?P<date>{MONTH}\s+\d{{1,2}},?\s+\d{{4}}(?:,?\s+\d{{1,2}}:\d{{2}}(?:\s*[AP]M)?)?))?\s*$")).ok()
});
static CREDIT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:(?:photo(?:graph)?|image|picture|credit)s?\s*(?:by|:)\s*(?P<by>.+)|(?P<courtesy>.+\s*/\s*(?:courtesy|handout|file|reuters|ap|afp|getty images).*))$").ok()
});

/// Reads datelines and bylines among the page's short text blocks, then the lead photo.
pub(super) fn collect(ix: &Index, f: &mut Found) {
    for node in &ix.lines {
        // A div holding blocks is a container, not a line.
        let inline = ["a", "span", "time", "strong", "em", "b"];
        if is_named(node, &["div"]) && node.children_it(false).any(|c| c.is_element() && !is_named(&c, &inline)) {
            continue;
        }
        let Some(text) = short_text(node) else { continue };
        dateline(&text, f);
    }
    lead_photo(ix, f);
}

fn short_text(node: &NodeRef) -> Option<String> {
    let text = node.text();
    (text.len() <= MAX_LINE * 4).then(|| clean(&text)).flatten().filter(|t| t.chars().count() <= MAX_LINE)
}

fn date_in(re: &LazyLock<Option<Regex>>, text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let caps = re.as_ref()?.captures(text)?;
    dates::parse_human(caps.name("date")?.as_str())
}

fn dateline(text: &str, f: &mut Found) {
    let updated = date_in(&UPDATED, text);
    let published = date_in(&PUBLISHED, text);
    if updated.is_some() || published.is_some() {
        f.furniture.push(text.to_owned());
    }
    fill(&mut f.modified, updated, Source::TextPattern);
    fill(&mut f.published, published, Source::TextPattern);
    let Some(caps) = BYLINE.as_ref().and_then(|re| re.captures(text)) else { return };
    f.furniture.push(text.to_owned());
    let names: Vec<String> = caps
        .name("names")
        .map(|n| n.as_str().split([',', '&']).flat_map(|p| p.split(" and ")).filter_map(clean).collect())
        .unwrap_or_default();
    fill(&mut f.byline, (!names.is_empty()).then_some(names), Source::TextPattern);
    fill(&mut f.published, caps.name("date").and_then(|d| dates::parse_human(d.as_str())), Source::TextPattern);
}

/// The first picture after the headline (or in a `<figure>`), its `<figcaption>`, and a credit
/// from `.credit` or a credit-shaped line beside it.
fn lead_photo(ix: &Index, f: &mut Found) {
    let Some(img) = ix.lead_image() else { return };
    let src = img.attr("src").or_else(|| img.attr("data-src")).and_then(|s| clean(&s));
    f.fill_image(src, Source::Selector);
    let figure = img.ancestors_it(Some(4)).find(|a| is_named(a, &["figure"]));
    let scope = figure.or_else(|| img.parent());
    let Some(scope) = scope else { return };
    let credit_sel = Selection::from(scope).select(".credit, .photo-credit, [class*=credit]").nodes().first().cloned();
    fill(&mut f.credit, credit_sel.and_then(|c| clean(&c.text())), Source::Selector);
    if let Some(cap) = figure.and_then(|fig| Selection::from(fig).select("figcaption").nodes().first().cloned()) {
        fill(&mut f.caption, clean(&cap.text()), Source::Selector);
    }
    let next_lines = scope.next_element_sibling().into_iter().chain(img.next_element_sibling());
    for line in next_lines.chain(std::iter::once(scope)) {
        let Some(text) = short_text(&line) else { continue };
        if let Some(credit) = credit_of(&text) {
            f.furniture.push(text);
            fill(&mut f.credit, Some(credit), Source::TextPattern);
        }
    }
}

/// "Photo: NAME" gives NAME; "NAME / Courtesy" is kept whole, the courtesy being part of the credit.
fn credit_of(text: &str) -> Option<String> {
    let caps = CREDIT.as_ref()?.captures(text)?;
    caps.name("by").or_else(|| caps.name("courtesy")).and_then(|m| clean(m.as_str()))
}
