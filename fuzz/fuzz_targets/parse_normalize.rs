//! Arbitrary bytes through `parse_feed`, then `normalize_feed`, `fingerprint` and `revision`:
//! none of them may panic, whatever the body.
//!
//! `parse_once` wraps the feed-rs parser in `catch_unwind` on purpose (the XML layer is known
//! to panic on some documents), while libfuzzer-sys aborts on every panic, caught or not. So by
//! default a panic raised inside a dependency while `parse_feed` runs is reported once per
//! source location on stderr ("tolerated dependency panic") and left to unwind: if newsriver
//! catches it, fuzzing goes on; if nothing does, libfuzzer-sys still aborts and it is a crash.
//! Panics located in newsriver's own code, or outside `parse_feed`, always abort at once with
//! the full stack. Set `NEWSRIVER_FUZZ_STRICT=1` to abort on every panic (plain libfuzzer-sys),
//! and `NEWSRIVER_FUZZ_PANIC_LOG=<file>` to also append the tolerated ones to a file.
#![no_main]

use chrono::{DateTime, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use newsriver::domain::SourceId;
use newsriver::normalize::{fingerprint, normalize_feed, revision, FeedContext};
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use url::Url;

struct Fixed {
    source: SourceId,
    url: Url,
    now: DateTime<Utc>,
}

thread_local! {
    static IN_PARSE: Cell<bool> = const { Cell::new(false) };
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        if std::env::var_os("NEWSRIVER_FUZZ_STRICT").is_none() {
            install_tolerant_hook();
        }
        Fixed {
            source: SourceId::parse("fuzz").expect("valid slug"),
            url: Url::parse("https://news.example/feed.xml").expect("valid url"),
            now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("valid date"),
        }
    })
}

/// Wraps libfuzzer-sys's hook (print + abort) so that dependency panics during parsing unwind.
fn install_tolerant_hook() {
    let abort_hook = std::panic::take_hook();
    let seen: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    std::panic::set_hook(Box::new(move |info| {
        let in_dep = info.location().is_some_and(|l| l.file().contains("/.cargo/registry/"));
        if IN_PARSE.with(Cell::get) && in_dep {
            let loc = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            if seen.lock().map(|mut s| s.insert(loc.clone())).unwrap_or(false) {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let line = format!("tolerated dependency panic at {loc}: {msg}");
                eprintln!("{line}");
                // Fork mode drops the children's stderr; this file keeps the list.
                if let Some(path) = std::env::var_os("NEWSRIVER_FUZZ_PANIC_LOG") {
                    use std::io::Write;
                    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
                        let _ = writeln!(f, "{line}");
                    }
                }
            }
            return;
        }
        abort_hook(info);
    }));
}

fuzz_target!(|data: &[u8]| {
    let f = fixed();
    IN_PARSE.with(|p| p.set(true));
    let parsed = newsriver::parse::parse_feed(data);
    IN_PARSE.with(|p| p.set(false));
    let Ok(feed) = parsed else {
        return;
    };
    let ctx = FeedContext { source: &f.source, fetch_url: Some(&f.url), now: f.now };
    for entry in normalize_feed(&feed, &ctx) {
        let fp = fingerprint(&entry);
        let rev = revision(&entry);
        std::hint::black_box((fp, rev));
    }
});
