//! Abuse limits of the hub: subscription requests per client address per minute, subscriptions
//! per callback host and in total. Pure: counts and `now` are handed in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered before old windows are swept.
const SWEEP_AT: usize = 4096;

/// Why a request is refused before anything is verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("too many subscription requests from {ip}: at most {limit} a minute; retry in {} s", retry_after.as_secs().max(1))]
    Rate { ip: IpAddr, limit: usize, retry_after: Duration },
    #[error("callback host {host} already has {limit} subscriptions, the most one host may have")]
    HostFull { host: String, limit: usize },
    #[error("the hub has {limit} subscriptions, the most it takes")]
    HubFull { limit: usize },
}

/// Requests per client address in fixed one-minute windows.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: usize,
    windows: HashMap<IpAddr, (Instant, usize)>,
}

impl RateLimiter {
    pub fn new(per_minute: usize) -> Self {
        Self { per_minute, windows: HashMap::new() }
    }

    /// Counts one request from `ip` at `now`, or refuses it with how long until the window ends.
    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> Result<(), Refused> {
        if self.windows.len() >= SWEEP_AT {
            self.windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = self.windows.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            (*start, *count) = (now, 0);
        }
        if *count >= self.per_minute {
            let retry_after = WINDOW.saturating_sub(now.duration_since(*start));
            return Err(Refused::Rate { ip, limit: self.per_minute, retry_after });
        }
        *count += 1;
        Ok(())
    }
}

/// Whether one more subscription fits: `on_host` and `total` count those held and those being
/// verified (a re-subscription is not counted: it replaces itself).
pub fn room_for(host: &str, on_host: usize, total: usize, per_host: usize, max: usize) -> Result<(), Refused> {
    if total >= max {
        return Err(Refused::HubFull { limit: max });
    }
    if on_host >= per_host {
        return Err(Refused::HostFull { host: host.to_owned(), limit: per_host });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_requests_per_address() {
        let mut r = RateLimiter::new(2);
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().expect("ip"), "127.0.0.2".parse().expect("ip"));
        let t0 = Instant::now();
        assert!(r.admit(a, t0).is_ok() && r.admit(a, t0 + Duration::from_secs(1)).is_ok());
        match r.admit(a, t0 + Duration::from_secs(20)) {
            Err(Refused::Rate { retry_after, limit: 2, .. }) => assert_eq!(retry_after, Duration::from_secs(40)),
            other => panic!("refused, not {other:?}"),
        }
        assert!(r.admit(b, t0 + Duration::from_secs(20)).is_ok(), "each address has its own count");
        assert!(r.admit(a, t0 + Duration::from_secs(60)).is_ok(), "a new window");
    }

    #[test]
    fn caps_per_host_and_in_total() {
        assert!(room_for("p.example", 1, 5, 2, 10).is_ok());
        assert_eq!(room_for("p.example", 2, 5, 2, 10), Err(Refused::HostFull { host: "p.example".into(), limit: 2 }));
        assert_eq!(room_for("p.example", 0, 10, 2, 10), Err(Refused::HubFull { limit: 10 }));
    }
}
