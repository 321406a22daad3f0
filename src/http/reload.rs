//! `POST /api/reload`: the running service reads its configuration again (`newsriver reload`),
//! behind the admin key like every `/api/*` endpoint. The answer is `reload::Answer`: what
//! changed (200), or every problem of the files (422, nothing changed).

use super::{ApiError, Live};
use crate::reload::Answer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub async fn reload(State(live): State<Live>) -> Result<Response, ApiError> {
    let Some(reloader) = live.reloader() else {
        return Err(ApiError::NotFound("this server does not reload its configuration".into()));
    };
    let answer = reloader.reload().await;
    let status = match answer {
        Answer::Applied(_) => StatusCode::OK,
        Answer::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Json(answer)).into_response())
}
