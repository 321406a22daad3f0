use super::*;
use crate::config::{PartnerSettings, Settings};
use crate::domain::{Grant, SourceId, TopicId};
use std::path::Path;

const CONFIG: &str = r#"
[[source]]
id = "wire"
url = "https://wire.example/rss"
private = true
[[source]]
id = "daily"
url = "https://daily.example/rss"
[[topic]]
id = "clients"
any = ["x"]
private = true
[[topic]]
id = "world"
any = ["y"]
"#;

struct NoChecks;
impl crate::config::Checks for NoChecks {
    fn term(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn cron(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn selector(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

fn partner(id: &str, key: &str, channels: Grant) -> PartnerSettings {
    PartnerSettings {
        id: PartnerId::parse(id).expect("slug"),
        title: id.into(),
        key_sha256: KeyDigest::of_key(key),
        channels,
        rate_limit: None,
    }
}

fn partners() -> Partners {
    let mut s = Settings::from_toml(CONFIG, Path::new("/x/newsriver.toml"), &NoChecks).expect("config");
    s.partners = vec![
        partner("planet", "nrp_planet", Grant::Channels(vec![topic("clients")])),
        partner("agency", "nrp_agency", Grant::All),
    ];
    s.server.admin_key_sha256 = Some(KeyDigest::of_key("nra_admin"));
    Partners::of(&s)
}

fn topic(id: &str) -> ChannelId {
    ChannelId::Topic(TopicId::parse(id).expect("slug"))
}

fn source(id: &str) -> ChannelId {
    ChannelId::Source(SourceId::parse(id).expect("slug"))
}

#[test]
fn private_channels_need_a_key_that_grants_them() {
    let p = partners();
    let (clients, wire) = (topic("clients"), source("wire"));
    assert_eq!(may_read(&p, &clients, None), Access::KeyRequired);
    assert_eq!(may_read(&p, &clients, Some("")), Access::KeyRequired, "an empty key is none");
    assert_eq!(may_read(&p, &clients, Some("nrp_guess")), Access::UnknownKey);
    assert_eq!(may_read(&p, &clients, Some("nrp_planet")), Access::Partner(0));
    assert_eq!(may_read(&p, &wire, Some("nrp_planet")), Access::NotGranted(0));
    assert_eq!(may_read(&p, &wire, Some("nrp_agency")), Access::Partner(1), "\"*\" grants every channel");
    assert_eq!(may_read(&p, &wire, Some("nra_admin")), Access::UnknownKey, "the admin key is no partner's");
}

#[test]
fn public_channels_are_open_and_count_known_keys() {
    let p = partners();
    for ch in [ChannelId::All, topic("world"), source("daily")] {
        assert_eq!(may_read(&p, &ch, None), Access::Public);
        assert_eq!(may_read(&p, &ch, Some("nrp_guess")), Access::Public, "an unknown key is ignored");
        assert_eq!(may_read(&p, &ch, Some("nrp_planet")), Access::Partner(0));
    }
}

#[test]
fn listings_show_private_channels_to_their_partners_only() {
    let p = partners();
    let every = vec![ChannelId::All, topic("clients"), topic("world"), source("wire"), source("daily")];
    let public = vec![ChannelId::All, topic("world"), source("daily")];
    assert_eq!(listed(&p, every.clone(), None), public);
    let planet = vec![ChannelId::All, topic("clients"), topic("world"), source("daily")];
    assert_eq!(listed(&p, every.clone(), Some(0)), planet);
    assert_eq!(listed(&p, every.clone(), Some(1)), every);
}

#[test]
fn the_admin_key_is_checked_only_when_set() {
    let p = partners();
    assert!(p.admin_required());
    assert!(p.is_admin(Some("nra_admin")));
    assert!(!p.is_admin(Some("nrp_agency")) && !p.is_admin(None));
    let open = Partners::default();
    assert!(!open.admin_required() && !open.is_admin(Some("nra_admin")));
}

#[test]
fn usage_counts_requests_not_modified_items_and_pushes() {
    let p = partners();
    let usage = Usage::new(&p);
    let (now, wall) = (std::time::Instant::now(), chrono::Utc::now());
    assert!(usage.admit(&p, 0, now, wall).is_ok());
    usage.served(0, false, 7);
    assert!(usage.admit(&p, 0, now, wall).is_ok());
    usage.served(0, true, 0);
    usage.record_push(&p, &PartnerId::parse("planet").expect("slug"), 3);
    usage.record_push(&p, &PartnerId::parse("nobody").expect("slug"), 3);
    let rows = usage.snapshot(&p);
    let planet = &rows[0];
    assert_eq!((planet.requests, planet.not_modified, planet.items_pulled, planet.items_pushed), (2, 1, 7, 3));
    assert_eq!(planet.not_modified_rate, 0.5);
    assert_eq!(planet.last_seen.map(|t| t.timestamp()), Some(wall.timestamp()));
    assert_eq!(rows[1].requests, 0);
    assert_eq!(rows[1].last_seen, None);
    let mut reg = crate::metrics::registry();
    usage.register(&p, &mut reg);
    let text = crate::metrics::encode(&reg).expect("encodes");
    let sample = |series: &str| {
        let line = text.lines().find(|l| l.rsplit_once(' ').is_some_and(|(s, _)| s == series));
        line.and_then(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok()).unwrap_or_else(|| panic!("no {series} in {text}"))
    };
    assert_eq!(sample(r#"newsriver_partner_requests_total{partner="planet"}"#), 2.0);
    assert_eq!(sample(r#"newsriver_partner_not_modified_total{partner="planet"}"#), 1.0);
    assert_eq!(sample(r#"newsriver_partner_items_pulled_total{partner="planet"}"#), 7.0);
    assert_eq!(sample(r#"newsriver_partner_items_pushed_total{partner="planet"}"#), 3.0);
    assert_eq!(sample(r#"newsriver_partner_last_seen_seconds{partner="planet"}"#), wall.timestamp() as f64);
    assert_eq!(sample(r#"newsriver_partner_requests_total{partner="agency"}"#), 0.0);
    assert!(text.lines().any(|l| l == "# TYPE newsriver_partner_requests counter"), "{text}");
    assert!(text.lines().any(|l| l == "# TYPE newsriver_partner_last_seen_seconds gauge"), "{text}");
}

#[test]
fn a_reload_keeps_the_counts_of_partners_that_remain() {
    let mut s = Settings::from_toml(CONFIG, Path::new("/x/newsriver.toml"), &NoChecks).expect("config");
    s.partners = vec![
        partner("planet", "nrp_planet", Grant::Channels(vec![topic("clients")])),
        partner("agency", "nrp_agency", Grant::All),
    ];
    let gate = Arc::new(Gate::of(&s));
    let (now, wall) = (std::time::Instant::now(), chrono::Utc::now());
    assert!(gate.usage.admit(&gate.partners, 0, now, wall).is_ok());
    gate.usage.served(1, false, 4);
    assert!(Arc::ptr_eq(&gate, &gate.reconfigured(&s)), "unchanged partners keep the gate");

    s.partners.remove(0);
    s.partners.push(partner("desk", "nrp_desk", Grant::All));
    let next = gate.reconfigured(&s);
    let rows = next.usage.snapshot(&next.partners);
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["agency", "desk"]);
    assert_eq!((rows[0].requests, rows[0].items_pulled), (0, 4), "agency kept what it took");
    assert_eq!((rows[1].requests, rows[1].items_pulled), (0, 0), "a new partner starts at zero");
    assert!(next.may_read(&topic("clients"), Some("nrp_planet")) != Access::Partner(0), "planet is gone");
}
