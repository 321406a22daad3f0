//! Reads a commit will make, fetched before it decides in one round trip (PostgreSQL): a
//! commit decides under the cluster-wide commit lock, one point read at a time, so on a remote
//! store its lookups, not its writes, would set how many commits a second all instances make.
//! On sled every read is local and nothing is read ahead.

use super::{codec, story_index, Store, StoreError, View};
use crate::domain::{Entry, EntryKey, Signature, Story};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// One record a commit is about to read.
#[derive(Debug, Clone, Copy)]
pub enum Ahead<'a> {
    Entry(&'a EntryKey),
    Url(&'a str),
    Text(&'a [u8; 16]),
    Story(&'a EntryKey),
    Signature(&'a EntryKey),
}

/// Stored values read ahead, by full record key (`None`: read, and absent). They stay true while
/// the view's commit decides: every commit takes the commit lock first.
#[derive(Debug, Default)]
pub(super) struct ReadAhead(RefCell<HashMap<Vec<u8>, Option<Vec<u8>>>>);

impl Store {
    fn ahead_key(&self, a: Ahead<'_>) -> Vec<u8> {
        match a {
            Ahead::Entry(k) => self.entries.key(k.as_bytes()),
            Ahead::Url(u) => self.story_idx.key(&story_index::record_key(b"u", u.as_bytes())),
            Ahead::Text(fp) => self.story_idx.key(&story_index::record_key(b"t", fp)),
            Ahead::Story(id) => self.story_idx.key(&story_index::story_key(id)),
            Ahead::Signature(k) => self.story_idx.key(&story_index::record_key(b"g", k.as_bytes())),
        }
    }
}

impl View<'_> {
    /// Whether reading ahead pays: on a remote store each read is a round trip; on sled it is
    /// a lookup in memory, and reading ahead would only repeat it.
    pub fn reads_ahead(&self) -> bool {
        self.store.kv.is_remote()
    }

    /// Reads what `wants` names in one query, so that the commit's later reads of them are
    /// answered from memory. Does nothing on sled.
    pub fn read_ahead<'a>(&self, wants: impl IntoIterator<Item = Ahead<'a>>) -> Result<(), StoreError> {
        if !self.store.kv.is_remote() {
            return Ok(());
        }
        let keys: Vec<Vec<u8>> = {
            let known = self.ahead.0.borrow();
            let fresh: HashSet<Vec<u8>> =
                wants.into_iter().map(|a| self.store.ahead_key(a)).filter(|k| !known.contains_key(k)).collect();
            fresh.into_iter().collect()
        };
        if keys.is_empty() {
            return Ok(());
        }
        let values = self.store.kv.get_many(keys.clone())?;
        let mut known = self.ahead.0.borrow_mut();
        known.extend(keys.into_iter().zip(values.into_iter().map(|v| v.map(|b| b.to_vec()))));
        Ok(())
    }

    /// What was read ahead under `a`; `None` when it was not.
    fn ahead(&self, a: Ahead<'_>) -> Option<Option<Vec<u8>>> {
        let known = self.ahead.0.borrow();
        if known.is_empty() {
            return None;
        }
        known.get(&self.store.ahead_key(a)).cloned()
    }

    pub(super) fn stored_entry(&self, key: &EntryKey) -> Result<Option<Entry>, StoreError> {
        match self.ahead(Ahead::Entry(key)) {
            Some(v) => v.map(|v| codec::decode_entry(&v)).transpose(),
            None => self.store.entry(key),
        }
    }

    pub(super) fn stored_url_owner(&self, url: &str) -> Result<Option<EntryKey>, StoreError> {
        match self.ahead(Ahead::Url(url)) {
            Some(v) => Ok(v.and_then(|v| story_index::key_of(&v))),
            None => self.store.url_owner(url),
        }
    }

    pub(super) fn stored_text_owner(&self, fp: &[u8; 16]) -> Result<Option<EntryKey>, StoreError> {
        match self.ahead(Ahead::Text(fp)) {
            Some(v) => Ok(v.and_then(|v| story_index::key_of(&v))),
            None => self.store.text_owner(fp),
        }
    }

    pub(super) fn stored_story(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        match self.ahead(Ahead::Story(id)) {
            Some(v) => v.map(|v| codec::decode("story", &v)).transpose(),
            None => self.store.story_record(id),
        }
    }

    pub(super) fn stored_signature(&self, key: &EntryKey) -> Result<Option<Signature>, StoreError> {
        match self.ahead(Ahead::Signature(key)) {
            Some(v) => Ok(v.and_then(|v| story_index::decode_sig(&v))),
            None => self.store.signature(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_place::{on_both_backends, Place};
    use super::*;
    use crate::domain::{Change, IndexWrite, SourceId};

    on_both_backends!(reads_ahead_answer_from_memory_on_a_remote_store_only);

    fn reads_ahead_answer_from_memory_on_a_remote_store_only(place: &Place) {
        let store = place.open();
        let e = crate::domain::test_entry("s", "a", "2026-11-20T00:00:00Z");
        let absent = crate::domain::test_entry("s", "b", "2026-11-20T00:00:00Z").key;
        let sig = [7u32; crate::domain::SIGNATURE_LEN];
        let index = vec![
            IndexWrite::Url("n.example/a".into(), e.key),
            IndexWrite::Text([1; 16], e.key),
            IndexWrite::Sig(e.key, e.published, sig),
        ];
        let source = SourceId::parse("s").expect("slug");
        let prepared = super::super::Prepared { changes: vec![Change::New(e.clone())], index, ..Default::default() };
        store.commit_poll_with(&source, |_| Ok(prepared)).expect("commit");
        let view = store.view();
        let wants = [Ahead::Entry(&e.key), Ahead::Url("n.example/a"), Ahead::Text(&[1; 16])];
        view.read_ahead(wants.into_iter().chain([Ahead::Signature(&e.key), Ahead::Entry(&absent)])).expect("ahead");
        let read = |v: &View<'_>| {
            let owners = (v.url_owner("n.example/a").expect("url"), v.text_owner(&[1; 16]).expect("text"));
            let entries = (v.entry(&e.key).expect("entry").map(|e| e.key), v.entry(&absent).expect("absent"));
            (owners, entries, v.signature(&e.key).expect("signature"))
        };
        let stored = ((Some(e.key), Some(e.key)), (Some(e.key), None), Some(sig));
        assert_eq!(read(&view), stored, "read ahead or not, the view reads what is stored");
        // Records changed behind the view's back (never while a commit decides): only a view that
        // read ahead still answers from memory.
        store.entries.remove(e.key.as_bytes()).expect("remove");
        store.story_idx.remove(story_index::record_key(b"u", b"n.example/a")).expect("remove");
        let remote = store.kv.is_remote();
        let after = read(&view);
        assert_eq!(after.1 .0.is_some(), remote, "the entry comes from memory only on PostgreSQL");
        assert_eq!(after.0 .0.is_some(), remote, "so does the URL's owner");
        assert_eq!(read(&store.view()).1 .0, None, "a fresh view reads the store");
    }
}
