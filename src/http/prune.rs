//! `POST /api/prune {"sources": ["id"], "dry_run": false}`: the running service (which holds the
//! store open) prunes removed sources' items, for `newsriver prune`. Behind the admin key like
//! every `/api/*` endpoint; with no admin key configured, only a caller on the service's own
//! machine may ask, since it deletes data.

use super::{ApiError, Live};
use crate::prune::{Ask, PruneError, Pruned};
use axum::extract::{ConnectInfo, Request, State};
use axum::Json;
use std::net::SocketAddr;

pub async fn prune(State(live): State<Live>, req: Request) -> Result<Json<Pruned>, ApiError> {
    let local = req.extensions().get::<ConnectInfo<SocketAddr>>().is_some_and(|c| c.0.ip().is_loopback());
    if !local && !live.load().gate.partners.admin_required() {
        return Err(ApiError::Forbidden(
            "pruning is asked for from the service's own machine, or with the admin key once one is set".into(),
        ));
    }
    let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .map_err(|e| ApiError::BadRequest(format!("unreadable request: {e}")))?;
    let ask: Ask = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("expected {{\"sources\": [\"id\"], \"dry_run\": false}}: {e}")))?;
    let Some(pruner) = live.pruner() else {
        return Err(ApiError::NotFound("this server does not prune".into()));
    };
    pruner.prune(ask).await.map(Json).map_err(ApiError::from)
}

impl From<PruneError> for ApiError {
    fn from(e: PruneError) -> Self {
        let said = e.to_string();
        match e {
            PruneError::NoSources | PruneError::InvalidId(_) => Self::BadRequest(said),
            PruneError::Unknown(_) => Self::NotFound(said),
            PruneError::Configured(_) | PruneError::Busy(_) | PruneError::Stopping => Self::Conflict(said),
            PruneError::Task(_) | PruneError::Store(_) => Self::Internal(said),
        }
    }
}
