//! Dates as listing pages write them: machine forms (RFC 3339, RFC 2822), common human forms, or
//! the source's own `date_format`; found at the start of any word of the text ("Published 3 May 2026").

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Human forms read when the source names no format: each with a time before its date-only
/// form, so that a time is not lost to a shorter match. Day-first and month-first numeric forms
/// (03/04/2026) are ambiguous and left to `date_format`.
#[rustfmt::skip]
const DATE_TIMES: &[&str] = &[
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%d %B %Y %H:%M", "%d %B %Y, %H:%M", "%B %d, %Y %H:%M", "%B %d, %Y, %H:%M", "%B %d, %Y at %H:%M",
    "%d %B %Y %I:%M %p", "%B %d, %Y %I:%M %p", "%B %d, %Y, %I:%M %p",
];
#[rustfmt::skip]
const DATES: &[&str] = &["%Y-%m-%d", "%d %B %Y", "%d. %B %Y", "%B %d, %Y", "%B %d %Y", "%Y/%m/%d", "%d.%m.%Y"];

/// Words of the text a date may start at: a date is near the start of its element.
const MAX_STARTS: usize = 12;
/// Longer texts are not dates with a little around them; they are not read.
const MAX_CHARS: usize = 200;

/// The date `text` starts with, or holds after a few words, read with `format` when given (with
/// or without a time, with or without an offset) else as any known form. Times without an
/// offset, and dates without a time (midnight), are UTC.
pub fn parse_date(text: &str, format: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_CHARS {
        return None;
    }
    if let Some(d) = machine(text) {
        return Some(d);
    }
    let formats: Vec<&str> = match format {
        Some(f) => vec![f],
        None => DATE_TIMES.iter().chain(DATES).copied().collect(),
    };
    starts(text).find_map(|at| formats.iter().find_map(|f| with_format(&text[at..], f)))
}

/// RFC 3339 and RFC 2822, as `datetime` attributes and `<meta content>` write them.
fn machine(s: &str) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(s).or_else(|_| DateTime::parse_from_rfc2822(s));
    parsed.ok().map(|d| d.with_timezone(&Utc)).or_else(|| crate::parse::sitemap::w3c_date(s))
}

/// Byte offsets of the words a date may start at: the text's start and after each run of
/// spaces or punctuation that is not part of a date.
fn starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut prev_sep = true;
    let breaks = text.char_indices().filter_map(move |(i, c)| {
        let sep = c.is_whitespace() || matches!(c, ':' | '|' | '·' | '–' | '—' | '(' | '[' | ',');
        let start = prev_sep && !sep;
        prev_sep = sep;
        start.then_some(i)
    });
    breaks.take(MAX_STARTS)
}

/// `s` read with `format`, with an offset, as a local time, or as a date: what follows the date
/// must not continue a word or a number ("2026-05-03x" is not a date).
fn with_format(s: &str, format: &str) -> Option<DateTime<Utc>> {
    let clean = |rest: &str| rest.chars().next().is_none_or(|c| !c.is_alphanumeric());
    if let Ok((d, rest)) = DateTime::parse_and_remainder(s, format) {
        if clean(rest) {
            return Some(d.with_timezone(&Utc));
        }
    }
    if let Ok((d, rest)) = NaiveDateTime::parse_and_remainder(s, format) {
        if clean(rest) {
            return Some(d.and_utc());
        }
    }
    match NaiveDate::parse_and_remainder(s, format) {
        Ok((d, rest)) if clean(rest) => d.and_hms_opt(0, 0, 0).map(|d| d.and_utc()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<DateTime<Utc>> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single()
    }

    #[test]
    fn machine_and_common_forms() {
        let cases = [
            ("2026-05-03T09:30:00+02:00", at(2026, 5, 3, 7, 30)),
            ("Sun, 03 May 2026 09:30:00 +0000", at(2026, 5, 3, 9, 30)),
            ("2026-05-03", at(2026, 5, 3, 0, 0)),
            ("2026-05-03 09:30", at(2026, 5, 3, 9, 30)),
            ("3 May 2026", at(2026, 5, 3, 0, 0)),
            ("May 3, 2026", at(2026, 5, 3, 0, 0)),
            ("December 7, 2023", at(2023, 12, 7, 0, 0)),
            ("Last update: June 21, 2024 23:23", at(2024, 6, 21, 23, 23)),
            ("Published 12 March 2026 | Statement", at(2026, 3, 12, 0, 0)),
            ("  3 Sept 2026 ", None),
            ("03.05.2026", at(2026, 5, 3, 0, 0)),
            ("03/04/2026", None),
            ("yesterday", None),
            ("2026-05-03x", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_date(text, None), want, "{text:?}");
        }
    }

    #[test]
    fn a_source_format_with_and_without_time() {
        assert_eq!(parse_date("03/04/2026", Some("%d/%m/%Y")), at(2026, 4, 3, 0, 0));
        assert_eq!(parse_date("Issued 03/04/2026 - 14h05", Some("%d/%m/%Y - %Hh%M")), at(2026, 4, 3, 14, 5));
        assert_eq!(parse_date("2026.04.03 14:05 +0200", Some("%Y.%m.%d %H:%M %z")), at(2026, 4, 3, 12, 5));
        assert_eq!(parse_date("Fri 3rd", Some("%d/%m/%Y")), None);
        // The source's format replaces the built-in human forms, but machine forms still read.
        assert_eq!(parse_date("3 May 2026", Some("%d/%m/%Y")), None);
        assert_eq!(parse_date("2026-05-03T09:30:00Z", Some("%d/%m/%Y")), at(2026, 5, 3, 9, 30));
        assert_eq!(parse_date("3/4/2026", Some("%Q")), None, "a format chrono cannot read is no date, not a panic");
        assert_eq!(parse_date(&"9".repeat(500), Some("%Y")), None);
    }
}
