//! HTTP's side of access: the key a request carries, the refusals (`401`, `404` as for an
//! unknown channel, `429`), the admin endpoints' check, and counting what each partner took.
//! Every decision is `access::may_read`'s; this only reads requests and writes answers.

use super::{ApiError, AppState};
use crate::access::{self, Access, Via};
use crate::domain::ChannelId;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Who reads a channel, once admitted.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    /// The partner whose key came with the request (public channels too).
    pub partner: Option<usize>,
    /// A key that came in the URL (`?key=`): the answer's own links carry it, so a reader that
    /// can only send keys that way can follow them.
    pub link_key: Option<String>,
}

fn presented(headers: &HeaderMap, query_key: Option<&str>) -> Option<access::Presented> {
    access::presented(headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()), query_key)
}

/// Decides a channel request before any cache is asked: the reader, or the refusal.
/// `unknown` is the answer for a channel that does not exist, which a partner not granted a
/// private channel gets too, word for word.
pub fn admit(
    state: &AppState,
    ch: &ChannelId,
    headers: &HeaderMap,
    query_key: Option<&str>,
    unknown: impl FnOnce() -> ApiError,
) -> Result<Reader, ApiError> {
    let key = presented(headers, query_key);
    match state.gate.may_read(ch, key.as_ref().map(|k| k.key.as_str())) {
        Access::Public => Ok(Reader::default()),
        Access::Partner(i) => {
            count(state, i)?;
            let link_key = key.filter(|k| k.via == Via::Query).map(|k| k.key);
            Ok(Reader { partner: Some(i), link_key })
        }
        Access::NotGranted(i) => {
            count(state, i)?;
            Err(unknown())
        }
        Access::KeyRequired => Err(ApiError::Unauthorized("this channel needs a partner key".into())),
        Access::UnknownKey => Err(ApiError::Unauthorized("this key is no partner's".into())),
    }
}

/// The partner a listing (index page, OPML) is for; a key that is no partner's lists what
/// anyone sees.
pub fn viewer(state: &AppState, headers: &HeaderMap, query_key: Option<&str>) -> Result<Option<usize>, ApiError> {
    let key = presented(headers, query_key);
    let who = key.and_then(|k| state.gate.partners.identify(&k.key));
    if let Some(i) = who {
        count(state, i)?;
    }
    Ok(who)
}

/// Counts a request of partner `i` and takes it from its rate limit.
fn count(state: &AppState, i: usize) -> Result<(), ApiError> {
    let gate = &state.gate;
    gate.usage.admit(&gate.partners, i, Instant::now(), chrono::Utc::now()).map_err(|wait| {
        // Whole seconds, rounded up: an answer of 0 would invite an immediate retry.
        ApiError::TooManyRequests(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    })
}

/// Counts what a partner's request was answered with: a 304, or `items` items.
pub fn served(state: &AppState, reader: &Reader, not_modified: bool, items: usize) {
    if let Some(i) = reader.partner {
        state.gate.usage.served(i, not_modified, items);
    }
}

/// Marks a partner's answer as theirs alone: no shared cache may keep it or hand it to a
/// request without their credentials.
pub fn mark_private(response: &mut Response, state: &AppState) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, state.private_cache.control.clone());
    h.insert(header::VARY, state.private_cache.vary.clone());
}

/// In front of the admin endpoints (`/api/*` but `/healthz`, `/metrics`): with
/// `server.admin_key_sha256` set, only a request with that key (Bearer or Basic; never in the
/// URL, where logs would keep it) passes.
pub async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.gate.partners.admin_required() {
        let key = presented(req.headers(), None);
        if !state.gate.partners.is_admin(key.as_ref().map(|k| k.key.as_str())) {
            return ApiError::Unauthorized("this endpoint needs the admin key".into()).into_response();
        }
    }
    next.run(req).await
}
