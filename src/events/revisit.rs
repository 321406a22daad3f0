//! The event index beyond assignment: putting items back where stored decisions placed them
//! (after a restart), and revisiting a member whose text was edited (it may no longer fit).

use super::{trimmed_mean, EventId, EventIndex};
use crate::events::features::{Extract, Features, Item};
use crate::events::score::Reason;
use std::sync::Arc;

impl EventIndex {
    /// Puts an item into the event it was assigned to before (`into`; a new one when `None`
    /// or no longer live) without deciding anything: rebuilding the index from stored
    /// decisions after a restart. Items must come in published order, weighed (`Features::weigh`)
    /// by the rarity counted with them.
    pub fn place(&mut self, item: &Item<'_>, features: Features, into: Option<EventId>) -> EventId {
        self.expire(item.published);
        let event = match into.filter(|id| self.events.contains_key(id)) {
            Some(id) => id,
            None => self.open(item),
        };
        self.add_member(event, item, features);
        event
    }

    /// The term rarity counted so far (to weigh items off the index, on other cores).
    pub fn rarity(&self) -> &super::Rarity {
        &self.rarity
    }

    /// How an item (edited since it joined) now scores against the other recent members of its
    /// event; its features in the index become the new ones. `None` when the event is no longer
    /// live or holds no other recent member.
    pub fn rescore(&mut self, item: &Item<'_>, extract: &Extract, id: EventId) -> Option<Reason> {
        let mut features = Features::weigh(extract, &self.rarity);
        let e = self.events.get(&id)?;
        let others: Vec<(usize, f64)> = (e.members.iter().enumerate())
            .filter(|(_, m)| m.key != item.key && m.origin != item.origin)
            .map(|(i, m)| (i, self.pair_score(&features, item.published, m)))
            .collect();
        let closest = others.iter().max_by(|a, b| a.1.total_cmp(&b.1))?.0;
        let score = trimmed_mean(others.iter().map(|x| x.1).collect());
        let reason = self.reason(&features, id, closest, score);
        features.labels = Vec::new();
        let member =
            Arc::new(super::Member { key: item.key, origin: item.origin, published: item.published, features });
        if let Some(slot) = self.events.get_mut(&id).and_then(|e| e.members.iter_mut().find(|m| m.key == item.key)) {
            *slot = member;
        }
        Some(reason)
    }

    /// Takes an item out of its event into a new event of its own (it no longer fits).
    pub fn detach(&mut self, item: &Item<'_>, extract: &Extract, id: EventId) -> EventId {
        if let Some(e) = self.events.get_mut(&id) {
            e.members.retain(|m| m.key != item.key);
            e.size = e.size.saturating_sub(1);
        }
        let features = Features::weigh(extract, &self.rarity);
        let event = self.open(item);
        self.add_member(event, item, features);
        event
    }
}
