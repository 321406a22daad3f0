//! Pings to external hubs (`[websub] external_hubs`): after a channel changes, each hub is sent
//! `hub.mode=publish&hub.url=<topic>` for each of the channel's formats, at most once per channel
//! per `publish_every` (a burst of commits is one ping), so a hosted hub can fan the channel out to
//! the whole internet while this hub serves partners. Failures are logged and nothing waits on them.

use super::hub::Hub;
use super::topic::Topic;
use crate::domain::ChannelId;
use crate::render::Format;
use axum::body::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long after a change (or while pings are held back) channel versions are compared again:
/// asleep otherwise.
const TICK: Duration = Duration::from_secs(1);

/// The channels to ping now: those that moved, unless pinged less than `every` ago (they wait,
/// still moved, for the next look).
pub fn due(moved: &[ChannelId], last: &HashMap<ChannelId, Instant>, now: Instant, every: Duration) -> Vec<ChannelId> {
    let ready = |ch: &&ChannelId| last.get(*ch).is_none_or(|t| now.duration_since(*t) >= every);
    moved.iter().filter(ready).cloned().collect()
}

/// Runs until `stop` when external hubs are configured (returns at once otherwise).
pub async fn run(hub: Arc<Hub>, stop: CancellationToken) {
    if hub.settings().websub.external_hubs.is_empty() {
        return;
    }
    let version = |ch: &ChannelId| hub.state().versions.get(ch).0;
    // What is stored at start was published before: only later changes are pinged.
    let start = crate::http::public_channels(&hub.settings());
    let mut seen: HashMap<ChannelId, u64> = start.iter().map(|ch| (ch.clone(), version(ch))).collect();
    let mut last: HashMap<ChannelId, Instant> = HashMap::new();
    let mut bumps = hub.state().versions.watch();
    // Moved channels not pinged yet (held back by `publish_every`): look again after a tick.
    let mut waiting = false;
    loop {
        if !waiting {
            tokio::select! {
                () = stop.cancelled() => return,
                changed = bumps.changed() => if changed.is_err() { return },
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(TICK) => {}
        }
        bumps.mark_unchanged();
        // Read each pass: a reload adds and removes channels.
        let channels = crate::http::public_channels(&hub.settings());
        let moved: Vec<ChannelId> = channels.iter().filter(|ch| seen.get(*ch) != Some(&version(ch))).cloned().collect();
        let now = Instant::now();
        let ready = due(&moved, &last, now, hub.settings().websub.publish_every);
        for ch in &ready {
            seen.insert(ch.clone(), version(ch));
            last.insert(ch.clone(), now);
        }
        waiting = ready.len() < moved.len();
        if !ready.is_empty() {
            ping_all(&hub, &ready).await;
        }
    }
}

async fn ping_all(hub: &Arc<Hub>, channels: &[ChannelId]) {
    let mut pings = tokio::task::JoinSet::new();
    for external in &hub.settings().websub.external_hubs {
        for ch in channels {
            for format in Format::ALL {
                let topic = Topic { channel: ch.clone(), format }.url(&hub.base());
                pings.spawn(ping(hub.clone(), external.clone(), topic));
            }
        }
    }
    while pings.join_next().await.is_some() {}
}

async fn ping(hub: Arc<Hub>, external: url::Url, topic: String) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "publish")
        .append_pair("hub.url", &topic)
        .finish();
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    match hub.callbacks.post(&external, headers, Bytes::from(body)).await {
        Ok(r) if (200..300).contains(&r.status) => tracing::debug!(hub = %external, topic = %topic, "published"),
        Ok(r) => {
            tracing::warn!(hub = %external, topic = %topic, status = r.status, "external hub refused a publish ping")
        }
        Err(e) => tracing::warn!(hub = %external, topic = %topic, error = %e, "external hub not reached"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_pinged_at_most_once_per_window() {
        let t0 = Instant::now();
        let every = Duration::from_secs(5);
        let topic = ChannelId::Topic(crate::domain::TopicId::parse("health").expect("slug"));
        let moved = [ChannelId::All, topic.clone()];
        let last = HashMap::from([(ChannelId::All, t0)]);
        assert_eq!(due(&moved, &last, t0 + Duration::from_secs(1), every), vec![topic.clone()]);
        assert_eq!(due(&moved, &last, t0 + every, every), vec![ChannelId::All, topic]);
        assert!(due(&[], &last, t0, every).is_empty());
    }
}
