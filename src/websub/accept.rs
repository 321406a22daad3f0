//! What the hub does with a subscription request before answering it (WebSub §5.1): the abuse
//! limits, the form, the address guard on the callback, then either a verification or a denial
//! queued for the verifier. The answer (`202` or a refusal) is given at once.

use super::hub::{lock, Hub, Pending, Task};
use super::limits::{self, Refused};
use super::request::{self, HubRequest, Mode, RequestError};
use super::subscription::{id_of, Secret};
use super::topic::Topic;
use crate::fetch::Blocked;
use std::net::IpAddr;
use std::time::Instant;

/// Why a request is refused at once.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Limit(#[from] Refused),
    #[error("hub.callback is refused: {0}")]
    Blocked(#[from] Blocked),
    #[error("too many requests are waiting for verification; try again shortly")]
    Busy,
}

impl Hub {
    /// Takes a request from `client` (its address, when known): queues its verification or
    /// denial, or says why it is refused.
    pub fn accept(&self, client: Option<IpAddr>, body: &[u8], auth: Option<&str>) -> Result<(), AcceptError> {
        if let Some(ip) = client {
            lock(&self.limiter).admit(ip, Instant::now())?;
        }
        let w = &self.settings().websub;
        let req = request::parse(body, auth, w.max_callback_length)?;
        // Literal addresses are refused here; names are checked when the verifier connects.
        self.callbacks_guard_check(&req)?;
        let Some(topic) = Topic::from_url(&self.settings(), &self.base(), &req.topic) else {
            return self.refuse_unknown(req);
        };
        let id = id_of(req.callback.as_str(), &topic.path());
        if req.mode == Mode::Subscribe {
            let access = super::may_subscribe(&self.settings(), &self.state().gate, &topic.channel, req.key.as_deref());
            if !super::allowed(access) {
                let deny = Task::Deny { callback: req.callback, topic: req.topic, reason: "not allowed".into() };
                return self.enqueue(deny);
            }
            self.check_room(&id, &req)?;
        }
        let lease = request::lease(req.lease_seconds, w.default_lease, w.min_lease, w.max_lease);
        let host = host_of(req.callback.as_str()).to_owned();
        let pending = Pending {
            id: id.clone(),
            mode: req.mode,
            callback: req.callback,
            topic,
            secret: req.secret.map(Secret),
            key: req.key.map(Secret),
            lease,
        };
        // Counted as waiting before the verifier can see it, which then forgets it when done.
        lock(&self.pending).insert(id.clone(), host);
        self.enqueue(Task::Verify(pending)).inspect_err(|_| {
            lock(&self.pending).remove(&id);
        })
    }

    fn callbacks_guard_check(&self, req: &HubRequest) -> Result<(), Blocked> {
        let p = &self.settings().polling;
        crate::fetch::AddressGuard::new(p.allow_private_networks, p.allow_hosts.iter().cloned())
            .check_url(&req.callback)
    }

    /// An unknown topic: a subscriber is told so (§5.2); an unsubscribe has nothing to remove.
    fn refuse_unknown(&self, req: HubRequest) -> Result<(), AcceptError> {
        match req.mode {
            Mode::Subscribe => {
                let reason = "unknown topic: not a channel URL of this hub".to_owned();
                self.enqueue(Task::Deny { callback: req.callback, topic: req.topic, reason })
            }
            Mode::Unsubscribe => Ok(()),
        }
    }

    /// The caps, for a subscription the callback does not have yet (a renewal replaces itself).
    fn check_room(&self, id: &str, req: &HubRequest) -> Result<(), Refused> {
        let host = host_of(req.callback.as_str());
        let waiting: Vec<(String, String)> =
            lock(&self.pending).iter().filter(|(p, _)| p.as_str() != id).map(|(p, h)| (p.clone(), h.clone())).collect();
        let counted = self.with_table(|t| {
            if t.contains_key(id) {
                return None;
            }
            let held = t.values().filter(|s| host_of(&s.callback) == host).count();
            let new: Vec<&String> = waiting.iter().filter(|(p, _)| !t.contains_key(p)).map(|(_, h)| h).collect();
            Some((held + new.iter().filter(|h| h.as_str() == host).count(), t.len() + new.len()))
        });
        let Some((on_host, total)) = counted else { return Ok(()) };
        let w = &self.settings().websub;
        limits::room_for(host, on_host, total, w.max_per_host, w.max_subscriptions)
    }

    fn enqueue(&self, task: Task) -> Result<(), AcceptError> {
        self.queue.try_send(task).map_err(|_| AcceptError::Busy)
    }
}

/// The host of a callback as `Url` writes it (`scheme://[user@]host[:port]/…`, host already in
/// lower case), without parsing it again: the caps count every subscription on each request.
pub(super) fn host_of(callback: &str) -> &str {
    let rest = callback.split_once("://").map_or(callback, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or(host_port, |(h, _)| &host_port[..h.len() + 2]),
        None => host_port.split(':').next().unwrap_or(host_port),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_of_callbacks() {
        for (cb, host) in [
            ("https://p.example/cb?x=1", "p.example"),
            ("http://user:pw@p.example:8443/cb", "p.example"),
            ("http://127.0.0.1:9000", "127.0.0.1"),
            ("http://[::1]:9000/cb", "[::1]"),
        ] {
            let parsed = url::Url::parse(cb).expect("url");
            assert_eq!(super::host_of(parsed.as_str()), host, "{cb}");
            assert_eq!(parsed.host_str(), Some(host));
        }
    }
}
