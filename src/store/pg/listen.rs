//! Other instances' commits, heard: one connection outside the pool runs `LISTEN` and passes
//! each notification on; when it drops, it is made again with a growing pause, and `Connected`
//! says so (notifications sent meanwhile are lost, so the listener must assume anything changed).
//! `announce` sends one (`pg_notify`) through the pool.

use super::{PgError, PgKv};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;
use tokio_util::sync::CancellationToken;

/// What the listening connection passes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Listening (again): whatever was sent before now was not heard.
    Connected,
    Notification(String),
}

/// The pause after a failed or dropped connection, doubled each time up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// The connection's `application_name`, so an operator (or a test) can find it.
pub const LISTENER_NAME: &str = "newsriver-listen";

impl PgKv {
    /// Sends `payload` to everyone listening on `channel` (delivered once this returns).
    pub fn announce(&self, channel: &'static str, payload: String) -> Result<(), crate::store::StoreError> {
        self.run(|pool| async move {
            let c = pool.get().await?;
            c.execute("SELECT pg_notify($1, $2)", &[&channel, &payload]).await?;
            Ok(())
        })
    }

    /// Listens on `channel` until `stop`, reconnecting as needed; what is heard goes to the
    /// returned receiver (which ends after `stop`).
    pub fn listen(&self, channel: &'static str, stop: CancellationToken) -> mpsc::Receiver<Heard> {
        let (tx, rx) = mpsc::channel(1024);
        let kv = self.clone();
        self.spawn(async move {
            let mut pause = FIRST_PAUSE;
            while !stop.is_cancelled() {
                match kv.listen_once(channel, &tx, &stop).await {
                    Ok(()) => pause = FIRST_PAUSE,
                    Err(e) => tracing::warn!(error = %e, "store: the LISTEN connection failed; making it again"),
                }
                if tx.is_closed() {
                    return;
                }
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(MAX_PAUSE);
            }
        });
        rx
    }

    /// One connection's life: connect, `LISTEN`, pass notifications on until it drops (an
    /// error) or `stop` (Ok).
    async fn listen_once(
        &self,
        channel: &'static str,
        tx: &mpsc::Sender<Heard>,
        stop: &CancellationToken,
    ) -> Result<(), PgError> {
        let mut config = self.0.config.clone();
        config.application_name(LISTENER_NAME);
        let tls = super::tls::connector().map_err(PgError::Other)?;
        let (client, mut conn) = config.connect(tls).await?;
        let (heard_tx, mut heard_rx) = mpsc::unbounded_channel();
        // The connection does its I/O only while polled; it passes notifications on until it ends.
        let driver = tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(n))) => {
                        let _ = heard_tx.send(Ok(n.payload().to_owned()));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return drop(heard_tx.send(Err(e))),
                    None => return,
                }
            }
        });
        client.batch_execute(&format!("LISTEN {channel}")).await?;
        let _ = tx.send(Heard::Connected).await;
        let outcome = loop {
            tokio::select! {
                () = stop.cancelled() => break Ok(()),
                heard = heard_rx.recv() => match heard {
                    Some(Ok(payload)) => {
                        if tx.send(Heard::Notification(payload)).await.is_err() {
                            break Ok(());
                        }
                    }
                    Some(Err(e)) => break Err(PgError::from(e)),
                    None => break Err(PgError::Other("the LISTEN connection closed".into())),
                },
            }
        };
        drop(client);
        driver.abort();
        outcome
    }
}
