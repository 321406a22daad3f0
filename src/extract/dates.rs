//! Dates as pages write them: ISO 8601 / RFC 3339 in markup, "June 21, 2024 23:23" in text; zoneless times are taken as UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A machine-readable date (`datetime` attributes, JSON-LD, meta tags).
pub(super) fn parse_machine(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    let day = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d))
}

/// A date in words: "June 21, 2024 23:23", "December 7, 2023", "Jun 21, 2024, 11:23 PM".
pub(super) fn parse_human(s: &str) -> Option<DateTime<Utc>> {
    let cleaned: String = s.replace(['\u{a0}', ','], " ").replace(" at ", " ");
    let s = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    for f in ["%B %d %Y %H:%M", "%b %d %Y %H:%M", "%B %d %Y %I:%M %p", "%b %d %Y %I:%M %p", "%d %B %Y %H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(&s, f) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    for f in ["%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(&s, f) {
            return d.and_hms_opt(0, 0, 0).map(|d| Utc.from_utc_datetime(&d));
        }
    }
    parse_machine(&s)
}
