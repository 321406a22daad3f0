//! Verification of intent (WebSub §5.3) and denial (§5.2): the GETs the hub sends a callback
//! before anything changes, and when a request is refused. The URLs are built purely; only a
//! 2xx answer whose body is exactly the single-use challenge verifies.

use super::client::Callbacks;
use super::hub::{lock, Hub, Pending, Task};
use super::request::Mode;
use crate::fetch::FetchError;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Bytes of randomness in a challenge (hex-encoded in the URL).
const CHALLENGE_BYTES: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the callback answered HTTP {0}")]
    Status(u16),
    #[error("the callback did not echo the challenge")]
    WrongEcho,
    #[error(transparent)]
    Request(#[from] FetchError),
    #[error("no randomness for a challenge: {0}")]
    Random(String),
}

/// A fresh challenge from the operating system's CSPRNG.
pub fn challenge() -> Result<String, VerifyError> {
    let mut bytes = [0u8; CHALLENGE_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| VerifyError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The callback with the verification's parameters added to whatever query it has.
pub fn verification_url(callback: &Url, mode: Mode, topic: &str, challenge: &str, lease: Option<Duration>) -> Url {
    let mut url = callback.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("hub.mode", mode.as_str())
            .append_pair("hub.topic", topic)
            .append_pair("hub.challenge", challenge);
        if let Some(lease) = lease {
            q.append_pair("hub.lease_seconds", &lease.as_secs().to_string());
        }
    }
    url
}

/// The callback told its request was refused, and why.
pub fn denial_url(callback: &Url, topic: &str, reason: &str) -> Url {
    let mut url = callback.clone();
    url.query_pairs_mut()
        .append_pair("hub.mode", "denied")
        .append_pair("hub.topic", topic)
        .append_pair("hub.reason", reason);
    url
}

/// Asks the subscriber to confirm; `Ok` only for a 2xx whose body is exactly `challenge`.
pub async fn verify(callbacks: &Callbacks, url: &Url, challenge: &str) -> Result<(), VerifyError> {
    // One byte more than the challenge tells an exact echo from one with anything after it.
    let reply = callbacks.get(url, challenge.len() + 1).await?;
    if !(200..300).contains(&reply.status) {
        return Err(VerifyError::Status(reply.status));
    }
    if reply.body != challenge.as_bytes() {
        return Err(VerifyError::WrongEcho);
    }
    Ok(())
}

/// The verifier: takes accepted requests off the queue and verifies each (or sends its denial)
/// in a task of its own, at most `[websub] concurrency` at once, until `stop`.
pub async fn run(hub: Arc<Hub>, stop: CancellationToken) {
    let Some(mut inbox) = hub.take_inbox() else { return };
    let mut tasks = JoinSet::new();
    loop {
        let task = tokio::select! {
            () = stop.cancelled() => break,
            task = inbox.recv() => task,
        };
        let Some(task) = task else { break };
        while tasks.try_join_next().is_some() {}
        while tasks.len() >= hub.settings().websub.concurrency {
            tasks.join_next().await;
        }
        tasks.spawn(handle(hub.clone(), task));
    }
    // Verifications cut short change nothing: the subscriber asks again.
    tasks.shutdown().await;
}

async fn handle(hub: Arc<Hub>, task: Task) {
    match task {
        Task::Deny { callback, topic, reason } => {
            let host = callback.host_str().unwrap_or_default().to_owned();
            tracing::info!(callback_host = %host, topic = %topic, reason = %reason, "WebSub request denied");
            if let Err(e) = hub.callbacks.get(&denial_url(&callback, &topic, &reason), 0).await {
                tracing::debug!(callback_host = %host, error = %e, "WebSub denial not delivered");
            }
        }
        Task::Verify(p) => {
            let outcome = confirm(&hub, &p).await;
            let host = p.callback.host_str().unwrap_or_default();
            let topic = p.topic.path();
            match outcome {
                Ok(()) => {
                    apply(&hub, &p).await;
                    tracing::info!(id = %p.id, callback_host = %host, topic = %topic, mode = p.mode.as_str(), "WebSub verified");
                }
                Err(e) => {
                    tracing::info!(callback_host = %host, topic = %topic, mode = p.mode.as_str(), error = %e, "WebSub verification failed")
                }
            }
            // Only now: a subscription verified is counted in the table before it leaves here.
            lock(&hub.pending).remove(&p.id);
        }
    }
}

async fn confirm(hub: &Hub, p: &Pending) -> Result<(), VerifyError> {
    let challenge = challenge()?;
    let lease = (p.mode == Mode::Subscribe).then_some(p.lease);
    let url = verification_url(&p.callback, p.mode, &p.topic.url(&hub.base()), &challenge, lease);
    verify(&hub.callbacks, &url, &challenge).await
}

/// A confirmed request takes effect: subscribed from the change log's current end (what is new
/// from now on), renewed, or removed.
async fn apply(hub: &Arc<Hub>, p: &Pending) {
    match p.mode {
        Mode::Subscribe => {
            let store = hub.state().store.clone();
            let last = tokio::task::spawn_blocking(move || store.last_seq()).await;
            let position = match last {
                Ok(Ok(seq)) => seq,
                Ok(Err(e)) => return tracing::error!(error = %e, "cannot read the change log"),
                Err(e) => return tracing::error!(error = %e, "reading the change log failed"),
            };
            hub.activate(p, chrono::Utc::now(), position);
        }
        Mode::Unsubscribe => {
            hub.with_table(|t| t.remove(&p.id));
        }
    }
    hub.persist(vec![p.id.clone()]).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_join_the_callback_query() {
        let cb = Url::parse("https://p.example/cb?token=a%20b").expect("url");
        let url = verification_url(
            &cb,
            Mode::Subscribe,
            "https://n.example/feeds/all.atom",
            "c1",
            Some(Duration::from_secs(60)),
        );
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let pairs = [
            ("token", "a b"),
            ("hub.mode", "subscribe"),
            ("hub.topic", "https://n.example/feeds/all.atom"),
            ("hub.challenge", "c1"),
            ("hub.lease_seconds", "60"),
        ];
        assert_eq!(q, pairs.map(|(k, v)| (k.to_owned(), v.to_owned())));
        let off = verification_url(&cb, Mode::Unsubscribe, "t", "c2", None);
        assert!(off.query_pairs().all(|(k, _)| k != "hub.lease_seconds"));
        let denied = denial_url(&cb, "t", "unknown topic");
        assert!(denied.query_pairs().any(|(k, v)| k == "hub.reason" && v == "unknown topic"));
        assert!(denied.query_pairs().any(|(k, v)| k == "hub.mode" && v == "denied"));
    }

    #[test]
    fn challenges_are_long_and_never_repeat() {
        let (a, b) = (challenge().expect("random"), challenge().expect("random"));
        assert_eq!(a.len(), CHALLENGE_BYTES * 2);
        assert_ne!(a, b);
    }
}
