//! Partners' identities: a partner is known by its slug and by the SHA-256 of its key, never by
//! the key itself; what it may read is a grant of channels.

use super::{ChannelId, IdError, SourceId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// A partner's slug as configured (`daily-planet`); same rules as a source id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartnerId(String);

impl PartnerId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        SourceId::parse(s).map(|id| Self(String::from(id)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PartnerId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<PartnerId> for String {
    fn from(id: PartnerId) -> String {
        id.0
    }
}

impl fmt::Display for PartnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The SHA-256 of a key: what the config holds and requests are checked against.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyDigest([u8; 32]);

impl KeyDigest {
    /// The digest of a key as presented.
    pub fn of_key(key: &str) -> Self {
        Self(Sha256::digest(key.as_bytes()).into())
    }

    /// 64 hex characters (either case), as `newsriver partner new` prints them.
    pub fn parse_hex(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("must be 64 hex characters (the key's SHA-256), not {} characters", s.chars().count()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            out[i] = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        }
        Ok(Self(out))
    }

    /// Compares in constant time: how long a refusal takes says nothing about how close a
    /// guessed key's digest came.
    pub fn matches(&self, other: &KeyDigest) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    pub fn to_hex(&self) -> String {
        super::hex(&self.0)
    }
}

/// The digest is not secret, but a log line has no use for it either.
impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyDigest({})", self.to_hex())
    }
}

/// The channels a partner may read beyond the public ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// `"*"`: every channel, private ones included.
    All,
    /// These channels (topics and sources).
    Channels(Vec<ChannelId>),
}

impl Grant {
    pub fn covers(&self, ch: &ChannelId) -> bool {
        match self {
            Self::All => true,
            Self::Channels(list) => list.contains(ch),
        }
    }

    /// As the config writes it: `"*"`, or `topic:ID` / `source:ID` for each channel.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::All => vec!["*".to_owned()],
            Self::Channels(list) => list.iter().map(channel_name).collect(),
        }
    }
}

/// `topic:ID`, `source:ID` or `all`: a channel named unambiguously.
pub fn channel_name(ch: &ChannelId) -> String {
    match ch {
        ChannelId::All => "all".to_owned(),
        ChannelId::Topic(t) => format!("topic:{t}"),
        ChannelId::Source(s) => format!("source:{s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_compare_and_print() {
        let d = KeyDigest::of_key("nrp_secret");
        let hex = d.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(KeyDigest::parse_hex(&hex.to_uppercase()), Ok(d));
        assert!(d.matches(&KeyDigest::parse_hex(&format!(" {hex} ")).expect("trimmed")));
        assert!(!d.matches(&KeyDigest::of_key("nrp_secreT")));
        assert!(KeyDigest::parse_hex(&hex[1..]).is_err());
        assert!(KeyDigest::parse_hex(&format!("{}g", &hex[1..])).is_err());
        assert!(KeyDigest::parse_hex("é".repeat(32).as_str()).is_err());
    }

    #[test]
    fn grants_name_their_channels() {
        let t = ChannelId::Topic(super::super::TopicId::parse("t").expect("slug"));
        let g = Grant::Channels(vec![t.clone()]);
        assert!(g.covers(&t) && !g.covers(&ChannelId::All) && Grant::All.covers(&t));
        assert_eq!(g.names(), ["topic:t"]);
    }
}
