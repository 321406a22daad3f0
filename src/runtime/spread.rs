//! How the serving threads share connections: each counts the connections it holds, and one
//! that accepts a connection while another holds fewer hands it over. All accept on one socket,
//! so a burst of connects goes to whichever thread wakes first: wrk's 64 at once could all land
//! on one thread, which then served 55k answers a second against 95k when they were spread.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A connection on its way to another serving thread: its socket (out of the accepting
/// thread's reactor), its client, and its count for that thread.
pub(super) type Handed = (std::net::TcpStream, SocketAddr, Held);

/// The connections each serving thread holds, and where to hand one over.
#[derive(Debug)]
pub(super) struct Spread {
    open: Vec<AtomicUsize>,
    inboxes: Vec<mpsc::UnboundedSender<Handed>>,
}

impl Spread {
    /// The spread of `threads` serving threads, with each one's inbox.
    pub(super) fn new(threads: usize) -> (Arc<Self>, Vec<mpsc::UnboundedReceiver<Handed>>) {
        let (inboxes, receivers) = (0..threads).map(|_| mpsc::unbounded_channel()).unzip();
        let open = (0..threads).map(|_| AtomicUsize::new(0)).collect();
        (Arc::new(Self { open, inboxes }), receivers)
    }

    /// Which thread takes a connection thread `me` accepted: the one holding the fewest, `me`
    /// when it holds as few as any. Counted for it at once, so a burst is spread as it comes.
    pub(super) fn take(self: &Arc<Self>, me: usize) -> (usize, Held) {
        let counts: Vec<usize> = self.open.iter().map(|c| c.load(Relaxed)).collect();
        let fewest = counts.iter().copied().min().unwrap_or(0);
        let at = if counts.get(me).is_none_or(|&n| n <= fewest) {
            me
        } else {
            counts.iter().position(|&n| n == fewest).unwrap_or(me)
        };
        (at, self.hold(at))
    }

    /// Counts a connection for thread `at` until the returned guard is dropped.
    fn hold(self: &Arc<Self>, at: usize) -> Held {
        if let Some(c) = self.open.get(at) {
            c.fetch_add(1, Relaxed);
        }
        Held { spread: self.clone(), at }
    }

    /// Hands a connection to thread `to`; gives it back if that thread is gone.
    pub(super) fn hand(&self, to: usize, conn: Handed) -> Result<(), Handed> {
        match self.inboxes.get(to) {
            Some(inbox) => inbox.send(conn).map_err(|e| e.0),
            None => Err(conn),
        }
    }
}

/// One connection counted for a serving thread, while it is open.
#[derive(Debug)]
pub(super) struct Held {
    spread: Arc<Spread>,
    at: usize,
}

impl Held {
    /// The same connection counted for thread `to` instead (it could not be handed over).
    pub(super) fn moved(self, to: usize) -> Self {
        self.spread.hold(to)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(c) = self.spread.open.get(self.at) {
            c.fetch_sub(1, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(s: &Spread) -> Vec<usize> {
        s.open.iter().map(|c| c.load(Relaxed)).collect()
    }

    #[test]
    fn a_burst_accepted_by_one_thread_ends_spread_evenly_and_closed_connections_are_uncounted() {
        let (spread, _inboxes) = Spread::new(3);
        let held: Vec<(usize, Held)> = (0..9).map(|_| spread.take(0)).collect();
        assert_eq!(counts(&spread), [3, 3, 3]);
        assert_eq!(held.iter().filter(|h| h.0 == 0).count(), 3, "ties stay with the accepting thread");
        drop(held);
        assert_eq!(counts(&spread), [0, 0, 0]);
    }

    #[test]
    fn a_thread_holding_as_few_as_any_keeps_what_it_accepts() {
        let (spread, _inboxes) = Spread::new(2);
        let _busy: Vec<Held> = (0..4).map(|_| spread.hold(0)).collect();
        let _other = spread.hold(1);
        let kept = spread.take(1);
        assert_eq!(kept.0, 1, "1 holds fewer");
        let handed = spread.take(0);
        assert_eq!(handed.0, 1, "0 holds more: handed to 1");
        let (at, held) = spread.take(0);
        assert_eq!((at, counts(&spread)), (1, vec![4, 4]));
        let _back = held.moved(0);
        assert_eq!(counts(&spread), [5, 3], "a connection that could not be handed over counts where it stays");
    }
}
