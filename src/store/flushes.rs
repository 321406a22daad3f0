//! Flushes shared by the commits waiting on them. sled's flush seals and syncs the log buffer
//! of whoever asks, so commits flushing one after another each wrote and synced a sliver of the
//! log (the same disk page again and again). Here a flush asked for while another runs waits
//! for it to end, and then one flush covers every caller that asked meanwhile. Each caller
//! still returns only after a flush that began after its call: nothing is acknowledged before
//! it is durable.

use super::StoreError;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The flushes of one store, numbered in the order they begin.
#[derive(Debug, Default)]
pub(super) struct Flushes {
    state: Mutex<State>,
    ended: Condvar,
}

#[derive(Debug, Default)]
struct State {
    begun: u64,
    /// The number of the last flush to end, and of the last one that succeeded.
    ended: u64,
    succeeded: u64,
    running: bool,
    /// Why the last failed flush failed.
    error: String,
}

impl Flushes {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once a flush that began after this call has ended: `flush` runs here unless
    /// another caller's run covers this one.
    pub(super) fn run(&self, flush: impl FnOnce() -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut s = self.lock();
        // A flush under way may have begun before the caller's writes: only the next one counts.
        let needed = s.begun + 1;
        while s.running && s.ended < needed {
            s = self.ended.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        if s.ended >= needed {
            return if s.succeeded >= needed { Ok(()) } else { Err(StoreError::Io(s.error.clone())) };
        }
        s.running = true;
        s.begun += 1;
        let mine = Ending { flushes: self, number: s.begun, ok: false };
        drop(s);
        let out = flush();
        mine.end(out.as_ref().err().map(ToString::to_string));
        out
    }
}

/// Ends a flush's turn even if the flush panics, so its waiters never wait forever.
struct Ending<'a> {
    flushes: &'a Flushes,
    number: u64,
    ok: bool,
}

impl Ending<'_> {
    fn end(mut self, error: Option<String>) {
        self.ok = error.is_none();
        if let Some(e) = error {
            self.flushes.lock().error = e;
        }
    }
}

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        let mut s = self.flushes.lock();
        s.running = false;
        s.ended = self.number;
        if self.ok {
            s.succeeded = self.number;
        } else if s.error.is_empty() {
            s.error = "the store's flush was interrupted".into();
        }
        drop(s);
        self.flushes.ended.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    /// Callers arriving while a flush runs share the next one: fewer flushes than callers, and
    /// every caller's flush began after it asked.
    #[test]
    fn callers_waiting_on_a_flush_share_the_next_one() {
        let flushes = Arc::new(Flushes::default());
        let ran = Arc::new(AtomicUsize::new(0));
        let (gate, go) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(9)));
        let first = {
            let (flushes, ran, gate) = (flushes.clone(), ran.clone(), gate.clone());
            std::thread::spawn(move || {
                flushes.run(|| {
                    gate.wait();
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
            })
        };
        gate.wait();
        let asked_after_first_began: Vec<_> = (0..8)
            .map(|_| {
                let (flushes, ran, go) = (flushes.clone(), ran.clone(), go.clone());
                std::thread::spawn(move || {
                    go.wait();
                    flushes.run(|| {
                        ran.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    })?;
                    // The flush that covered this caller began after it asked: the first one
                    // had not ended then, so at least one more ran.
                    Ok::<usize, StoreError>(ran.load(Ordering::SeqCst))
                })
            })
            .collect();
        go.wait();
        first.join().expect("first").expect("flush");
        for t in asked_after_first_began {
            assert!(t.join().expect("caller").expect("flush") >= 2);
        }
        assert!(ran.load(Ordering::SeqCst) < 9, "{} flushes for 9 callers", ran.load(Ordering::SeqCst));
    }

    #[test]
    fn a_failed_flush_fails_its_callers_and_the_next_one_may_succeed() {
        let flushes = Flushes::default();
        let failed = flushes.run(|| Err(StoreError::Io("disk full".into())));
        assert!(matches!(failed, Err(StoreError::Io(ref e)) if e == "disk full"), "{failed:?}");
        assert!(flushes.run(|| Ok(())).is_ok());
    }
}
