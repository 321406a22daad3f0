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

use crate::access::{Access, Gate};
use crate::config::Settings;
use crate::domain::ChannelId;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// May a subscriber holding `key` (none: anonymous) be sent `channel`? The one place the hub
/// decides it, at subscribe time and again before each delivery (a key the config no longer
/// accepts, or a grant withdrawn, stops the deliveries): configured channels only, and private
/// ones only with a partner key that grants them, exactly as a reader's `GET` is decided.
pub fn may_subscribe(settings: &Settings, gate: &Gate, channel: &ChannelId, key: Option<&str>) -> Access {
    let configured = match channel {
        ChannelId::All => true,
        ChannelId::Topic(t) => settings.topic(t).is_some(),
        ChannelId::Source(s) => settings.source(s).is_some(),
    };
    if configured {
        gate.may_read(channel, key)
    } else {
        Access::NotGranted(usize::MAX)
    }
}

/// Whether an access decision lets the channel be sent.
pub fn allowed(access: Access) -> bool {
    matches!(access, Access::Public | Access::Partner(_))
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
    fn configured_public_channels_are_open_and_private_ones_need_a_granting_key() {
        use crate::access::new_key;
        let fresh = || new_key(crate::access::PARTNER_PREFIX).expect("the OS random source");
        let (key, other) = (fresh(), fresh());
        let digest = crate::domain::KeyDigest::of_key(&key).to_hex();
        let text = format!(
            "[[source]]\nid = \"wire\"\nurl = \"https://wire.example/rss\"\nprivate = true\n\
             [[source]]\nid = \"desk\"\nurl = \"https://desk.example/rss\"\n\
             [[partner]]\nid = \"planet\"\nkey_sha256 = \"{digest}\"\nchannels = [\"wire\"]\n"
        );
        let s = Settings::from_toml_checked(&text, std::path::Path::new("/srv/nr/newsriver.toml")).expect("valid");
        let gate = Gate::of(&s);
        let (wire, desk) = (source("wire"), source("desk"));
        let may = |ch: &ChannelId, k: Option<&str>| allowed(may_subscribe(&s, &gate, ch, k));
        assert!(may(&ChannelId::All, None) && may(&desk, None) && may(&desk, Some(&other)));
        assert!(may(&wire, Some(&key)), "the partner's key grants its private channel");
        assert!(!may(&wire, None) && !may(&wire, Some(&other)), "a private channel needs a granting key");
        let unknown = ChannelId::Topic(TopicId::parse("sport").expect("slug"));
        assert!(!may(&unknown, Some(&key)), "only configured channels");
    }

    fn source(id: &str) -> ChannelId {
        ChannelId::Source(SourceId::parse(id).expect("slug"))
    }
}
