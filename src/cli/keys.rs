//! `newsriver partner new ID` and `newsriver admin-key`: a fresh key, shown once on stderr, and
//! what the config keeps of it (its SHA-256) on stdout, so `>> newsriver.toml` appends the
//! table and never the key.

use super::out::emit;
use crate::access::{new_key, ADMIN_PREFIX, PARTNER_PREFIX};
use crate::domain::{KeyDigest, PartnerId};
use std::io::Write as _;
use toml::{Table, Value};

/// What `partner new` is told about the partner beside its id.
#[derive(Debug, Clone, Default)]
pub struct NewPartner {
    pub title: Option<String>,
    /// Channel names as the config writes them; none means `"*"`.
    pub channels: Vec<String>,
    pub rate_limit: Option<u32>,
}

pub fn partner_new(id: &str, p: &NewPartner) -> anyhow::Result<()> {
    let id = PartnerId::parse(id).map_err(|e| anyhow::anyhow!("partner id {id:?} {e}"))?;
    if p.rate_limit == Some(0) {
        anyhow::bail!("--rate-limit must be at least 1 (requests a minute)");
    }
    let key = new_key(PARTNER_PREFIX).map_err(|e| anyhow::anyhow!("no random bytes from the system: {e}"))?;
    show_key(&format!("Key of partner {id}"), &key)?;
    emit(&partner_table(&id, p, &KeyDigest::of_key(&key))?)
}

/// The `[[partner]]` table for the config.
fn partner_table(id: &PartnerId, p: &NewPartner, digest: &KeyDigest) -> anyhow::Result<String> {
    let mut t = Table::new();
    t.insert("id".into(), Value::String(id.to_string()));
    t.insert("title".into(), Value::String(p.title.clone().unwrap_or_else(|| id.to_string())));
    t.insert("key_sha256".into(), Value::String(digest.to_hex()));
    let channels = if p.channels.is_empty() { vec!["*".to_owned()] } else { p.channels.clone() };
    t.insert("channels".into(), Value::Array(channels.into_iter().map(Value::String).collect()));
    if let Some(n) = p.rate_limit {
        t.insert("rate_limit".into(), Value::Integer(i64::from(n)));
    }
    let mut doc = Table::new();
    doc.insert("partner".into(), Value::Array(vec![Value::Table(t)]));
    let comment = format!("\n# Partner {id}: the SHA-256 of its key (the key itself is kept nowhere).\n");
    Ok(comment + &toml::to_string(&doc)?)
}

pub fn admin_key() -> anyhow::Result<()> {
    let key = new_key(ADMIN_PREFIX).map_err(|e| anyhow::anyhow!("no random bytes from the system: {e}"))?;
    show_key("Admin key", &key)?;
    let digest = KeyDigest::of_key(&key).to_hex();
    emit(&format!(
        "# Under [server] in the config (the key itself is kept nowhere):\nadmin_key_sha256 = \"{digest}\"\n"
    ))
}

/// The key, once, on its own line: stderr, so the config table on stdout can be appended to a
/// file without it.
fn show_key(what: &str, key: &str) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    writeln!(err, "{what} (shown once; only its SHA-256 is kept, so store it now):\n{key}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_the_digest_and_escapes_the_title() {
        let id = PartnerId::parse("planet").expect("slug");
        let p = NewPartner { title: Some("The \"Planet\"".into()), channels: vec![], rate_limit: Some(60) };
        let digest = KeyDigest::of_key("nrp_x");
        let text = partner_table(&id, &p, &digest).expect("toml");
        let doc: Table = toml::from_str(&text).expect("parses");
        let t = &doc["partner"].as_array().expect("array")[0];
        assert_eq!(t["title"].as_str(), Some("The \"Planet\""));
        assert_eq!(t["key_sha256"].as_str(), Some(digest.to_hex().as_str()));
        assert_eq!(t["channels"].as_array().map(Vec::len), Some(1));
        assert_eq!(t["rate_limit"].as_integer(), Some(60));
    }
}
