//! The address guard: a feed URL must not turn newsriver against its own network. Addresses are
//! checked after DNS, at connect time (the resolver below), and IP-literal hosts on every hop.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Which destinations are refused, and the operator's exceptions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressGuard {
    allow_private: bool,
    /// Lower-cased host names or IP literals exempt from the guard.
    allow_hosts: Arc<HashSet<String>>,
}

/// A request was refused before it was sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("blocked by the address guard: {host} is {reason} ({addr}); allow it with polling.allow_hosts")]
pub struct Blocked {
    pub host: String,
    pub addr: IpAddr,
    pub reason: &'static str,
}

impl AddressGuard {
    pub fn new(allow_private: bool, allow_hosts: impl IntoIterator<Item = String>) -> Self {
        let hosts = allow_hosts.into_iter().map(|h| normalize_host(&h)).collect();
        Self { allow_private, allow_hosts: Arc::new(hosts) }
    }

    fn exempt(&self, host: &str) -> bool {
        self.allow_private || self.allow_hosts.contains(&normalize_host(host))
    }

    /// Checks a URL whose host is an IP literal; host names are checked when they resolve.
    pub fn check_url(&self, url: &url::Url) -> Result<(), Blocked> {
        let (host, ip) = match url.host() {
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), IpAddr::V6(ip)),
            _ => return Ok(()),
        };
        self.check_addr(&host, ip)
    }

    pub fn check_addr(&self, host: &str, ip: IpAddr) -> Result<(), Blocked> {
        match blocked_reason(ip) {
            Some(reason) if !self.exempt(host) => Err(Blocked { host: host.to_owned(), addr: ip, reason }),
            _ => Ok(()),
        }
    }
}

fn normalize_host(h: &str) -> String {
    h.trim().trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

/// Why an address is not a public destination, or `None` when it is one.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        _ if ip.is_unspecified() || a == 0 => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private address",
        _ if a == 100 && (b & 0xc0) == 64 => "a carrier-grade NAT address",
        _ if ip.is_link_local() => "a link-local address",
        _ if ip.is_multicast() => "a multicast address",
        _ if ip.is_broadcast() || a >= 240 => "a reserved address",
        _ if a == 192 && b == 0 && c == 0 => "an IETF protocol address",
        _ if a == 198 && (b & 0xfe) == 18 => "a benchmarking address",
        _ if ip.is_documentation() => "a documentation address",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4);
    }
    let first = ip.segments()[0];
    Some(match () {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        _ if (first & 0xfe00) == 0xfc00 => "a unique-local address",
        _ if (first & 0xffc0) == 0xfe80 => "a link-local address",
        _ if (first & 0xffc0) == 0xfec0 => "a site-local address",
        _ if ip.is_multicast() => "a multicast address",
        _ if first == 0x2001 && ip.segments()[1] == 0x0db8 => "a documentation address",
        _ if first == 0x0100 && ip.segments()[1..4] == [0, 0, 0] => "a discard-only address",
        _ => return None,
    })
}

/// IPv4 carried inside IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d`, 6to4 `2002:ab:cd::`) reaches the IPv4 network, so it is judged as IPv4.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(tail(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(tail(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(tail(hi, lo)),
        [0x2002, hi, lo, ..] => Some(tail(hi, lo)),
        _ => None,
    }
}

/// The system resolver, with every answer checked against the guard, so the address a
/// connection is made to is the address that was checked (no DNS rebinding window).
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub guard: AddressGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_block = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match guard.check_addr(&host, a.ip()) {
                    Ok(()) => true,
                    Err(b) => {
                        first_block.get_or_insert(b);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), first_block) {
                (true, Some(blocked)) => Err(Box::new(blocked) as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_non_public_addresses() {
        let blocked = [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:c0a8:0101::1",
            "2001:db8::1",
            "100::1",
        ];
        for a in blocked {
            let ip: IpAddr = a.parse().expect(a);
            assert!(blocked_reason(ip).is_some(), "{a} must be blocked");
        }
        let public = ["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:1.1.1.1"];
        for a in public {
            let ip: IpAddr = a.parse().expect(a);
            assert_eq!(blocked_reason(ip), None, "{a} is public");
        }
    }

    #[test]
    fn literal_urls_and_exemptions() {
        let guard = AddressGuard::new(false, ["127.0.0.2".to_owned(), "Feeds.Internal.".to_owned()]);
        let url = |s: &str| url::Url::parse(s).expect("url");
        assert!(guard.check_url(&url("http://127.0.0.1:8080/feed")).is_err());
        assert!(guard.check_url(&url("http://[::ffff:7f00:1]/feed")).is_err(), "mapped loopback");
        assert!(guard.check_url(&url("http://2130706433/feed")).is_err(), "decimal IPv4 is parsed as 127.0.0.1");
        assert!(guard.check_url(&url("http://0x7f.1/feed")).is_err(), "hex IPv4");
        assert!(guard.check_url(&url("http://127.0.0.2/feed")).is_ok(), "allowed literal");
        assert!(guard.check_addr("feeds.internal", "10.0.0.5".parse().expect("ip")).is_ok(), "allowed name");
        assert!(guard.check_addr("other.internal", "10.0.0.5".parse().expect("ip")).is_err());
        assert!(guard.check_url(&url("https://news.example/feed")).is_ok(), "names are checked at resolve time");
        let open = AddressGuard::new(true, []);
        assert!(open.check_url(&url("http://10.0.0.1/")).is_ok());
    }
}
