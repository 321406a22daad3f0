//! Who may read what: partners known by the SHA-256 of their keys, the channels each may read
//! beyond the public ones, and the admin key. Pure decisions (`may_read`) over the config; the
//! HTTP shell (`http::guard`) reads the key from a request and answers the refusals, and
//! `usage` counts what each partner took.

mod credentials;
mod keys;
mod usage;

pub use credentials::{presented, Presented, Via};
pub use keys::{new_key, ADMIN_PREFIX, PARTNER_PREFIX};
pub use usage::{Bucket, PartnerUsage, Usage};

use crate::config::{PartnerSettings, Settings};
use crate::domain::{ChannelId, KeyDigest, PartnerId};
use std::collections::HashSet;
use std::sync::Arc;

/// The partners of a config, which channels are private, and the admin key's digest.
#[derive(Debug, Default, PartialEq)]
pub struct Partners {
    partners: Vec<PartnerSettings>,
    private: HashSet<ChannelId>,
    admin: Option<KeyDigest>,
}

/// The partners and what they took: what HTTP (and whatever else serves partners) holds.
#[derive(Debug)]
pub struct Gate {
    pub partners: Partners,
    pub usage: Usage,
}

impl Gate {
    pub fn of(settings: &Settings) -> Self {
        let partners = Partners::of(settings);
        let usage = Usage::new(&partners);
        Self { partners, usage }
    }

    /// The gate for `settings` after a reload: the same one when its partners did not change,
    /// else one whose partners that remain keep their counts.
    pub fn reconfigured(self: &Arc<Self>, settings: &Settings) -> Arc<Self> {
        let partners = Partners::of(settings);
        if partners == self.partners {
            return self.clone();
        }
        let usage = self.usage.carried(&self.partners, &partners);
        Arc::new(Self { partners, usage })
    }

    /// `may_read` over this gate's partners.
    pub fn may_read(&self, channel: &ChannelId, key: Option<&str>) -> Access {
        may_read(&self.partners, channel, key)
    }

    /// Counts `items` delivered to `partner` by push (a WebSub delivery).
    pub fn record_push(&self, partner: &PartnerId, items: u64) {
        self.usage.record_push(&self.partners, partner, items);
    }
}

/// What a request may do with one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A public channel, read without a partner's key.
    Public,
    /// The partner (by its index in `Partners`) may read it: a public channel, or a private one
    /// its grant covers.
    Partner(usize),
    /// A private channel and no key: `401`.
    KeyRequired,
    /// A private channel and a key that is no partner's: `401`.
    UnknownKey,
    /// A private channel the partner's grant does not cover: answered as if it did not exist.
    NotGranted(usize),
}

impl Access {
    /// The partner whose key the request carried, when it is one.
    pub fn partner(self) -> Option<usize> {
        match self {
            Self::Partner(i) | Self::NotGranted(i) => Some(i),
            _ => None,
        }
    }
}

impl Partners {
    pub fn of(settings: &Settings) -> Self {
        let topics = settings.topics.iter().filter(|t| t.private).map(|t| ChannelId::Topic(t.id.clone()));
        let sources = settings.sources.iter().filter(|s| s.private).map(|s| ChannelId::Source(s.id.clone()));
        Self {
            partners: settings.partners.clone(),
            private: topics.chain(sources).collect(),
            admin: settings.server.admin_key_sha256,
        }
    }

    pub fn all(&self) -> &[PartnerSettings] {
        &self.partners
    }

    pub fn get(&self, i: usize) -> Option<&PartnerSettings> {
        self.partners.get(i)
    }

    pub fn index_of(&self, id: &PartnerId) -> Option<usize> {
        self.partners.iter().position(|p| &p.id == id)
    }

    pub fn is_private(&self, ch: &ChannelId) -> bool {
        // Most configs have no private channel: a cached answer then hashes no channel id.
        !self.private.is_empty() && self.private.contains(ch)
    }

    /// Whether a source is private: its items are listed nowhere but its own channel and the
    /// private topics they were routed to (not under other outlets' items either).
    pub fn is_private_source(&self, id: &crate::domain::SourceId) -> bool {
        !self.private.is_empty() && self.private.contains(&ChannelId::Source(id.clone()))
    }

    /// The partner whose key this is. Every partner's digest is compared, each in constant
    /// time, so the time taken says nothing about which one (or how many) came close.
    pub fn identify(&self, key: &str) -> Option<usize> {
        let digest = KeyDigest::of_key(key);
        let mut found = None;
        for (i, p) in self.partners.iter().enumerate() {
            if p.key_sha256.matches(&digest) {
                found = Some(i);
            }
        }
        found
    }

    /// Whether the admin endpoints need the admin key.
    pub fn admin_required(&self) -> bool {
        self.admin.is_some()
    }

    /// Whether `key` is the admin key (false when none is configured).
    pub fn is_admin(&self, key: Option<&str>) -> bool {
        match (&self.admin, key) {
            (Some(admin), Some(key)) => admin.matches(&KeyDigest::of_key(key)),
            _ => false,
        }
    }

    /// Whether partner `i` may read a channel (public channels: everyone).
    pub fn grants(&self, i: usize, ch: &ChannelId) -> bool {
        !self.is_private(ch) || self.partners.get(i).is_some_and(|p| p.channels.covers(ch))
    }
}

/// May the holder of `key` (none: an anonymous reader) read `channel`? The one decision every
/// way of reading a channel (a request, a WebSub subscription's `hub.key`) goes through.
/// A key that is no partner's is ignored on public channels: a proxy's own credentials in
/// front of the service must not close what is public.
pub fn may_read(partners: &Partners, channel: &ChannelId, key: Option<&str>) -> Access {
    let key = key.filter(|k| !k.is_empty());
    let who = key.and_then(|k| partners.identify(k));
    match (partners.is_private(channel), who) {
        (false, Some(i)) => Access::Partner(i),
        (false, None) => Access::Public,
        (true, Some(i)) if partners.grants(i, channel) => Access::Partner(i),
        (true, Some(i)) => Access::NotGranted(i),
        (true, None) if key.is_some() => Access::UnknownKey,
        (true, None) => Access::KeyRequired,
    }
}

/// The channels a reader sees listed (index page, OPML): every public one, and the private
/// ones partner `who` may read.
pub fn listed(partners: &Partners, channels: Vec<ChannelId>, who: Option<usize>) -> Vec<ChannelId> {
    channels.into_iter().filter(|ch| !partners.is_private(ch) || who.is_some_and(|i| partners.grants(i, ch))).collect()
}

#[cfg(test)]
mod tests;
