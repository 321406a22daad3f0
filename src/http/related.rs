//! What channels list under an item: the other members of its story (copies, "also reported
//! by") and, in channels grouped by event, the other outlets' reports of its event.

use super::AppState;
use crate::domain::{Entry, EntryKey, SourceId};
use crate::render::Related;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The other members of each entry's story, earliest first.
pub fn stories(state: &AppState, entries: &[Entry]) -> HashMap<EntryKey, Vec<Related>> {
    let mut out = HashMap::new();
    for e in entries {
        // Stories of one item have no record and nothing to list.
        let Some(story) = e.story.and_then(|id| state.store.story_record(&id).ok().flatten()) else { continue };
        let others = story.members.iter().filter(|m| m.key != e.key);
        let list = listed(state, others.map(|m| (&m.source, &m.title, m.link.as_deref(), m.published)));
        if !list.is_empty() {
            out.insert(e.key, list);
        }
    }
    out
}

/// The other reports of each entry's event, earliest first (for the event's primary).
pub fn events(state: &AppState, entries: &[Entry]) -> HashMap<EntryKey, Vec<Related>> {
    let mut out = HashMap::new();
    for e in entries {
        let Some(place) = e.event.as_ref().filter(|p| p.primary) else { continue };
        let Some(event) = state.store.event_record(&place.id).ok().flatten() else { continue };
        let others = event.members.iter().filter(|m| m.key != e.key);
        let list = listed(state, others.map(|m| (&m.source, &m.title, m.link.as_deref(), m.published)));
        if !list.is_empty() {
            out.insert(e.key, list);
        }
    }
    out
}

type Listed<'a> = (&'a SourceId, &'a String, Option<&'a str>, DateTime<Utc>);

/// Members with a link, as listed: the outlet by its configured title, earliest first. A
/// private source's items are never listed: they take no part in stories or events, but
/// stories and events formed before their source was made private still name them.
fn listed<'a>(state: &AppState, members: impl Iterator<Item = Listed<'a>>) -> Vec<Related> {
    let mut list: Vec<Related> = members
        .filter(|(source, ..)| !state.gate.partners.is_private_source(source))
        .filter_map(|(source, title, link, published)| {
            let outlet = state.source_infos.get(source).map_or_else(|| source.to_string(), |s| s.title.clone());
            Some(Related { source: source.clone(), outlet, title: title.clone(), link: link?.to_owned(), published })
        })
        .collect();
    list.sort_by_key(|r| r.published);
    list
}
