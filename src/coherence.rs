//! Render caches of several instances on one database, kept coherent: another instance's commit
//! moves this one's `ChannelVersions` (so HTTP caches, WebSub delivery and the export watcher see
//! it) within a second. Two paths, on a shared store only (PostgreSQL):
//!
//! - **Freshness: LISTEN/NOTIFY.** After every local bump the touched channels are announced
//!   (`pg_notify`, after the commit, so only committed work is announced); every instance keeps one
//!   listening connection (remade with backoff when it drops) and bumps what others announce,
//!   within milliseconds. A list too long for one notification is sent as "everything changed".
//!   Each instance ignores its own announcements. A (re)connected listener bumps everything once:
//!   what was announced while it was away was not heard.
//! - **Correctness: the change log.** Every `CHECK_EVERY` each instance reads the stored last
//!   change-log number (one point read) and, when it moved, reads the entries the log names past
//!   the last number it saw and bumps their channels. This needs nothing but ordinary reads, so it
//!   holds on engines without LISTEN/NOTIFY (CockroachDB) and after notifications were lost (a
//!   process killed between its commit and its announcement). A channel may be bumped twice for one
//!   commit (announced, then found in the log): it is rendered once more, never served stale.
//!
//! What the change log does not name is covered by notifications only: story "also reported by"
//! lists under another outlet's item, an item moved out of a channel by an edit, re-routing after a
//! rules change and `prune` (both of which every instance should run with the same config).

use crate::channels::ChannelVersions;
use crate::domain::{ChannelId, SourceId, TopicId};
use crate::store::{Heard, Store};
use chrono::Utc;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the stored change-log number is compared (the correctness path's delay).
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;
/// Change-log records read per check: a larger backlog is read over the following checks.
const LOG_BATCH: usize = 5000;

/// Starts the three tasks on a shared store (none on sled); each ends with `stop`.
pub fn start(store: &Store, versions: &Arc<ChannelVersions>, stop: &CancellationToken) -> Vec<JoinHandle<()>> {
    if !store.is_shared() {
        return Vec::new();
    }
    let mut id = [0u8; 8];
    if getrandom::fill(&mut id).is_err() {
        // Without randomness, the process id still tells instances on different machines apart
        // in practice; a clash costs only that one ignores the other's announcements.
        id[..4].copy_from_slice(&std::process::id().to_be_bytes());
    }
    let me = id.iter().map(|b| format!("{b:02x}")).collect::<String>();
    vec![
        tokio::spawn(announce(store.clone(), versions.clone(), me.clone(), stop.clone())),
        tokio::spawn(listen(store.clone(), versions.clone(), me, stop.clone())),
        tokio::spawn(follow_log(store.clone(), versions.clone(), stop.clone())),
    ]
}

/// A notification: `v1 <instance>` then one channel per line, or `*` for everything.
pub fn encode(instance: &str, channels: &BTreeSet<ChannelId>) -> String {
    let mut out = format!("v1 {instance}");
    for ch in channels {
        out.push('\n');
        out.push_str(&channel_name(ch));
    }
    if out.len() > MAX_PAYLOAD {
        return format!("v1 {instance}\n*");
    }
    out
}

/// What a notification says: the sender, and its channels (`None`: everything). Unreadable ones
/// are read as everything from an unknown sender.
pub fn decode(payload: &str) -> (String, Option<Vec<ChannelId>>) {
    let mut lines = payload.lines();
    let Some(sender) = lines.next().and_then(|l| l.strip_prefix("v1 ")) else {
        return (String::new(), None);
    };
    let mut channels = Vec::new();
    for line in lines {
        match parse_channel(line) {
            Some(ch) => channels.push(ch),
            None => return (sender.to_owned(), None),
        }
    }
    (sender.to_owned(), Some(channels))
}

fn channel_name(ch: &ChannelId) -> String {
    match ch {
        ChannelId::All => "all".to_owned(),
        ChannelId::Source(s) => format!("s:{s}"),
        ChannelId::Topic(t) => format!("t:{t}"),
    }
}

fn parse_channel(line: &str) -> Option<ChannelId> {
    match line.split_once(':') {
        None if line == "all" => Some(ChannelId::All),
        Some(("s", id)) => SourceId::parse(id).ok().map(ChannelId::Source),
        Some(("t", id)) => TopicId::parse(id).ok().map(ChannelId::Topic),
        _ => None,
    }
}

/// Announces the channels this process's bumps move.
async fn announce(store: Store, versions: Arc<ChannelVersions>, me: String, stop: CancellationToken) {
    drop(versions.take_local());
    let mut bumps = versions.watch();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            changed = bumps.changed() => if changed.is_err() { return },
        }
        let local = versions.take_local();
        if local.is_empty() {
            continue;
        }
        let (store, payload) = (store.clone(), encode(&me, &local));
        match tokio::task::spawn_blocking(move || store.announce(payload)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "coherence: cannot announce a commit (others find it in the log)"),
            Err(e) => tracing::warn!(error = %e, "coherence: the announcement task failed"),
        }
    }
}

/// Bumps what other instances announce.
async fn listen(store: Store, versions: Arc<ChannelVersions>, me: String, stop: CancellationToken) {
    let Some(mut heard) = store.listen(stop.clone()) else { return };
    let mut connected_before = false;
    while let Some(h) = heard.recv().await {
        match h {
            // A reconnection may have missed notifications; the first connection missed nothing
            // a cache could hold stale for long (the change-log check covers the moments before).
            Heard::Connected if !connected_before => connected_before = true,
            Heard::Connected => versions.bump_everything(Utc::now()),
            Heard::Notification(payload) => match decode(&payload) {
                (sender, _) if sender == me => {}
                (_, Some(channels)) => versions.bump_remote(channels, Utc::now()),
                (_, None) => versions.bump_everything(Utc::now()),
            },
        }
    }
}

/// The correctness path: bumps the channels of entries the change log names past what was seen.
async fn follow_log(store: Store, versions: Arc<ChannelVersions>, stop: CancellationToken) {
    let mut seen = None;
    loop {
        let s = store.clone();
        let read = tokio::task::spawn_blocking(move || step(&s, seen)).await;
        match read {
            Ok(Ok((next, moved))) => {
                seen = Some(next);
                match moved {
                    Moved::Channels(channels) => versions.bump_remote(channels, Utc::now()),
                    Moved::Everything => versions.bump_everything(Utc::now()),
                    Moved::Nothing => {}
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "coherence: cannot read the change log"),
            Err(e) => tracing::warn!(error = %e, "coherence: the change-log task failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(CHECK_EVERY) => {}
        }
    }
}

enum Moved {
    Nothing,
    Channels(BTreeSet<ChannelId>),
    Everything,
}

/// One check: the new last position seen, and what moved since `seen` (nothing on the first).
fn step(store: &Store, seen: Option<u64>) -> Result<(u64, Moved), crate::store::StoreError> {
    let last = store.stored_last_seq()?;
    let Some(seen) = seen else { return Ok((last, Moved::Nothing)) };
    if last < seen {
        // The store was replaced under us (a restored copy): nothing said is still true.
        return Ok((last, Moved::Everything));
    }
    if last == seen {
        return Ok((seen, Moved::Nothing));
    }
    let (entries, read_to) = store.changed_after(seen, LOG_BATCH)?;
    // This instance's own commits moved its channels already (and told the others).
    let channels = entries.iter().filter(|e| !store.gave_out(e.seq)).flat_map(|e| e.channels()).collect();
    // Records of edited items go when they move on: the log may end before `last`.
    let next = if read_to == seen { last } else { read_to };
    Ok((next, Moved::Channels(channels)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{test_entry, Change};
    use crate::store::Prepared;

    /// The correctness path reads nothing but records, so sled shows it as well as a database.
    #[test]
    fn the_log_check_bumps_the_channels_of_entries_past_what_it_saw() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db"), 1 << 20).expect("store");
        let (seen, moved) = step(&store, None).expect("first check");
        assert!(matches!(moved, Moved::Nothing), "the first check only takes its bearings");
        let source = SourceId::parse("wire").expect("slug");
        let entry = test_entry("wire", "x", "2026-11-20T10:00:00Z");
        let new = vec![Change::New(entry)];
        store.commit_poll_with(&source, |_| Ok(Prepared { changes: new, ..Prepared::default() })).expect("commit");
        let (next, moved) = step(&store, Some(seen)).expect("check");
        let Moved::Channels(channels) = moved else { panic!("the commit's channels") };
        assert!(channels.contains(&ChannelId::All) && channels.contains(&ChannelId::Source(source)), "{channels:?}");
        assert!(next > seen);
        assert!(matches!(step(&store, Some(next)).expect("check").1, Moved::Nothing), "nothing new");
        assert!(matches!(step(&store, Some(next + 5)).expect("check").1, Moved::Everything), "a store replaced");
    }

    #[test]
    fn notifications_round_trip_and_long_ones_say_everything() {
        let few: BTreeSet<ChannelId> = [
            ChannelId::All,
            ChannelId::Source(SourceId::parse("wire").expect("slug")),
            ChannelId::Topic(TopicId::parse("city-hall").expect("slug")),
        ]
        .into();
        let (sender, channels) = decode(&encode("ab12", &few));
        assert_eq!(sender, "ab12");
        assert_eq!(channels.expect("named").into_iter().collect::<BTreeSet<_>>(), few);
        let many: BTreeSet<ChannelId> =
            (0..2000).map(|i| ChannelId::Source(SourceId::parse(&format!("source-{i}")).expect("slug"))).collect();
        let long = encode("ab12", &many);
        assert!(long.len() < 8000);
        assert_eq!(decode(&long), ("ab12".to_owned(), None));
        assert_eq!(decode("garbage"), (String::new(), None));
        assert_eq!(decode("v1 x\ns:NOT A SLUG").1, None);
    }
}
