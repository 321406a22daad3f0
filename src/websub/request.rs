//! A subscriber's request to the hub (WebSub §5.1), read from its form body: pure, so every
//! refusal is a unit test. Unknown parameters are ignored; a known one given twice is refused.

use std::time::Duration;
use url::Url;

/// `hub.secret` must be shorter than this (§5.1).
pub const MAX_SECRET: usize = 200;
/// A topic URL longer than this names no channel of ours.
const MAX_TOPIC: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Subscribe,
    Unsubscribe,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribe => "subscribe",
            Self::Unsubscribe => "unsubscribe",
        }
    }
}

/// A well-formed request; whether its topic exists and it may subscribe is decided after.
#[derive(Clone, PartialEq, Eq)]
pub struct HubRequest {
    pub mode: Mode,
    pub callback: Url,
    pub topic: String,
    pub lease_seconds: Option<u64>,
    pub secret: Option<String>,
    /// `hub.key`, else the bearer token of the `Authorization` header: a partner's key.
    pub key: Option<String>,
}

/// Secrets and keys never reach a log line.
impl std::fmt::Debug for HubRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubRequest")
            .field("mode", &self.mode)
            .field("callback", &self.callback.as_str())
            .field("topic", &self.topic)
            .field("lease_seconds", &self.lease_seconds)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Why a request is refused with `400`; the message is the answer's body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{0} is given more than once")]
    Repeated(&'static str),
    #[error("hub.mode {0:?} is not subscribe or unsubscribe (this hub takes no publish requests)")]
    Mode(String),
    #[error("hub.callback {0}")]
    Callback(String),
    #[error("hub.callback is {len} bytes long; at most {max} are accepted")]
    CallbackTooLong { len: usize, max: usize },
    #[error("hub.topic is longer than {MAX_TOPIC} bytes")]
    TopicTooLong,
    #[error("hub.lease_seconds {0:?} is not a whole number of seconds")]
    Lease(String),
    #[error("hub.secret must be shorter than {MAX_SECRET} bytes")]
    SecretTooLong,
}

/// Reads a form body (`application/x-www-form-urlencoded`) and the request's `Authorization`.
pub fn parse(body: &[u8], authorization: Option<&str>, max_callback: usize) -> Result<HubRequest, RequestError> {
    let mut fields: [Option<String>; 6] = Default::default();
    const NAMES: [&str; 6] = ["hub.mode", "hub.callback", "hub.topic", "hub.lease_seconds", "hub.secret", "hub.key"];
    for (name, value) in url::form_urlencoded::parse(body) {
        let Some(i) = NAMES.iter().position(|n| *n == name) else { continue };
        if fields[i].replace(value.into_owned()).is_some() {
            return Err(RequestError::Repeated(NAMES[i]));
        }
    }
    let [mode, callback, topic, lease, secret, key] = fields;
    let mode = match mode.as_deref() {
        Some("subscribe") => Mode::Subscribe,
        Some("unsubscribe") => Mode::Unsubscribe,
        Some(other) => return Err(RequestError::Mode(other.to_owned())),
        None => return Err(RequestError::Missing("hub.mode")),
    };
    let callback = callback_url(callback.as_deref().ok_or(RequestError::Missing("hub.callback"))?, max_callback)?;
    let topic = topic.filter(|t| !t.is_empty()).ok_or(RequestError::Missing("hub.topic"))?;
    if topic.len() > MAX_TOPIC {
        return Err(RequestError::TopicTooLong);
    }
    let lease_seconds = lease.map(|l| l.trim().parse::<u64>().map_err(|_| RequestError::Lease(l))).transpose()?;
    let secret = secret.filter(|s| !s.is_empty());
    if secret.as_ref().is_some_and(|s| s.len() >= MAX_SECRET) {
        return Err(RequestError::SecretTooLong);
    }
    let key = key.filter(|k| !k.is_empty()).or_else(|| bearer(authorization));
    Ok(HubRequest { mode, callback, topic, lease_seconds, secret, key })
}

fn callback_url(raw: &str, max: usize) -> Result<Url, RequestError> {
    if raw.len() > max {
        return Err(RequestError::CallbackTooLong { len: raw.len(), max });
    }
    let url = Url::parse(raw).map_err(|e| RequestError::Callback(format!("{raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(RequestError::Callback("must be an absolute http(s) URL".into()));
    }
    if url.fragment().is_some() {
        return Err(RequestError::Callback("must not have a #fragment".into()));
    }
    Ok(url)
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(header: Option<&str>) -> Option<String> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The lease granted: the one asked for held to `min..=max`, else `default`.
pub fn lease(asked: Option<u64>, default: Duration, min: Duration, max: Duration) -> Duration {
    asked.map_or(default, |s| Duration::from_secs(s).clamp(min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CB: &str = "hub.callback=https%3A%2F%2Fpartner.example%2Fcb%3Fx%3D1";

    fn form(extra: &str) -> Result<HubRequest, RequestError> {
        parse(format!("{CB}&hub.topic=https%3A%2F%2Fnews.example%2Ffeeds%2Fall.atom&{extra}").as_bytes(), None, 2048)
    }

    #[test]
    fn a_full_request_and_unknown_parameters_ignored() {
        let r = form("hub.mode=subscribe&hub.lease_seconds=3600&hub.secret=s3cr3t&foo=bar&hub.foo=baz").expect("ok");
        assert_eq!(r.mode, Mode::Subscribe);
        assert_eq!(r.callback.as_str(), "https://partner.example/cb?x=1");
        assert_eq!(r.topic, "https://news.example/feeds/all.atom");
        assert_eq!((r.lease_seconds, r.secret.as_deref(), r.key.as_deref()), (Some(3600), Some("s3cr3t"), None));
        assert!(!format!("{r:?}").contains("s3cr3t"), "secrets are not printed");
        assert_eq!(form("hub.mode=unsubscribe").expect("ok").mode, Mode::Unsubscribe);
        assert_eq!(form("hub.mode=subscribe&hub.secret=").expect("ok").secret, None, "empty is none");
    }

    #[test]
    fn keys_come_from_the_parameter_or_a_bearer_header() {
        let body = format!("{CB}&hub.topic=t&hub.mode=subscribe");
        let with =
            |auth: Option<&str>, extra: &str| parse(format!("{body}{extra}").as_bytes(), auth, 2048).expect("ok").key;
        assert_eq!(with(None, "&hub.key=k1"), Some("k1".into()));
        assert_eq!(with(Some("Bearer  k2 "), ""), Some("k2".into()));
        assert_eq!(with(Some("bearer k2"), "&hub.key=k1"), Some("k1".into()), "the parameter wins");
        assert_eq!(with(Some("Basic dXNlcg=="), ""), None);
        assert_eq!(with(Some("Bearer"), ""), None);
    }

    #[test]
    fn refusals_name_the_parameter() {
        let bad = |body: &str| parse(body.as_bytes(), None, 64).expect_err(body);
        assert_eq!(bad("hub.callback=https://a.example/&hub.topic=t"), RequestError::Missing("hub.mode"));
        assert_eq!(bad("hub.mode=publish&hub.url=x"), RequestError::Mode("publish".into()));
        assert_eq!(bad("hub.mode=subscribe&hub.topic=t"), RequestError::Missing("hub.callback"));
        assert_eq!(bad("hub.mode=subscribe&hub.callback=https://a.example/"), RequestError::Missing("hub.topic"));
        assert!(matches!(
            bad("hub.mode=subscribe&hub.topic=t&hub.callback=ftp://a.example/"),
            RequestError::Callback(_)
        ));
        assert!(matches!(bad("hub.mode=subscribe&hub.topic=t&hub.callback=/relative"), RequestError::Callback(_)));
        assert!(matches!(
            bad("hub.mode=subscribe&hub.topic=t&hub.callback=https://a.example/#f"),
            RequestError::Callback(_)
        ));
        let long = format!("hub.mode=subscribe&hub.topic=t&hub.callback=https://a.example/{}", "x".repeat(64));
        assert!(matches!(bad(&long), RequestError::CallbackTooLong { max: 64, .. }));
        let secret =
            format!("hub.mode=subscribe&hub.topic=t&hub.callback=https://a.example/&hub.secret={}", "s".repeat(200));
        assert_eq!(bad(&secret), RequestError::SecretTooLong);
        assert_eq!(
            bad("hub.mode=subscribe&hub.topic=t&hub.callback=https://a.example/&hub.lease_seconds=-1"),
            RequestError::Lease("-1".into())
        );
        assert_eq!(bad("hub.mode=subscribe&hub.mode=unsubscribe"), RequestError::Repeated("hub.mode"));
    }

    #[test]
    fn leases_are_held_to_the_bounds() {
        let (d, min, max) = (Duration::from_secs(864_000), Duration::from_secs(60), Duration::from_secs(86_400));
        assert_eq!(lease(None, d, min, max), d);
        assert_eq!(lease(Some(1), d, min, max), min);
        assert_eq!(lease(Some(3600), d, min, max), Duration::from_secs(3600));
        assert_eq!(lease(Some(u64::MAX), d, min, max), max);
    }
}
