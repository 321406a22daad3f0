//! A story's primary and its members' story fields, decided when members join (`assign`) and
//! when members are removed (`prune`): the primary is the earliest published visible member
//! and carries the topics of all members; every other member is secondary.

use crate::domain::{Entry, EntryKey, Story, TopicId};
use std::collections::HashSet;

/// The primary of story `sid` and the next version of each of `members`, in their order.
pub fn settle(sid: EntryKey, members: &[Entry]) -> Option<(EntryKey, Vec<Entry>)> {
    let earliest = |visible: bool| {
        members.iter().filter(|e| !visible || !e.held_back).min_by_key(|e| (e.published, e.key)).map(|e| e.key)
    };
    let primary = earliest(true).or_else(|| earliest(false))?;
    let mut all_topics: Vec<TopicId> = Vec::new();
    for t in members.iter().flat_map(|e| e.topics.iter().map(|t| &t.topic)) {
        if !all_topics.contains(t) {
            all_topics.push(t.clone());
        }
    }
    let next = members
        .iter()
        .map(|current| {
            let mut next = current.clone();
            next.story = Some(sid);
            next.secondary = current.key != primary;
            next.story_topics = if next.secondary {
                Vec::new()
            } else {
                all_topics.iter().filter(|t| !current.topics.iter().any(|m| &m.topic == *t)).cloned().collect()
            };
            next
        })
        .collect();
    Some((primary, next))
}

/// What removing the members `gone` leaves of a story: its record (`None` when one member or
/// none is left: a story of one item has no record, and its item is named after itself) and the
/// next version of each of `survivors`, in their order.
pub fn without(mut story: Story, gone: &HashSet<EntryKey>, survivors: &[Entry]) -> (Option<Story>, Vec<Entry>) {
    story.members.retain(|m| !gone.contains(&m.key));
    if let [alone] = survivors {
        let next = Entry { story: Some(alone.key), secondary: false, story_topics: Vec::new(), ..alone.clone() };
        return (None, vec![next]);
    }
    match settle(story.id, survivors) {
        Some((primary, next)) => {
            story.primary = primary;
            (Some(story), next)
        }
        None => (None, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{test_entry, Member, TopicMatch};

    fn topic(id: &str) -> TopicMatch {
        TopicMatch { topic: TopicId::parse(id).expect("slug"), rule: "any".into() }
    }

    fn story_of(members: &[&Entry]) -> Story {
        let id = members[0].key;
        let members = members.iter().map(|e| Member::of(e, "first", 1.0)).collect();
        Story { id, primary: id, members }
    }

    #[test]
    fn the_earliest_survivor_becomes_primary_with_every_topic() {
        let b = Entry { topics: vec![topic("port")], ..test_entry("b", "1", "2026-11-20T08:00:00Z") };
        let a = Entry { topics: vec![topic("rail")], secondary: true, ..test_entry("a", "1", "2026-11-20T09:00:00Z") };
        let c = Entry { topics: vec![topic("port")], secondary: true, ..test_entry("c", "1", "2026-11-20T10:00:00Z") };
        let story = story_of(&[&b, &a, &c]);
        let gone = HashSet::from([b.key]);
        let (record, next) = without(story.clone(), &gone, &[a.clone(), c.clone()]);
        let record = record.expect("two members stay");
        assert_eq!((record.id, record.primary), (b.key, a.key), "the id stays, the primary moves");
        assert_eq!(record.members.iter().map(|m| m.key).collect::<Vec<_>>(), [a.key, c.key]);
        assert!(!next[0].secondary && next[1].secondary);
        assert_eq!(next[0].story_topics, [TopicId::parse("port").expect("slug")], "c's topic, not its own");
        assert!(next[1].story_topics.is_empty());
    }

    #[test]
    fn a_lone_survivor_is_a_story_of_one() {
        let b = test_entry("b", "1", "2026-11-20T08:00:00Z");
        let a = Entry { secondary: true, story: Some(b.key), ..test_entry("a", "1", "2026-11-20T09:00:00Z") };
        let (record, next) = without(story_of(&[&b, &a]), &HashSet::from([b.key]), std::slice::from_ref(&a));
        assert!(record.is_none());
        assert_eq!((next[0].story, next[0].secondary), (Some(a.key), false));
        assert_eq!(without(story_of(&[&b]), &HashSet::from([b.key]), &[]), (None, Vec::new()));
    }
}
