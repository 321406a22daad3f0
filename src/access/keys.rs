//! New keys: 32 bytes from the operating system's CSPRNG, base64url without padding, after a
//! prefix that says what the key opens (and lets secret scanners spot one).

use base64::Engine as _;

/// Partner keys start with this.
pub const PARTNER_PREFIX: &str = "nrp_";
/// The admin key starts with this.
pub const ADMIN_PREFIX: &str = "nra_";

/// A fresh key: `prefix` and 43 characters carrying 256 random bits.
pub fn new_key(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_url_safe_and_never_repeat() {
        let a = new_key(PARTNER_PREFIX).expect("random");
        let b = new_key(PARTNER_PREFIX).expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), PARTNER_PREFIX.len() + 43);
        let body = a.trim_start_matches(PARTNER_PREFIX);
        assert!(body.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
    }
}
