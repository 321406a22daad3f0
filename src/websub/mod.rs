//! The built-in WebSub hub (W3C Recommendation, 2018): every channel URL in every format is a
//! topic; subscribers are verified (§5.3), then sent each change as it commits (§7), signed
//! when they gave a secret, durably and politely (positions in the store, retries with backoff,
//! the fetcher's address guard on callbacks). External hubs can be pinged too.
//!
//! ```text
//! POST /websub ─► accept (limits, form, guard) ─► queue ─► verify (GET challenge) ─► Hub table ─► store (w records)
//! commit ─► ChannelVersions bump ─► worker ─► since page rendered once per (topic, position) ─► POST per subscriber
//!                                                  └─ 2xx: position moves and is flushed; else backoff, 410 ends
//! ```
//!
//! Pure core: `request` (the form), `subscription` (the record and its transitions), `limits`,
//! `sign`, `topic`; I/O: `client`, `verify`, `deliver`, `worker`, `publish`, `endpoint`.

mod accept;
mod client;
mod deliver;
mod endpoint;
mod hub;
pub mod limits;
mod publish;
pub mod request;
pub mod sign;
pub mod subscription;
pub mod topic;
mod verify;
mod worker;

pub use endpoint::{router, View};
pub use hub::{Hub, OpenError};

use crate::config::Settings;
use crate::domain::ChannelId;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// May a request subscribe to `channel`? The one place the subscribe-time decision is made:
/// today every configured channel is open to all; private channels check `key` here.
pub fn may_subscribe(settings: &Settings, channel: &ChannelId, key: Option<&str>) -> bool {
    let _ = key;
    match channel {
        ChannelId::All => true,
        ChannelId::Topic(t) => settings.topic(t).is_some(),
        ChannelId::Source(s) => settings.source(s).is_some(),
    }
}

/// Starts the hub's tasks (verifier, delivery worker, external-hub pings), each stopping on
/// `stop`.
pub fn start(hub: &Arc<Hub>, stop: &CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(verify::run(hub.clone(), stop.clone())),
        tokio::spawn(worker::run(hub.clone(), stop.clone())),
        tokio::spawn(publish::run(hub.clone(), stop.clone())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SourceId, TopicId};

    #[test]
    fn every_configured_channel_may_be_subscribed_with_or_without_a_key() {
        let text = "[[source]]\nid = \"wire\"\nurl = \"https://wire.example/rss\"\n";
        let s = Settings::from_toml_checked(text, std::path::Path::new("/srv/nr/newsriver.toml")).expect("valid");
        let wire = ChannelId::Source(SourceId::parse("wire").expect("slug"));
        for key in [None, Some("k")] {
            assert!(may_subscribe(&s, &ChannelId::All, key) && may_subscribe(&s, &wire, key));
        }
        let other = ChannelId::Topic(TopicId::parse("sport").expect("slug"));
        assert!(!may_subscribe(&s, &other, None));
    }
}
