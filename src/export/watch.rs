//! `serve`'s side of `[export] dir`: everything once at start, then the channels a commit
//! changed, at most once per tick; asleep while nothing changes.

use super::Exporter;
use crate::domain::ChannelId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Commits come in bursts (one per source of a scheduled round): waiting this long after the
/// first instead of exporting after each one writes a channel once for the whole burst.
const TICK: Duration = Duration::from_secs(1);

/// Keeps the export folder current until `stop` is cancelled. An export in progress finishes
/// first: stopping half-way would leave nothing torn (every file is replaced whole), but the
/// index would disagree with the channels until the next start.
pub async fn keep_current(exporter: Arc<Exporter>, stop: CancellationToken) {
    // The version each channel had when last written; none yet, so the first tick writes all.
    let mut written: HashMap<ChannelId, u64> = HashMap::new();
    let mut bumps = exporter.watch();
    // Pending: something is left to write (a failed export to try again); at start, everything.
    let (mut pending, mut first) = (true, true);
    loop {
        if !pending {
            tokio::select! {
                () = stop.cancelled() => return,
                changed = bumps.changed() => if changed.is_err() { return },
            }
        }
        if !std::mem::take(&mut first) {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(TICK) => {}
            }
        }
        bumps.mark_unchanged();
        pending = false;
        let due: Vec<(ChannelId, u64)> = (exporter.channels().into_iter())
            .map(|ch| {
                let v = exporter.version(&ch);
                (ch, v)
            })
            .filter(|(ch, v)| written.get(ch) != Some(v))
            .collect();
        if due.is_empty() {
            continue;
        }
        pending = true;
        let ex = exporter.clone();
        let channels: Vec<ChannelId> = due.iter().map(|(ch, _)| ch.clone()).collect();
        // Rendering reads the store and writes files: off the async workers.
        match tokio::task::spawn_blocking(move || ex.export(&channels)).await {
            Ok(Ok(w)) => {
                tracing::debug!(channels = w.channels, files = w.files, "export updated");
                written.extend(due);
                pending = false;
            }
            // Left unrecorded (and pending), the channels are tried again after a tick.
            Ok(Err(e)) => tracing::warn!(error = %e, dir = %exporter.dir().display(), "export failed"),
            Err(e) => tracing::warn!(error = %e, "export task failed"),
        }
    }
}
