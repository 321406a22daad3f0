//! The binary layout of a stored `Entry` (value version 3, see `codec.rs`): fields in a fixed
//! order, lengths as LEB128 varints, times as seconds + nanoseconds, keys and hex digests as
//! raw bytes. JSON spent a third of an entry's stored bytes on field names, UUID strings and
//! RFC 3339 dates, and its encoding cost more CPU than the LZ4 pass that follows it.
//!
//! A field added later means a new version byte; this layout is never changed in place.

use crate::domain::{ChannelId, Enclosure, Entry, EntryKey, EventPlace, IdentityKind, SourceId, TopicId, TopicMatch};
use chrono::{DateTime, Utc};

/// Appends `e` in layout 3 (without the version byte).
pub fn write(e: &Entry, out: &mut Vec<u8>) {
    out.extend_from_slice(e.key.as_bytes());
    put_str(out, e.source.as_str());
    out.push(kind_byte(&e.identity_kind));
    for s in [&e.identity, &e.title] {
        put_str(out, s);
    }
    for s in [&e.link, &e.story_url, &e.summary, &e.content] {
        put_opt_str(out, s.as_deref());
    }
    put_strs(out, &e.authors);
    put_strs(out, &e.categories);
    put_len(out, e.enclosures.len());
    for x in &e.enclosures {
        put_str(out, &x.url);
        put_opt_str(out, x.mime_type.as_deref());
        match x.length {
            Some(n) => {
                out.push(1);
                put_varint(out, n);
            }
            None => out.push(0),
        }
        put_opt_str(out, x.credit.as_deref());
    }
    for t in [e.published, e.updated, e.first_seen] {
        put_time(out, t);
    }
    // Bit 3 (private) was added later without a new layout byte: every layout before it wrote
    // the bit as 0, which reads as what those entries were (public).
    let flags = u8::from(e.date_repaired) | u8::from(e.held_back) << 1 | u8::from(e.secondary) << 2;
    out.push(flags | u8::from(e.private) << 3);
    put_digest(out, &e.fingerprint);
    put_digest(out, &e.revision);
    put_len(out, e.topics.len());
    for t in &e.topics {
        put_str(out, t.topic.as_str());
        put_str(out, &t.rule);
    }
    put_varint(out, e.seq);
    match &e.story {
        Some(k) => {
            out.push(1);
            out.extend_from_slice(k.as_bytes());
        }
        None => out.push(0),
    }
    put_len(out, e.story_topics.len());
    for t in &e.story_topics {
        put_str(out, t.as_str());
    }
}

/// Reads an entry written by `write`; any damage is an error naming what was wrong.
pub fn read(bytes: &[u8]) -> Result<Entry, String> {
    let (entry, rest) = read_prefix(bytes)?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the entry", rest.len()));
    }
    Ok(entry)
}

/// Reads an entry written by `write` at the start of `bytes`, and returns what follows it.
pub fn read_prefix(bytes: &[u8]) -> Result<(Entry, &[u8]), String> {
    let mut r = Reader { rest: bytes };
    let key = r.key()?;
    let source = SourceId::parse(r.str()?).map_err(|e| format!("source: {e}"))?;
    let identity_kind = kind_of(r.byte()?)?;
    let (identity, title) = (r.string()?, r.string()?);
    let (link, story_url, summary, content) = (r.opt_string()?, r.opt_string()?, r.opt_string()?, r.opt_string()?);
    let (authors, categories) = (r.strings()?, r.strings()?);
    let enclosures = r.list(|r| {
        let (url, mime_type) = (r.string()?, r.opt_string()?);
        let length = match r.byte()? {
            0 => None,
            1 => Some(r.varint()?),
            b => return Err(format!("length marker {b}")),
        };
        Ok(Enclosure { url, mime_type, length, credit: r.opt_string()? })
    })?;
    let (published, updated, first_seen) = (r.time()?, r.time()?, r.time()?);
    let flags = r.byte()?;
    let (fingerprint, revision) = (r.digest()?, r.digest()?);
    let topics = r.list(|r| Ok(TopicMatch { topic: r.topic()?, rule: r.string()? }))?;
    let seq = r.varint()?;
    let story = match r.byte()? {
        0 => None,
        1 => Some(r.key()?),
        b => return Err(format!("story marker {b}")),
    };
    let story_topics = r.list(Reader::topic)?;
    let entry = Entry {
        key,
        source,
        identity_kind,
        identity,
        title,
        link,
        story_url,
        summary,
        content,
        authors,
        categories,
        enclosures,
        published,
        updated,
        first_seen,
        date_repaired: flags & 1 != 0,
        fingerprint,
        revision,
        topics,
        held_back: flags & 2 != 0,
        seq,
        story,
        secondary: flags & 4 != 0,
        story_topics,
        article: None,
        event: None,
        private: flags & 8 != 0,
    };
    Ok((entry, r.rest))
}

/// Appends an entry's event place (layouts 7 and 8): the event id, a primary flag, the
/// channels it is hidden in (0 = merged, 1 + id = a topic) and the topics it shows in for others.
pub fn write_event(p: &EventPlace, out: &mut Vec<u8>) {
    out.extend_from_slice(p.id.as_bytes());
    out.push(u8::from(p.primary));
    put_len(out, p.hidden.len());
    for ch in &p.hidden {
        match ch {
            ChannelId::Topic(t) => {
                out.push(1);
                put_str(out, t.as_str());
            }
            // Only merged and topic channels group by event; a source's never hides an item.
            _ => out.push(0),
        }
    }
    put_len(out, p.topics.len());
    for t in &p.topics {
        put_str(out, t.as_str());
    }
}

/// Reads what `write_event` wrote at the start of `bytes`, and returns what follows it.
pub fn read_event(bytes: &[u8]) -> Result<(EventPlace, &[u8]), String> {
    let mut r = Reader { rest: bytes };
    let id = r.key()?;
    let primary = match r.byte()? {
        0 => false,
        1 => true,
        b => return Err(format!("event primary flag {b}")),
    };
    let hidden = r.list(|r| match r.byte()? {
        0 => Ok(ChannelId::All),
        1 => r.topic().map(ChannelId::Topic),
        b => Err(format!("hidden channel marker {b}")),
    })?;
    let topics = r.list(Reader::topic)?;
    Ok((EventPlace { id, primary, hidden, topics }, r.rest))
}

fn kind_byte(k: &IdentityKind) -> u8 {
    match k {
        IdentityKind::Guid => 0,
        IdentityKind::GuidDisambiguated => 1,
        IdentityKind::Link => 2,
        IdentityKind::ContentHash => 3,
    }
}

fn kind_of(b: u8) -> Result<IdentityKind, String> {
    Ok(match b {
        0 => IdentityKind::Guid,
        1 => IdentityKind::GuidDisambiguated,
        2 => IdentityKind::Link,
        3 => IdentityKind::ContentHash,
        _ => return Err(format!("identity kind {b}")),
    })
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    put_varint(out, n as u64);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// `None` is 0; `Some(s)` is its length + 1, then the bytes.
fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            put_len(out, s.len() + 1);
            out.extend_from_slice(s.as_bytes());
        }
        None => out.push(0),
    }
}

fn put_strs(out: &mut Vec<u8>, items: &[String]) {
    put_len(out, items.len());
    for s in items {
        put_str(out, s);
    }
}

/// Seconds (zigzag) and nanoseconds: exact for any `DateTime<Utc>`.
fn put_time(out: &mut Vec<u8>, t: DateTime<Utc>) {
    let secs = t.timestamp();
    put_varint(out, ((secs << 1) ^ (secs >> 63)) as u64);
    put_varint(out, u64::from(t.timestamp_subsec_nanos()));
}

/// Lowercase hex digests (what normalization makes) as their bytes; anything else as text.
fn put_digest(out: &mut Vec<u8>, s: &str) {
    let packable = s.len() % 2 == 0 && s.len() <= 128 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if packable {
        out.push(1);
        put_len(out, s.len() / 2);
        out.extend(s.as_bytes().chunks(2).map(|p| nibble(p[0]) << 4 | nibble(p[1])));
    } else {
        out.push(0);
        put_str(out, s);
    }
}

fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        _ => c - b'a' + 10,
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.rest.len() {
            return Err(format!("{n} bytes wanted, {} left", self.rest.len()));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("varint longer than 64 bits".into())
    }

    fn len(&mut self) -> Result<usize, String> {
        usize::try_from(self.varint()?).map_err(|e| e.to_string())
    }

    fn str(&mut self) -> Result<&'a str, String> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|e| e.to_string())
    }

    fn string(&mut self) -> Result<String, String> {
        self.str().map(str::to_owned)
    }

    fn opt_string(&mut self) -> Result<Option<String>, String> {
        match self.len()? {
            0 => Ok(None),
            n => {
                let s = std::str::from_utf8(self.take(n - 1)?).map_err(|e| e.to_string())?;
                Ok(Some(s.to_owned()))
            }
        }
    }

    /// A list of `n` items, each at least one byte: a corrupt count cannot reserve more than
    /// the value holds.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T, String>) -> Result<Vec<T>, String> {
        let n = self.len()?;
        if n > self.rest.len() {
            return Err(format!("{n} items in {} bytes", self.rest.len()));
        }
        (0..n).map(|_| item(self)).collect()
    }

    fn strings(&mut self) -> Result<Vec<String>, String> {
        self.list(Reader::string)
    }

    fn topic(&mut self) -> Result<TopicId, String> {
        TopicId::parse(self.str()?).map_err(|e| format!("topic: {e}"))
    }

    fn key(&mut self) -> Result<EntryKey, String> {
        let b: [u8; 16] = self.take(16)?.try_into().map_err(|_| "short key".to_owned())?;
        Ok(EntryKey::from_bytes(b))
    }

    fn time(&mut self) -> Result<DateTime<Utc>, String> {
        let z = self.varint()?;
        let secs = (z >> 1) as i64 ^ -((z & 1) as i64);
        let nanos = u32::try_from(self.varint()?).map_err(|e| e.to_string())?;
        DateTime::from_timestamp(secs, nanos).ok_or_else(|| format!("time {secs}.{nanos} out of range"))
    }

    fn digest(&mut self) -> Result<String, String> {
        match self.byte()? {
            0 => self.string(),
            1 => {
                let n = self.len()?;
                Ok(crate::domain::hex(self.take(n)?))
            }
            b => Err(format!("digest marker {b}")),
        }
    }
}

#[cfg(test)]
#[path = "entry_codec_tests.rs"]
mod tests;
