//! The one error type handlers return; every variant maps to a status and a JSON body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The Basic challenge every `401` carries.
pub const BASIC: &str = "Basic realm=\"newsriver\", charset=\"UTF-8\"";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    /// The request cannot be done in the service's present state (a source still configured).
    #[error("{0}")]
    Conflict(String),
    /// No key, or a key that opens nothing here: `401` with the schemes to send one in.
    #[error("{0}")]
    Unauthorized(String),
    /// A partner's rate limit: `429`, to retry after this many seconds.
    #[error("too many requests: the rate limit allows the next one in {0} s")]
    TooManyRequests(u64),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(e) => {
                tracing::error!(error = %e, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut response = (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        let h = response.headers_mut();
        match &self {
            Self::Unauthorized(_) => {
                // Basic first: feed readers prompt for it (and then send `id:key`).
                h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static(BASIC));
                h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"newsriver\""));
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Self::TooManyRequests(secs) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        response
    }
}
