//! WebSub subscriptions as records (`w` + id): written and flushed before the caller goes on, so
//! a delivery position acknowledged survives `kill -9`. What a record means is `websub`'s.

use super::{codec, Store, StoreError};
use serde::{de::DeserializeOwned, Serialize};

impl Store {
    /// Writes (or replaces) each record under its id, then flushes once for all of them.
    pub fn put_subscriptions<T: Serialize>(&self, records: &[(&str, &T)]) -> Result<(), StoreError> {
        for (id, record) in records {
            self.subscriptions.insert(id.as_bytes(), codec::encode(record)?)?;
        }
        self.kv.flush()?;
        Ok(())
    }

    /// Removes the records under `ids` (absent ones are no error), then flushes.
    pub fn delete_subscriptions(&self, ids: &[&str]) -> Result<(), StoreError> {
        for id in ids {
            self.subscriptions.remove(id.as_bytes())?;
        }
        self.kv.flush()?;
        Ok(())
    }

    /// Every stored subscription record, in id order.
    pub fn subscriptions<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for item in self.subscriptions.scan_prefix([]) {
            out.push(codec::decode("subscription", &item?.1)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_place::{on_both_backends, Place};

    on_both_backends!(records_survive_a_reopen_and_deletes_remove_them);

    fn records_survive_a_reopen_and_deletes_remove_them(place: &Place) {
        {
            let store = place.open();
            let (a, b) = (vec!["first".to_owned()], vec!["second".to_owned(), "x".repeat(400)]);
            store.put_subscriptions(&[("b", &b), ("a", &a)]).expect("put");
            store.delete_subscriptions(&["a", "never-stored"]).expect("delete");
            assert_eq!(store.entry_count(), 0, "subscriptions are not entries");
        }
        let store = place.open();
        let kept: Vec<Vec<String>> = store.subscriptions().expect("read");
        assert_eq!(kept, vec![vec!["second".to_owned(), "x".repeat(400)]]);
    }
}
