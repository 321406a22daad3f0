//! newsriver's one integration-test binary: real HTTP servers on 127.0.0.1, real sled stores in
//! temp dirs (or, with `NEWSRIVER_TEST_STORE=postgres`, databases of a throwaway PostgreSQL
//! cluster the tests start), real clients (feed-rs, reqwest) reading our output.

mod helpers;
mod hostile_server;

mod backup;
mod channel_pages;
mod channels;
mod clients;
mod coherence;
mod config_files;
mod connections;
mod copy_store;
mod corpus;
mod deploy;
mod discovery;
mod durability;
mod event_api;
mod event_channels;
mod events;
mod events_set;
mod export;
mod extract_url;
mod extraction;
mod full_text;
mod hostile;
mod hostile_articles;
mod http_api;
mod include_files;
mod ingest;
mod leases;
mod metrics;
mod ninjs;
mod opml;
mod pages;
mod partners;
mod partners_admin;
mod politeness;
mod polling;
mod postgres;
mod preview;
mod prune;
mod reload;
mod sitemaps;
mod status_page;
mod stories;
mod story_quality;
mod teardown;
mod websub;
mod websub_crash;
mod websub_limits;
mod websub_private;
