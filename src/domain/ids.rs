//! Newtypes for identifiers: parsed and validated once, then trusted everywhere.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit")]
    BadSlug,
    #[error("not a valid URL: {0}")]
    BadUrl(String),
    #[error("unsupported scheme {0:?}: use http, https or file")]
    BadScheme(String),
    #[error("not an entry key (expected a UUID)")]
    BadKey,
}

/// A source's slug as configured (`press-office`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceId(String);

impl SourceId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok_len = (1..=64).contains(&s.len());
        let ok_first = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let ok_chars = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok_len && ok_first && ok_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::BadSlug)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SourceId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<SourceId> for String {
    fn from(id: SourceId) -> String {
        id.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A topic channel's slug as configured (`south-caucasus`); same rules as a source id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TopicId(String);

impl TopicId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        SourceId::parse(s).map(|id| Self(id.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TopicId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<TopicId> for String {
    fn from(id: TopicId) -> String {
        id.0
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a source's feed lives: a web URL, or a local file (demo feeds, tests, mirrors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedUrl {
    Http(Url),
    File(PathBuf),
}

impl FeedUrl {
    /// Parses `http(s)://...` or `file:relative/or/absolute`; relative files resolve against `base_dir`.
    pub fn parse(raw: &str, base_dir: &Path) -> Result<Self, IdError> {
        if let Some(rest) = raw.strip_prefix("file:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            if rest.is_empty() {
                return Err(IdError::BadUrl(raw.to_owned()));
            }
            // Absolute, so the file has a `file:` URL its relative links resolve against.
            let path = base_dir.join(rest);
            return Ok(Self::File(std::path::absolute(&path).unwrap_or(path)));
        }
        let url = Url::parse(raw).map_err(|e| IdError::BadUrl(format!("{raw}: {e}")))?;
        match url.scheme() {
            "http" | "https" if url.host_str().is_some() => Ok(Self::Http(url)),
            "http" | "https" => Err(IdError::BadUrl(format!("{raw}: no host"))),
            other => Err(IdError::BadScheme(other.to_owned())),
        }
    }

    /// The host that politeness limits are counted against (`file` sources share one local bucket).
    pub fn host_key(&self) -> String {
        match self {
            Self::Http(url) => url.host_str().unwrap_or_default().to_ascii_lowercase(),
            Self::File(_) => "file".to_owned(),
        }
    }

    /// The base against which relative links in the feed resolve.
    pub fn base_url(&self) -> Option<Url> {
        match self {
            Self::Http(url) => Some(url.clone()),
            Self::File(path) => Url::from_file_path(path).ok(),
        }
    }
}

impl fmt::Display for FeedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(url) => f.write_str(url.as_str()),
            Self::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// The stable identity of an item within newsriver: a name-based UUID (version 8, SHA-256)
/// over the source and the item's identity. Same input, same key, on every machine, forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EntryKey([u8; 16]);

impl EntryKey {
    pub fn derive(source: &SourceId, kind: &str, identity: &str) -> Self {
        let mut h = Sha256::new();
        for part in [source.as_str(), kind, identity] {
            // Length-prefix each part so ("ab","c") and ("a","bc") never collide.
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let digest = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
        b[6] = (b[6] & 0x0f) | 0x80; // version 8
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        Self(b)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn from_bytes(b: [u8; 16]) -> Self {
        Self(b)
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let hex: String = s.strip_prefix("urn:uuid:").unwrap_or(s).chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return Err(IdError::BadKey);
        }
        let mut b = [0u8; 16];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| IdError::BadKey)?;
        }
        Ok(Self(b))
    }

    /// The id we publish in every output format (`urn:uuid:...`): valid as an Atom id,
    /// an RSS non-permalink GUID and a JSON Feed id.
    pub fn urn(&self) -> String {
        format!("urn:uuid:{self}")
    }
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl TryFrom<String> for EntryKey {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<EntryKey> for String {
    fn from(k: EntryKey) -> String {
        k.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(SourceId::parse("press-office").is_ok());
        assert!(SourceId::parse("a_1").is_ok());
        for bad in ["", "-x", "Press", "a b", "é", &"x".repeat(65)] {
            assert_eq!(SourceId::parse(bad), Err(IdError::BadSlug), "{bad:?}");
        }
    }

    #[test]
    fn entry_key_is_stable_and_round_trips() {
        let s = SourceId::parse("wire").expect("slug");
        let k = EntryKey::derive(&s, "guid", "tag:x,2026:1");
        assert_eq!(k, EntryKey::derive(&s, "guid", "tag:x,2026:1"));
        assert_ne!(k, EntryKey::derive(&s, "link", "tag:x,2026:1"));
        assert_ne!(EntryKey::derive(&s, "ab", "c"), EntryKey::derive(&s, "a", "bc"));
        assert_eq!(EntryKey::parse(&k.to_string()), Ok(k));
        assert_eq!(EntryKey::parse(&k.urn()), Ok(k));
        let text = k.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "8", "UUID version 8");
        assert!(EntryKey::parse("nope").is_err());
    }

    #[test]
    fn feed_urls() {
        let base = Path::new("/etc/nr");
        assert_eq!(FeedUrl::parse("file:demo/a.xml", base), Ok(FeedUrl::File(PathBuf::from("/etc/nr/demo/a.xml"))));
        assert!(matches!(FeedUrl::parse("https://Example.org/rss", base), Ok(FeedUrl::Http(_))));
        assert!(matches!(FeedUrl::parse("ftp://x/y", base), Err(IdError::BadScheme(_))));
        assert!(FeedUrl::parse("not a url", base).is_err());
        assert_eq!(FeedUrl::parse("https://Example.org/rss", base).map(|u| u.host_key()), Ok("example.org".into()));
    }
}
