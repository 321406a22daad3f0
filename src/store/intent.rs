//! All-or-nothing commits without sled batches. `Tree::apply_batch` takes a process-wide write
//! lock that stalls every read (story matching, planning, HTTP) for as long as the batch takes
//! and waits for fsyncs in flight, so polls queued behind each other's writes. A commit writes
//! one key at a time instead, in this order, on its own small tree:
//!
//! 1. `begin`: the keys of the entries it writes, with the stored value of those it replaces;
//! 2. the entry values;
//! 3. `intent`: every other write (indexes, channel lists, counters, source state);
//! 4. those writes; then `begin` and `intent` are removed, in that order.
//!
//! sled recovers a prefix of its log (it stops at the first torn message), so a start after a
//! crash finds: `intent` → the entries are all there, and the writes of step 4 are made again;
//! `begin` alone → the entries written so far are rolled back; neither → nothing was under way.
//! Every write is a put of a final value or a delete (counters hold absolute values), so making
//! one twice changes nothing. Entry values, the bulk of a commit, are logged only once.

use super::records::Batch;
use super::StoreError;

const BEGIN: &[u8] = b"begin";
const INTENT: &[u8] = b"intent";

/// Makes a commit's writes: `entries` as (key, value, replaces a stored value), then `rest`.
/// Callers make one commit at a time.
pub(super) fn commit(
    log: &sled::Tree,
    data: &sled::Tree,
    entries: Vec<(Vec<u8>, Vec<u8>, bool)>,
    rest: Batch,
) -> Result<(), StoreError> {
    let mut undo = Batch::default();
    for (key, _, replaces) in &entries {
        let stored = if *replaces { data.get(key)?.map(|v| v.to_vec()) } else { None };
        undo.0.push((key.clone(), stored));
    }
    log.insert(BEGIN, encode(&undo))?;
    for (key, value, _) in entries {
        data.insert(key, value)?;
    }
    log.insert(INTENT, encode(&rest))?;
    write_all(data, rest)?;
    log.remove(BEGIN)?;
    log.remove(INTENT)?;
    Ok(())
}

/// At start: finishes or rolls back a commit a crash interrupted. Returns what it did.
pub(super) fn recover(log: &sled::Tree, data: &sled::Tree) -> Result<Option<&'static str>, StoreError> {
    let done = if let Some(intent) = log.get(INTENT)? {
        write_all(data, decode(&intent)?)?;
        Some("finished")
    } else if let Some(begin) = log.get(BEGIN)? {
        write_all(data, decode(&begin)?)?;
        Some("rolled back")
    } else {
        None
    };
    log.remove(BEGIN)?;
    log.remove(INTENT)?;
    Ok(done)
}

fn write_all(data: &sled::Tree, batch: Batch) -> Result<(), StoreError> {
    for (k, v) in batch.0 {
        match v {
            Some(v) => drop(data.insert(k, v)?),
            None => drop(data.remove(k)?),
        }
    }
    Ok(())
}

/// `u32` count, then per write: `u32` key length, key, `0` (delete) or `1` + `u32` length + value.
fn encode(batch: &Batch) -> Vec<u8> {
    let size: usize = batch.0.iter().map(|(k, v)| 9 + k.len() + v.as_ref().map_or(0, Vec::len)).sum();
    let mut out = Vec::with_capacity(4 + size);
    out.extend_from_slice(&len32(batch.0.len()).to_be_bytes());
    for (k, v) in &batch.0 {
        out.extend_from_slice(&len32(k.len()).to_be_bytes());
        out.extend_from_slice(k);
        match v {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&len32(v.len()).to_be_bytes());
                out.extend_from_slice(v);
            }
        }
    }
    out
}

fn len32(n: usize) -> u32 {
    // Keys and values are far below 4 GiB: item bodies are capped at 256 KiB.
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn decode(bytes: &[u8]) -> Result<Batch, StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt { what: "interrupted commit", detail: detail.to_owned() };
    let mut r = Reader(bytes);
    let n = r.u32().ok_or_else(|| corrupt("no count"))?;
    let mut batch = Batch::default();
    for _ in 0..n {
        let k = r.chunk().ok_or_else(|| corrupt("truncated key"))?;
        let v = match r.take(1).ok_or_else(|| corrupt("truncated write"))? {
            [0] => None,
            [1] => Some(r.chunk().ok_or_else(|| corrupt("truncated value"))?.to_vec()),
            _ => return Err(corrupt("unknown write kind")),
        };
        batch.0.push((k.to_vec(), v));
    }
    if !r.0.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(batch)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<usize> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?) as usize)
    }

    fn chunk(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trees() -> (sled::Db, sled::Tree, sled::Tree) {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let (log, data) = (db.open_tree("intent").expect("tree"), db.open_tree("data").expect("tree"));
        (db, log, data)
    }

    fn rest() -> Batch {
        Batch(vec![(b"cnew".to_vec(), Some(vec![])), (b"cgone".to_vec(), None), (b"n#".to_vec(), Some(vec![2]))])
    }

    fn get(t: &sled::Tree, k: &[u8]) -> Option<Vec<u8>> {
        t.get(k).expect("get").map(|v| v.to_vec())
    }

    #[test]
    fn records_round_trip_and_damage_is_an_error() {
        let b = rest();
        let bytes = encode(&b);
        assert_eq!(decode(&bytes).expect("decode").0, b.0);
        for cut in [0, 3, 9, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&[bytes.as_slice(), &[0]].concat()).is_err());
    }

    #[test]
    fn a_commit_writes_everything_and_leaves_no_record() {
        let (_db, log, data) = trees();
        data.insert(b"eold", b"v1").expect("insert");
        data.insert(b"cgone", b"").expect("insert");
        let entries = vec![(b"eold".to_vec(), b"v2".to_vec(), true), (b"enew".to_vec(), b"n".to_vec(), false)];
        commit(&log, &data, entries, rest()).expect("commit");
        assert_eq!((get(&data, b"eold"), get(&data, b"enew")), (Some(b"v2".to_vec()), Some(b"n".to_vec())));
        assert_eq!((get(&data, b"cgone"), get(&data, b"n#")), (None, Some(vec![2])));
        assert!(log.is_empty());
        assert_eq!(recover(&log, &data).expect("recover"), None);
    }

    #[test]
    fn a_start_finishes_a_commit_whose_intent_was_written() {
        let (_db, log, data) = trees();
        data.insert(b"cgone", b"").expect("insert");
        // The crash came after the intent and one of its writes.
        log.insert(BEGIN, encode(&Batch(vec![(b"enew".to_vec(), None)]))).expect("begin");
        data.insert(b"enew", b"n").expect("entry");
        log.insert(INTENT, encode(&rest())).expect("intent");
        data.insert(b"cnew", b"").expect("first write");
        assert_eq!(recover(&log, &data).expect("recover"), Some("finished"));
        assert_eq!(
            (get(&data, b"enew"), get(&data, b"cgone"), get(&data, b"n#")),
            (Some(b"n".to_vec()), None, Some(vec![2]))
        );
        assert!(log.is_empty());
    }

    #[test]
    fn a_start_rolls_back_entries_written_before_the_intent() {
        let (_db, log, data) = trees();
        data.insert(b"eold", b"v1").expect("insert");
        let undo = Batch(vec![(b"eold".to_vec(), Some(b"v1".to_vec())), (b"enew".to_vec(), None)]);
        log.insert(BEGIN, encode(&undo)).expect("begin");
        data.insert(b"eold", b"v2").expect("entry");
        data.insert(b"enew", b"n").expect("entry");
        assert_eq!(recover(&log, &data).expect("recover"), Some("rolled back"));
        assert_eq!((get(&data, b"eold"), get(&data, b"enew")), (Some(b"v1".to_vec()), None));
        assert!(log.is_empty());
    }
}
