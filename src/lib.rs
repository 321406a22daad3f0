//! newsriver: polls newsroom feeds, normalizes and deduplicates their items, stores them durably
//! and republishes merged channels.
//!
//! ```text
//! config (plain data) ─► app::Application::build()   (store, pools, poller, HTTP state, listener)
//!                          │ run_until_stopped(token)
//!   schedule (1 s tick, cron jobs) ─► worker::Poller (global + per-host limits; due by cadence)
//!     (PostgreSQL, several instances: worker::shared claims source + host leases in the store,
//!      store/leases.rs; lease timing is `lease`; one schedule across instances, due in the lease row)
//!                                          │
//!   pipeline::refresh: fetch ─► parse ─► normalize ─► dedup ─► articles ─► stories ─► events ─► topics
//!                      │          (records: Change, IndexWrite, Story, EventRecord) ─► store commit (flush, then ack)
//!                      │  (articles: a full-text source's new items' pages fetched and read by `extract`;
//!                      │   after the commit, pages younger than recheck_for asked again: recheck)
//!                      └─ PollOutcome ─► SourceState::apply (domain) ─► status::Board ─► /api, /metrics, CLI
//!   (a sitemap source's fetch asks robots.txt, reads its index's children; a page source's asks it, then
//!    fetches the listing as a feed; parse gives the same feed model from either)
//!
//!   http (narrow state, one lock-free load per request): /{feeds,topics,sources}/{name}[.{rss,atom,json,ninjs}]
//!     (no extension: the channel's page), /status, /api/* ◄── render ◄── store
//!     access (pure): partner keys and private channels ─► may_read, asked before the render cache
//!   websub: POST /websub ─► verify intent ─► subscriptions (store) ; commit ─► ChannelVersions ─►
//!     worker ─► http's since page per (topic, position) ─► signed POST to each callback (guarded client)
//!   export: http's first pages, OPML and index ─► files replaced whole (`newsriver export`, and
//!     `[export] dir` kept current by `serve` as `ChannelVersions` move)
//!
//!   extract (pure): one HTML page ─► Article (`newsriver extract`, and the pipeline's articles step)
//!   pipeline::preview: fetch ─► parse ─► normalize ─► articles, committed nowhere (`newsriver preview`)
//!   events: a new story's first report ─► names, numbers, dates, rare words ─► online index of rare
//!     terms (in memory, rebuilt from stored decisions after a start) ─► join / open / merge, then each
//!     report's place (shown, or listed under the event's primary) (measured by `examples/events_eval`)
//!   discover (apart from the pipeline): a page ─► fetch ─► its rel=alternate feeds, robots.txt
//!     sitemaps, usual feed paths ─► each fetched and parsed ─► `[[source]]` tables (`newsriver discover`)
//!   catalog: OPML in and out, new `[[source]]` files under `include` (`import`, `add`, `export-sources`)
//!   reload: SIGHUP or `POST /api/reload` ─► config read again ─► what changed ─► app swaps the poller's
//!     settings, cron jobs and HTTP's state (a broken file changes nothing: `config_error`)
//!   prune: `newsriver prune` or `POST /api/prune` ─► a removed source's items, batch by batch ─►
//!     stories and events settled again without them ─► store removal (one commit per batch)
//!   coherence (PostgreSQL, several instances): local bumps ─► pg_notify ─► other instances' LISTEN ─►
//!     their ChannelVersions (freshness); every 2 s the stored change-log number ─► channels of the
//!     entries past it (correctness, no LISTEN needed); `newsriver copy-store` moves every record
//! ```

pub mod access;
pub mod app;
pub mod cadence;
pub mod catalog;
pub mod channels;
pub mod cli;
pub mod coherence;
pub mod config;
pub mod dedup;
pub mod discover;
pub mod domain;
pub mod events;
pub mod export;
pub mod extract;
pub mod fetch;
pub mod http;
pub mod lease;
mod load;
pub mod maintenance;
pub mod metrics;
pub mod normalize;
pub mod parse;
pub mod pipeline;
pub mod prune;
pub mod reload;
pub mod render;
pub mod robots;
pub mod runtime;
pub mod schedule;
pub mod status;
pub mod store;
pub mod stories;
pub mod text;
pub mod topics;
pub mod websub;
pub mod worker;
