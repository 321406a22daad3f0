//! The HTTP surface: channels, OPML, index page, status page and API, health. `router` builds it without
//! binding, so tests can drive it directly.

mod api;
mod backup;
pub mod cache;
mod counters;
mod cursor;
mod encoding;
mod error;
mod feeds;
mod guard;
mod index;
mod pages;
mod prune;
mod related;
mod reload;
mod site;
mod status_page;

pub use cursor::encode_since;
pub use error::ApiError;
pub use guard::require_admin;
pub use index::{index_page, opml_document, public_channels};
pub use pages::{channel_path, first_page, since_document, SinceDocument};
pub use site::Site;

use crate::channels::ChannelVersions;
use crate::config::Settings;
use crate::domain::{FeedUrl, SourceId, TopicId};
use crate::metrics::Metrics;
use crate::prune::Prune;
use crate::reload::{ConfigStatus, Reload};
use crate::render::SourceInfo;
use crate::status::Board;
use crate::store::Store;
use arc_swap::ArcSwap;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

/// What every handler can reach. One `Arc`: axum clones the state for every request, and
/// cloning a dozen reference counts (and dropping them) was a few per cent of a cached answer.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The serving state of the running configuration, which a reload swaps whole. Each request
/// loads it once (`AppState`'s extractor: one atomic load, no lock), so a request is answered
/// under one configuration from start to end.
#[derive(Debug, Clone)]
pub struct Live(Arc<LiveInner>);

#[derive(Debug)]
struct LiveInner {
    current: ArcSwap<Shared>,
    /// Problems of the last configuration that did not load, shown by `/healthz`.
    config: Arc<ConfigStatus>,
    /// Who answers `POST /api/reload`; weak, since it holds this handle itself.
    reloader: OnceLock<Weak<dyn Reload>>,
    /// Who answers `POST /api/prune`; weak, for the same reason.
    pruner: OnceLock<Weak<dyn Prune>>,
}

impl Live {
    pub fn new(state: AppState, config: Arc<ConfigStatus>) -> Self {
        let (reloader, pruner) = (OnceLock::new(), OnceLock::new());
        let inner = LiveInner { current: ArcSwap::new(state.0), config, reloader, pruner };
        Self(Arc::new(inner))
    }

    /// The state requests are served from now.
    pub fn load(&self) -> AppState {
        AppState(self.0.current.load_full())
    }

    /// Serves every later request from `state`; requests in progress finish on the old one.
    pub fn store(&self, state: AppState) {
        self.0.current.store(state.0);
    }

    pub fn config_status(&self) -> &ConfigStatus {
        &self.0.config
    }

    /// Names who reloads the service (set once, by whoever runs it).
    pub fn set_reloader(&self, reloader: Weak<dyn Reload>) {
        let _ = self.0.reloader.set(reloader);
    }

    pub fn reloader(&self) -> Option<Arc<dyn Reload>> {
        self.0.reloader.get().and_then(Weak::upgrade)
    }

    /// Names who prunes for the service (set once, by whoever runs it).
    pub fn set_pruner(&self, pruner: Weak<dyn Prune>) {
        let _ = self.0.pruner.set(pruner);
    }

    pub fn pruner(&self) -> Option<Arc<dyn Prune>> {
        self.0.pruner.get().and_then(Weak::upgrade)
    }
}

impl FromRef<Live> for AppState {
    fn from_ref(live: &Live) -> Self {
        live.load()
    }
}

#[derive(Debug)]
pub struct Shared {
    pub settings: Arc<Settings>,
    pub store: Store,
    /// What the poller tracks of each source (read-only here).
    pub board: Arc<Board>,
    /// The poller's counters, shown at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// HTTP's own: every count is on a cache line of its own (`counters::OwnLine`), since both
    /// serving threads write them on every request.
    pub counters: counters::ChannelCounters,
    pub versions: Arc<ChannelVersions>,
    pub cache: Arc<cache::RenderCache>,
    /// Caching headers of channel responses: anyone's, and a partner's own.
    pub public_cache: cache::CacheHeaders,
    pub private_cache: cache::CacheHeaders,
    /// Attribution for every source, computed once.
    pub source_infos: Arc<HashMap<SourceId, SourceInfo>>,
    /// Each public topic's title, for the channels that name an item's topics (ninjs
    /// `subjects`): a private topic is named only in its own channel.
    pub topic_titles: Arc<HashMap<TopicId, String>>,
    /// Partners, private channels and the admin key, with each partner's usage.
    pub gate: Arc<crate::access::Gate>,
    /// Which channels show one item per event.
    pub grouped: crate::events::Grouped,
    /// `{public_url}/websub` when the WebSub hub is on: every channel advertises it.
    pub hub_url: Option<String>,
    /// What the WebSub hub counts (deliveries, subscriptions), shown at `/metrics`.
    pub websub: Arc<crate::metrics::WebSubMetrics>,
}

/// What HTTP is handed by whoever runs it: the store to read, and handles to what the poller
/// and the commits maintain.
#[derive(Debug, Clone)]
pub struct Handles {
    pub store: Store,
    pub board: Arc<Board>,
    pub metrics: Arc<Metrics>,
    pub versions: Arc<ChannelVersions>,
}

impl AppState {
    pub fn new(settings: Arc<Settings>, handles: Handles) -> Self {
        let base = settings.server.public_url.as_str().trim_end_matches('/').to_owned();
        let source_infos = (settings.sources.iter())
            .map(|s| {
                let feed_url = match &s.url {
                    FeedUrl::Http(u) => Some(u.to_string()),
                    FeedUrl::File(_) => None,
                };
                let channel_url = format!("{base}/sources/{}.rss", s.id);
                (s.id.clone(), SourceInfo { title: s.title.clone(), feed_url, channel_url })
            })
            .collect();
        let public_topics = settings.topics.iter().filter(|t| !t.private);
        let topic_titles = public_topics.map(|t| (t.id.clone(), t.title.clone())).collect();
        let max_age = settings.server.max_age;
        let hub_url = settings.websub.enabled.then(|| format!("{base}/websub"));
        Self(Arc::new(Shared {
            store: handles.store,
            board: handles.board,
            metrics: handles.metrics,
            counters: counters::ChannelCounters::default(),
            versions: handles.versions,
            cache: Arc::default(),
            public_cache: cache::CacheHeaders::public(max_age),
            private_cache: cache::CacheHeaders::private(max_age),
            gate: Arc::new(crate::access::Gate::of(&settings)),
            source_infos: Arc::new(source_infos),
            topic_titles: Arc::new(topic_titles),
            grouped: crate::events::Grouped::of(&settings.stories, &settings.topics),
            hub_url,
            websub: Arc::default(),
            settings,
        }))
    }

    /// The state for `settings` after a reload. What counts since the start carries over (the
    /// request counters, the hub's, and the partners' usage and rate-limit buckets while the
    /// partners, private channels and admin key stay the same); the render cache starts empty.
    pub fn reconfigured(&self, settings: Arc<Settings>) -> Self {
        let handles = Handles {
            store: self.store.clone(),
            board: self.board.clone(),
            metrics: self.metrics.clone(),
            versions: self.versions.clone(),
        };
        let gate = self.gate.reconfigured(&settings);
        let fresh = Self::new(settings, handles);
        match Arc::try_unwrap(fresh.0) {
            Ok(shared) => {
                Self(Arc::new(Shared { counters: self.counters.clone(), websub: self.websub.clone(), gate, ..shared }))
            }
            Err(fresh) => Self(fresh),
        }
    }

    /// `server.public_url` without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.settings.server.public_url.as_str().trim_end_matches('/')
    }
}

pub fn router(live: Live) -> Router {
    // Everything an operator reads, behind the admin key when one is set.
    let admin = Router::new()
        .route("/api/sources", get(api::sources))
        .route("/api/partners", get(api::partners))
        .route("/metrics", get(api::metrics))
        .route("/api/entries/{key}", get(api::entry))
        .route("/api/stories/{id}", get(api::story))
        .route("/api/events/{id}", get(api::event))
        .route("/api/backup", post(backup::backup))
        .route("/api/reload", post(reload::reload))
        .route("/api/prune", post(prune::prune))
        .route("/status", get(status_page::page))
        .route_layer(axum::middleware::from_fn_with_state(live.clone(), guard::require_admin));
    Router::new()
        .route("/", get(index::html))
        .route("/channels.opml", get(index::opml))
        // A capture with a static suffix ("{id}.atom") is not supported: take the whole
        // segment and split it into channel and format.
        .route("/feeds/{file}", get(feeds::channel::<{ feeds::FEEDS }>))
        .route("/topics/{file}", get(feeds::channel::<{ feeds::TOPICS }>))
        .route("/sources/{file}", get(feeds::channel::<{ feeds::SOURCES }>))
        .route("/healthz", get(api::health))
        .merge(admin)
        .fallback(|| async { ApiError::NotFound("no such page".into()) })
        .with_state(live)
}
