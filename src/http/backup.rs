//! `POST /api/backup {"dir": "/abs/path"}`: the running service (which holds the store open)
//! writes a consistent copy into a folder on its own machine, for `newsriver backup DIR`. Only a
//! caller on the same machine may ask: the folder is a path on the server.

use super::{ApiError, AppState};
use crate::store::{Backup, StoreError};
use axum::extract::{ConnectInfo, Request, State};
use axum::Json;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, serde::Deserialize)]
struct Ask {
    dir: PathBuf,
}

pub async fn backup(State(state): State<AppState>, req: Request) -> Result<Json<Backup>, ApiError> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if !peer.is_some_and(|p| p.ip().is_loopback()) {
        return Err(ApiError::Forbidden("backups are asked for from the service's own machine".into()));
    }
    let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .map_err(|e| ApiError::BadRequest(format!("unreadable request: {e}")))?;
    let ask: Ask = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("expected {{\"dir\": \"/absolute/path\"}}: {e}")))?;
    if !ask.dir.is_absolute() {
        return Err(ApiError::BadRequest(format!("the backup folder must be an absolute path, not {:?}", ask.dir)));
    }
    let store = state.store.clone();
    let done = tokio::task::spawn_blocking(move || store.backup_to(&ask.dir)).await;
    match done.map_err(|e| ApiError::Internal(e.to_string()))? {
        Ok(b) => Ok(Json(b)),
        // The folder is the caller's mistake (not empty, not writable), not the store's.
        Err(StoreError::Open { path, detail }) => {
            Err(ApiError::BadRequest(format!("cannot back up to {path}: {detail}")))
        }
        Err(e @ StoreError::Unsupported { .. }) => Err(ApiError::BadRequest(e.to_string())),
        Err(e) => Err(e.into()),
    }
}
