//! The hub's HTTP surface: `POST /websub` (subscription requests, answered `202` at once or
//! refused with the reason in the body) and `GET /api/subscriptions` (never a secret or a key).

use super::accept::AcceptError;
use super::hub::Hub;
use super::limits::Refused;
use super::subscription::{State, Subscription};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State as Shared};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// The largest request body read: a callback, a topic, a secret and a key fit many times over.
const MAX_FORM: usize = 64 * 1024;

pub fn router(hub: Arc<Hub>) -> Router {
    // The list is an operator's view: behind the admin key (the key of now), as the rest of `/api`.
    let admin = axum::middleware::from_fn_with_state(hub.live().clone(), crate::http::require_admin);
    Router::new()
        .route("/api/subscriptions", get(list))
        .route_layer(admin)
        .route("/websub", post(subscribe))
        .with_state(hub)
}

async fn subscribe(Shared(hub): Shared<Arc<Hub>>, req: Request) -> Response {
    let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.is_empty() && !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let why = "send the request as application/x-www-form-urlencoded (WebSub 5.1)";
        return text(StatusCode::UNSUPPORTED_MEDIA_TYPE, why);
    }
    let Ok(form) = axum::body::to_bytes(Body::new(body), MAX_FORM).await else {
        return text(StatusCode::PAYLOAD_TOO_LARGE, &format!("the request body is over {MAX_FORM} bytes"));
    };
    let auth = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match hub.accept(client, &form, auth) {
        Ok(()) => text(StatusCode::ACCEPTED, "accepted: the hub now verifies the subscriber's intent at the callback"),
        Err(e) => refusal(&e),
    }
}

fn refusal(e: &AcceptError) -> Response {
    let why = e.to_string();
    match e {
        AcceptError::Request(_) => text(StatusCode::BAD_REQUEST, &why),
        AcceptError::Blocked(_) | AcceptError::Limit(Refused::HostFull { .. } | Refused::HubFull { .. }) => {
            text(StatusCode::FORBIDDEN, &why)
        }
        AcceptError::Limit(Refused::Rate { retry_after, .. }) => {
            let mut r = text(StatusCode::TOO_MANY_REQUESTS, &why);
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
            r
        }
        AcceptError::Busy => {
            let mut r = text(StatusCode::SERVICE_UNAVAILABLE, &why);
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
    }
}

fn text(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{body}\n")).into_response()
}

/// One subscription as the API shows it.
#[derive(Debug, Serialize)]
pub struct View {
    pub id: String,
    pub topic: String,
    /// Without a password, if the URL had one.
    pub callback: String,
    pub state: State,
    pub signed: bool,
    pub created: DateTime<Utc>,
    pub lease_end: DateTime<Utc>,
    /// The `since` cursor delivered up to.
    pub position: String,
    pub delivered: u64,
    pub last_delivery: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub failures: u32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
}

impl View {
    fn of(s: &Subscription, base: &str) -> Self {
        let callback = url::Url::parse(&s.callback).map_or_else(
            |_| s.callback.clone(),
            |mut u| {
                let _ = u.set_password(None);
                u.to_string()
            },
        );
        Self {
            id: s.id.clone(),
            topic: format!("{base}{}", s.topic),
            callback,
            state: s.state,
            signed: s.secret.is_some(),
            created: s.created,
            lease_end: s.lease_end,
            position: crate::http::encode_since(s.position),
            delivered: s.delivered,
            last_delivery: s.last_delivery,
            last_error: s.last_error.clone(),
            failures: s.failures,
            failing_since: s.failing_since,
            next_attempt: s.next_attempt,
        }
    }
}

async fn list(Shared(hub): Shared<Arc<Hub>>) -> Json<Vec<View>> {
    let mut subs = hub.subscriptions();
    subs.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Json(subs.iter().map(|s| View::of(s, &hub.base())).collect())
}
