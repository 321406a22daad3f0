//! `[[partner]]` tables as written, their validation (key digests, channel grants named by key
//! path), and the warnings `check` prints about private channels.

use super::problems::Problems;
use super::{PartnerSettings, Settings};
use crate::domain::{ChannelId, Grant, KeyDigest, PartnerId, SourceId, TopicId};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPartner {
    pub id: String,
    pub title: Option<String>,
    pub key_sha256: Option<String>,
    pub channels: Option<RawChannels>,
    pub rate_limit: Option<u32>,
}

/// `channels = "*"` or a list of channel names.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawChannels {
    One(String),
    Many(Vec<String>),
}

/// The ids of the configured topics and sources, as written.
pub(super) struct Known<'a> {
    pub sources: &'a HashSet<&'a str>,
    pub topics: &'a HashSet<&'a str>,
}

/// Every partner; problems under `partner[i].key`. `admin` is the admin key's digest, which no
/// partner may share.
pub(super) fn validate(
    raw: &[RawPartner],
    p: &mut Problems,
    known: &Known<'_>,
    admin: Option<&KeyDigest>,
) -> Vec<PartnerSettings> {
    let mut ids = HashSet::new();
    let mut digests = Vec::new();
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let at = |key: &str| format!("partner[{i}].{key}");
        let id = PartnerId::parse(&r.id).map_err(|e| p.push(at("id"), format!("{:?} {e}", r.id))).ok();
        if !ids.insert(r.id.as_str()) {
            p.push(at("id"), format!("{:?} is used by an earlier partner", r.id));
        }
        let digest = digest(r.key_sha256.as_deref(), p, &at("key_sha256"), &mut digests, admin);
        let channels = grant(r.channels.as_ref(), p, &at("channels"), known);
        let rate_limit = match r.rate_limit {
            Some(0) => {
                p.push(at("rate_limit"), "must be at least 1 (requests a minute); leave it out for no limit");
                None
            }
            n => n,
        };
        let title = r.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| r.id.clone());
        if let (Some(id), Some(key_sha256), Some(channels)) = (id, digest, channels) {
            out.push(PartnerSettings { id, title, key_sha256, channels, rate_limit });
        }
    }
    out
}

/// A partner's key digest, unlike every earlier partner's (`seen`, one per partner, in order)
/// and the admin key's.
fn digest(
    raw: Option<&str>,
    p: &mut Problems,
    path: &str,
    seen: &mut Vec<Option<KeyDigest>>,
    admin: Option<&KeyDigest>,
) -> Option<KeyDigest> {
    let d = match raw {
        Some(raw) => p.digest(path, raw),
        None => {
            p.push(path, "is required: the SHA-256 of the partner's key (`newsriver partner new ID`)");
            None
        }
    };
    if let Some(d) = &d {
        if let Some(j) = seen.iter().position(|other| other.is_some_and(|o| o.matches(d))) {
            p.push(path, format!("is partner[{j}]'s key too: every partner needs its own"));
        } else if admin.is_some_and(|a| a.matches(d)) {
            p.push(path, "is the admin key: a partner needs a key of its own");
        }
    }
    seen.push(d);
    d
}

fn grant(raw: Option<&RawChannels>, p: &mut Problems, path: &str, known: &Known<'_>) -> Option<Grant> {
    let names: Vec<&str> = match raw {
        None => {
            p.push(path, "is required: the ids of the topics and sources the partner may read, or \"*\"");
            return None;
        }
        Some(RawChannels::One(s)) if s.trim() == "*" => return Some(Grant::All),
        Some(RawChannels::One(s)) => vec![s.as_str()],
        Some(RawChannels::Many(list)) => list.iter().map(String::as_str).collect(),
    };
    if names.is_empty() {
        p.push(path, "grants nothing: list channel ids, or \"*\" for every channel");
        return None;
    }
    if names.iter().any(|n| n.trim() == "*") {
        return Some(Grant::All);
    }
    let mut channels = Vec::new();
    for (j, name) in names.iter().enumerate() {
        match channel(name.trim(), known) {
            Ok(ch) if !channels.contains(&ch) => channels.push(ch),
            Ok(_) => {}
            Err(e) => p.push(format!("{path}[{j}]"), e),
        }
    }
    Some(Grant::Channels(channels))
}

/// `topic:ID`, `source:ID`, or a bare id that names exactly one topic or source.
fn channel(name: &str, known: &Known<'_>) -> Result<ChannelId, String> {
    let topic = |id: &str| {
        let t = TopicId::parse(id).ok().filter(|_| known.topics.contains(id));
        t.map(ChannelId::Topic).ok_or_else(|| format!("unknown topic {id:?}"))
    };
    let source = |id: &str| {
        let s = SourceId::parse(id).ok().filter(|_| known.sources.contains(id));
        s.map(ChannelId::Source).ok_or_else(|| format!("unknown source {id:?}"))
    };
    if let Some(id) = name.strip_prefix("topic:") {
        return topic(id);
    }
    if let Some(id) = name.strip_prefix("source:") {
        return source(id);
    }
    match (topic(name), source(name)) {
        (Ok(_), Ok(_)) => {
            Err(format!("{name:?} is both a topic and a source: write \"topic:{name}\" or \"source:{name}\""))
        }
        (Ok(ch), Err(_)) | (Err(_), Ok(ch)) => Ok(ch),
        (Err(_), Err(_)) => Err(format!("unknown channel {name:?}: no topic or source has this id")),
    }
}

impl Settings {
    /// What is allowed but probably not meant, for `check` and `serve` to print.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let private: Vec<ChannelId> =
            (self.topics.iter().filter(|t| t.private).map(|t| ChannelId::Topic(t.id.clone())))
                .chain(self.sources.iter().filter(|s| s.private).map(|s| ChannelId::Source(s.id.clone())))
                .collect();
        if !private.is_empty() && self.server.admin_key_sha256.is_none() {
            out.push(
                "server.admin_key_sha256 is not set: /api/* and /metrics are open to anyone and show \
                 private channels' items and partners (`newsriver admin-key` makes a key)"
                    .to_owned(),
            );
        }
        for ch in private.iter().filter(|ch| !self.partners.iter().any(|p| p.channels.covers(ch))) {
            out.push(format!("{} is private and no partner may read it", crate::domain::channel_name(ch)));
        }
        out
    }
}
