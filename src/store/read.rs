//! Reading: single entries, channel pages (newest first, by position), and the change log.

use super::records::Bytes;
use super::{codec, keys, Store, StoreError};
use crate::domain::{ChannelId, Entry, EntryKey, SourceId, SourceState};
use std::collections::HashMap;

/// Items changed after a change-log position, oldest first, and where to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SincePage {
    pub entries: Vec<Entry>,
    /// The position to pass next time; equals the input when nothing new was found.
    pub cursor: u64,
}

/// How many change-log records one `since` request may scan for a sparse channel.
const SINCE_SCAN_BUDGET: usize = 20_000;

impl Store {
    pub fn entry(&self, key: &EntryKey) -> Result<Option<Entry>, StoreError> {
        self.entries.get(key.as_bytes())?.map(|v| codec::decode_entry(&v)).transpose()
    }

    /// The stored versions of whichever of `keys` exist.
    pub fn entries_by_key<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a EntryKey>,
    ) -> Result<HashMap<EntryKey, Entry>, StoreError> {
        let keys: Vec<&EntryKey> = keys.into_iter().collect();
        let wanted: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
        let mut out = HashMap::new();
        for (k, v) in keys.into_iter().zip(self.entries.get_many(&wanted)?) {
            if let Some(v) = v {
                out.insert(*k, codec::decode_entry(&v)?);
            }
        }
        Ok(out)
    }

    pub fn source_state(&self, id: &SourceId) -> Result<Option<SourceState>, StoreError> {
        self.sources.get(id.as_str())?.map(|v| codec::decode("source state", &v)).transpose()
    }

    /// A channel's entries, newest first by published time, strictly older than `before`.
    pub fn page(
        &self,
        ch: &ChannelId,
        limit: usize,
        before: Option<&[u8; keys::POS_LEN]>,
    ) -> Result<Vec<Entry>, StoreError> {
        let keys = self.channel_keys(ch, limit, before)?;
        if self.kv.is_remote() {
            // Every read is a round trip (PostgreSQL): a batch of entries a query.
            return self.map_entries(&keys, &|e| e);
        }
        keys.iter().filter_map(|k| self.entry(k).transpose()).collect()
    }

    /// The keys of a channel's newest `limit` entries strictly older than `before`.
    fn channel_keys(
        &self,
        ch: &ChannelId,
        limit: usize,
        before: Option<&[u8; keys::POS_LEN]>,
    ) -> Result<Vec<EntryKey>, StoreError> {
        let prefix = keys::channel_prefix(ch);
        let end = before.map(|pos| [prefix.as_slice(), pos.as_slice()].concat());
        let iter = match &end {
            Some(end) => self.channels.range(&prefix, Some(end)),
            None => self.channels.scan_prefix(&prefix),
        };
        iter.rev().take(limit).map(|item| channel_entry(&item?.0)).collect()
    }

    /// Newest `limit` entries of a channel.
    pub fn latest(&self, ch: &ChannelId, limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.page(ch, limit, None)
    }

    /// `latest`, each entry passed through `f` as it is read, on every core: a start that
    /// derives something from thousands of entries waits for the slowest core, not their sum.
    /// In channel order (newest first).
    pub fn map_latest<T: Send>(
        &self,
        ch: &ChannelId,
        limit: usize,
        f: impl Fn(Entry) -> T + Sync,
    ) -> Result<Vec<T>, StoreError> {
        let keys = self.channel_keys(ch, limit, None)?;
        let mut out = Vec::with_capacity(keys.len());
        for part in crate::runtime::par_chunks(&keys, |part| self.map_entries(part, &f)) {
            out.extend(part?);
        }
        Ok(out)
    }

    /// The entries under `keys` that exist, in that order, through `f`; `READ_BATCH` a query.
    fn map_entries<T>(&self, keys: &[EntryKey], f: &impl Fn(Entry) -> T) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for batch in keys.chunks(READ_BATCH) {
            let wanted: Vec<Vec<u8>> = batch.iter().map(|k| k.as_bytes().to_vec()).collect();
            for v in self.entries.get_many(&wanted)?.into_iter().flatten() {
                out.push(f(codec::decode_entry(&v)?));
            }
        }
        Ok(out)
    }

    /// Entries of `ch` added or updated after change-log position `after`, oldest first.
    pub fn since(&self, ch: &ChannelId, after: u64, limit: usize) -> Result<SincePage, StoreError> {
        if self.kv.is_remote() {
            return self.since_batched(ch, after, limit);
        }
        let mut page = SincePage { entries: Vec::new(), cursor: after };
        let start = after.saturating_add(1).to_be_bytes();
        for item in self.changes.range(&start, None).take(SINCE_SCAN_BUDGET) {
            let (seq, key) = log_record(item?)?;
            page.cursor = seq;
            let Some(e) = self.entry(&key)? else { continue };
            if e.seq == seq && e.channels().contains(ch) {
                page.entries.push(e);
                if page.entries.len() >= limit {
                    break;
                }
            }
        }
        Ok(page)
    }

    /// `since` where every read is a round trip (PostgreSQL): the entries of a run of change-log
    /// records are read in one query.
    fn since_batched(&self, ch: &ChannelId, after: u64, limit: usize) -> Result<SincePage, StoreError> {
        let mut page = SincePage { entries: Vec::new(), cursor: after };
        let start = after.saturating_add(1).to_be_bytes();
        let mut log = self.changes.range(&start, None).take(SINCE_SCAN_BUDGET).peekable();
        while log.peek().is_some() {
            let run: Vec<(u64, EntryKey)> = log
                .by_ref()
                .take(limit.clamp(16, READ_BATCH))
                .map(|item| log_record(item?))
                .collect::<Result<_, _>>()?;
            let wanted: Vec<Vec<u8>> = run.iter().map(|(_, k)| k.as_bytes().to_vec()).collect();
            for ((seq, _), value) in run.iter().zip(self.entries.get_many(&wanted)?) {
                page.cursor = *seq;
                let Some(value) = value else { continue };
                let e = codec::decode_entry(&value)?;
                if e.seq == *seq && e.channels().contains(ch) {
                    page.entries.push(e);
                    if page.entries.len() >= limit {
                        return Ok(page);
                    }
                }
            }
        }
        Ok(page)
    }

    /// The newest change-log position: a `since` cursor meaning "from now on".
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        match self.changes.last()? {
            Some((k, _)) => Ok(u64::from_be_bytes(k.as_ref().try_into().map_err(|_| corrupt_log())?)),
            None => Ok(0),
        }
    }

    /// Every stored entry, in key order, for maintenance passes such as topic re-routing, until
    /// `f` breaks.
    pub fn for_each_entry(
        &self,
        mut f: impl FnMut(Entry) -> Result<std::ops::ControlFlow<()>, StoreError>,
    ) -> Result<(), StoreError> {
        for item in self.entries.scan_prefix([]) {
            if f(codec::decode_entry(&item?.1)?)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Entries stored, from a counter kept with every commit (no scan).
    pub fn entry_count(&self) -> usize {
        let stored = self.counts.get(keys::ENTRY_COUNT).ok().flatten();
        stored.and_then(|v| v.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes) as usize
    }
}

/// Entries read in one query by `page_batched`.
const READ_BATCH: usize = 256;

fn channel_entry(k: &[u8]) -> Result<EntryKey, StoreError> {
    keys::entry_key_suffix(k)
        .ok_or(StoreError::Corrupt { what: "channel index key", detail: format!("{} bytes", k.len()) })
}

/// A change-log record: its sequence number and the entry it names.
fn log_record((seq, key): (Bytes, Bytes)) -> Result<(u64, EntryKey), StoreError> {
    let seq = u64::from_be_bytes(seq.as_ref().try_into().map_err(|_| corrupt_log())?);
    Ok((seq, EntryKey::from_bytes(key.as_ref().try_into().map_err(|_| corrupt_log())?)))
}

fn corrupt_log() -> StoreError {
    StoreError::Corrupt { what: "change log", detail: "malformed record".into() }
}
