//! `[websub]` settings: the hub's leases, retries, abuse limits and the external hubs it pings.

use std::time::Duration;
use url::Url;

/// `[websub]`: the built-in WebSub hub every channel advertises, and the external hubs pinged
/// when channels change.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSubSettings {
    /// Channels advertise the hub and `/websub` takes subscriptions.
    pub enabled: bool,
    /// The lease a subscriber gets when it asks for none; requests are held to min..=max.
    pub default_lease: Duration,
    pub min_lease: Duration,
    pub max_lease: Duration,
    /// The HMAC of `X-Hub-Signature` for subscribers that gave a secret.
    pub signature: Signature,
    /// One verification or delivery request, connection to answer.
    pub timeout: Duration,
    /// The first retry of a failed delivery waits this long; each next one twice as long, at most
    /// `retry_max` (plus jitter).
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// A callback failing for longer than this is suspended until it subscribes again.
    pub give_up_after: Duration,
    /// Subscription requests one client address may make per minute.
    pub requests_per_minute: usize,
    /// Subscriptions whose callbacks are on one host, and in total.
    pub max_per_host: usize,
    pub max_subscriptions: usize,
    /// Longest `hub.callback` accepted, in bytes.
    pub max_callback_length: usize,
    /// Most items, and most bytes, one delivery carries (a single larger item goes alone).
    pub batch_items: usize,
    pub batch_bytes: u64,
    /// Deliveries and verifications under way at once, in total and against one callback host.
    pub concurrency: usize,
    pub per_host: usize,
    /// Hubs told (`hub.mode=publish`) when a channel changes, at most once per `publish_every`.
    pub external_hubs: Vec<Url>,
    pub publish_every: Duration,
}

impl Default for WebSubSettings {
    fn default() -> Self {
        let day = 86_400;
        Self {
            enabled: true,
            default_lease: Duration::from_secs(10 * day),
            min_lease: Duration::from_secs(3600),
            max_lease: Duration::from_secs(30 * day),
            signature: Signature::Sha256,
            timeout: Duration::from_secs(10),
            retry_min: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(2 * day),
            requests_per_minute: 30,
            max_per_host: 100,
            max_subscriptions: 10_000,
            max_callback_length: 2048,
            batch_items: 100,
            batch_bytes: 1 << 20,
            concurrency: 64,
            per_host: 4,
            external_hubs: Vec::new(),
            publish_every: Duration::from_secs(5),
        }
    }
}

/// The hash of `X-Hub-Signature` (`sha256=<hex>`): sha256 by default, the others for
/// subscribers that check only what older hubs sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signature {
    Sha1,
    #[default]
    Sha256,
    Sha384,
    Sha512,
}

impl Signature {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "sha1" => Ok(Self::Sha1),
            "sha256" => Ok(Self::Sha256),
            "sha384" => Ok(Self::Sha384),
            "sha512" => Ok(Self::Sha512),
            other => Err(format!("{other:?} is not one of sha1, sha256, sha384, sha512")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}
