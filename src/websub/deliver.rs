//! Content distribution (WebSub §7): a topic's items changed after a position, rendered once for
//! every subscriber at that position (as the channel's `since` page is, same format and
//! Content-Type), and posted to each with the hub and self `Link` headers and, for subscribers
//! with a secret, their own `X-Hub-Signature`.

use super::hub::Hub;
use super::subscription::Secret;
use super::topic::Topic;
use crate::http::{self, ApiError, AppState};
use axum::body::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, LINK};
use std::sync::Arc;
use std::time::Duration;

/// One rendered delivery, shared by every subscriber at its (topic, position).
#[derive(Debug)]
pub struct Batch {
    pub body: Bytes,
    /// The position the subscribers reach once they acknowledge it.
    pub cursor: u64,
    pub items: usize,
    /// As many items as a delivery may carry: more may follow at once.
    pub full: bool,
    /// Content-Type, `Link` (hub and self) and the cursor: the same for every subscriber.
    pub headers: HeaderMap,
}

/// Renders what `topic` has after `position`: at most `max_items` items, fewer when the document
/// would pass `max_bytes` (halved until it fits; a single item goes alone whatever its size).
/// Blocking: reads the store.
pub fn render(
    state: &AppState,
    topic: &Topic,
    position: u64,
    max_items: usize,
    max_bytes: u64,
) -> Result<Batch, ApiError> {
    let mut limit = max_items.max(1);
    loop {
        let doc = http::since_document(state, &topic.channel, topic.format, position, limit)?;
        if doc.body.len() as u64 <= max_bytes || doc.items <= 1 {
            let topic_url = topic.url(state.base_url());
            let headers = headers(topic, state.hub_url.as_deref().unwrap_or_default(), &topic_url, doc.cursor);
            let full = doc.items >= limit;
            return Ok(Batch { body: Bytes::from(doc.body), cursor: doc.cursor, items: doc.items, full, headers });
        }
        limit = (doc.items / 2).max(1);
    }
}

fn headers(topic: &Topic, hub: &str, topic_url: &str, cursor: u64) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(5);
    h.insert(CONTENT_TYPE, HeaderValue::from_static(topic.format.content_type()));
    for link in [format!("<{hub}>; rel=\"hub\""), format!("<{topic_url}>; rel=\"self\"")] {
        if let Ok(v) = HeaderValue::from_str(&link) {
            h.append(LINK, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&http::encode_since(cursor)) {
        h.insert(HeaderName::from_static("x-newsriver-cursor"), v);
    }
    h
}

/// What a callback made of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Delivered,
    /// `410 Gone`: the subscription ends.
    Gone,
    Failed(String),
}

/// One attempt's result, for the worker to settle.
#[derive(Debug)]
pub struct Outcome {
    pub id: String,
    pub batch: Arc<Batch>,
    pub answer: Answer,
    /// It retried a failed attempt.
    pub retry: bool,
    pub elapsed: Duration,
}

/// Posts `batch` to one subscriber, signed with its secret when it has one.
pub async fn post(
    hub: Arc<Hub>,
    id: String,
    callback: String,
    secret: Option<Secret>,
    batch: Arc<Batch>,
    retry: bool,
) -> Outcome {
    let mut headers = batch.headers.clone();
    if let Some(Secret(secret)) = &secret {
        let sig = super::sign::signature(hub.settings().websub.signature, secret.as_bytes(), &batch.body);
        if let Ok(v) = HeaderValue::from_str(&sig) {
            headers.insert(HeaderName::from_static("x-hub-signature"), v);
        }
    }
    let (answer, elapsed) = match url::Url::parse(&callback) {
        Err(e) => (Answer::Failed(format!("stored callback is not a URL: {e}")), Duration::ZERO),
        Ok(url) => match hub.callbacks.post(&url, headers, batch.body.clone()).await {
            Ok(r) if (200..300).contains(&r.status) => (Answer::Delivered, r.elapsed),
            Ok(r) if r.status == 410 => (Answer::Gone, r.elapsed),
            Ok(r) => (Answer::Failed(format!("the callback answered HTTP {}", r.status)), r.elapsed),
            Err(e) => (Answer::Failed(e.to_string()), Duration::ZERO),
        },
    };
    Outcome { id, batch, answer, retry, elapsed }
}
