//! The HTTP surface: feeds, status API, health. `router` builds it without binding, so tests can
//! drive it directly.

mod api;
mod error;
mod feeds;

pub use error::ApiError;

use crate::config::Settings;
use crate::store::Store;
use crate::worker::Poller;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub poller: Poller,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(feeds::index))
        // A capture with a static suffix ("{id}.atom") is not supported: take the whole
        // segment and split it into channel and format.
        .route("/feeds/{file}", get(feeds::merged))
        .route("/sources/{file}", get(feeds::per_source))
        .route("/healthz", get(api::health))
        .route("/api/sources", get(api::sources))
        .route("/api/entries/{key}", get(api::entry))
        .fallback(|| async { ApiError::NotFound("no such page".into()) })
        .with_state(state)
}
