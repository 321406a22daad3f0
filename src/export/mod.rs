//! Static export: the first page of every public channel in every format, the OPML list and the
//! index page, written as files laid out like the server's URLs, for any static host or CDN.
//! `newsriver export DIR` writes them once; `[export] dir` has `serve` keep them current.

pub mod atomic;
mod watch;

pub use watch::keep_current;

use crate::config::Settings;
use crate::domain::ChannelId;
use crate::http::{self, AppState, Handles, Live};
use crate::render::Format;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Renders channels the way the server does, into files under one folder.
#[derive(Debug)]
pub struct Exporter {
    /// A serving state of its own: its public URL is the export's base, and its render cache
    /// is apart from the live server's (an export renders each page once anyway). A reload
    /// swaps it (`reconfigure`); an export in progress finishes on the one it started with.
    live: Live,
    handles: Handles,
    dir: PathBuf,
}

/// What one export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub channels: usize,
    pub files: usize,
}

impl Exporter {
    /// An exporter into `dir` over the store and channel versions in `handles`.
    pub fn new(settings: &Settings, handles: Handles, dir: PathBuf) -> Self {
        let live = Live::new(state_of(settings, handles.clone()), Default::default());
        Self { live, handles, dir }
    }

    /// Exports under `settings` from now on (a reload); `[export] dir` stays.
    pub fn reconfigure(&self, settings: &Settings) {
        self.live.store(state_of(settings, self.handles.clone()));
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every public channel: merged, each topic, each source (private ones never).
    pub fn channels(&self) -> Vec<ChannelId> {
        http::public_channels(&self.live.load().settings)
    }

    /// The channel's current version, read before it is rendered: a commit racing the render
    /// bumps it again, so the channel is exported once more.
    /// Wakes when a channel's version moves.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.handles.versions.watch()
    }

    pub fn version(&self, ch: &ChannelId) -> u64 {
        self.handles.versions.get(ch).0
    }

    /// Writes every channel, the OPML list and the index.
    pub fn export_all(&self) -> anyhow::Result<Written> {
        self.export(&self.channels())
    }

    /// Writes `channels` in every format and as a page, then the OPML list and the index (whose item counts
    /// and newest dates follow the channels).
    pub fn export(&self, channels: &[ChannelId]) -> anyhow::Result<Written> {
        let state = self.live.load();
        let mut files = 0;
        for ch in channels {
            // The channel's page too, as `{path}.html`: a static host serves it by that name.
            for format in Format::ALL.into_iter().chain([Format::Html]) {
                let body = http::first_page(&state, ch, format)?;
                let path = format!("{}.{}", http::channel_path(ch), format.extension());
                self.write(&path, &body)?;
                files += 1;
            }
        }
        // What anyone may read: a static copy has no way to ask for a key.
        self.write("/channels.opml", http::opml_document(&state, None)?.as_bytes())?;
        self.write("/index.html", http::index_page(&state, false, None)?.as_bytes())?;
        Ok(Written { channels: channels.len(), files: files + 2 })
    }

    /// `path` is a URL path (`/feeds/all.rss`): the file sits where the server serves it.
    fn write(&self, path: &str, body: &[u8]) -> anyhow::Result<()> {
        let file = self.dir.join(path.trim_start_matches('/'));
        atomic::write(&file, body).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))
    }
}

/// A serving state whose public URL is the export's base: every link a document carries (self,
/// next, source channels, OPML) is made from it, so this moves all of them at once.
fn state_of(settings: &Settings, handles: Handles) -> AppState {
    let mut settings = settings.clone();
    // The hub takes topics under the public URL only: a copy hosted elsewhere names none.
    settings.websub.enabled &= settings.export_base_url() == &settings.server.public_url;
    settings.server.public_url = settings.export_base_url().clone();
    AppState::new(Arc::new(settings), handles)
}
