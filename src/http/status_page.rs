//! `GET /status`: every source's health as one server-rendered HTML page for people (works
//! without JavaScript, readable on a phone), from the same view as `GET /api/sources`.

use super::{ApiError, AppState};
use crate::status::SourceStatus;
use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// How many of the latest polls the page lists under the table.
const LAST_POLLS: usize = 10;

pub async fn page(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let sources = super::api::source_statuses(&state)?;
    let entries = state.store.entry_count() as u64;
    Ok(Html(render(&sources, entries, Utc::now()).into_string()))
}

/// The whole page: pure, so tests can render it from statuses alone.
pub fn render(sources: &[SourceStatus], entries: u64, now: DateTime<Utc>) -> Markup {
    let mut sorted: Vec<&SourceStatus> = sources.iter().collect();
    // Trouble first: a person opens this page to find what needs them.
    sorted.sort_by(|a, b| severity(&a.state).cmp(&severity(&b.state)).then_with(|| a.title.cmp(&b.title)));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // Fresh without JavaScript: the browser reloads it.
                meta http-equiv="refresh" content="60";
                title { "newsriver status" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Sources" }
                (summary(sources, entries, now))
                (table(&sorted, now))
                (last_polls(sources, now))
                footer { "newsriver " (env!("CARGO_PKG_VERSION")) " · as JSON: " a href="api/sources" { "/api/sources" } }
            }
        }
    }
}

/// Failing sources first, healthy ones last.
fn severity(state: &str) -> u8 {
    match state {
        "failing" => 0,
        "backing off" => 1,
        "disabled" => 2,
        "never polled" => 3,
        "polling" => 4,
        _ => 5,
    }
}

/// The CSS class of a state: its colour.
fn tone(state: &str) -> &'static str {
    match severity(state) {
        0 | 1 => "bad",
        2 | 3 => "idle",
        _ => "good",
    }
}

fn summary(sources: &[SourceStatus], entries: u64, now: DateTime<Utc>) -> Markup {
    let count = |s: &str| sources.iter().filter(|x| x.state == s).count();
    let states = ["failing", "backing off", "disabled", "never polled", "polling", "ok"];
    html! {
        p.summary {
            (sources.len()) " sources, " (entries) " items stored. "
            @for s in states {
                @let n = count(s);
                @if n > 0 { span class=(format!("badge {}", tone(s))) { (n) " " (s) } " " }
            }
            br;
            small { "As of " (now.format("%Y-%m-%d %H:%M:%S UTC")) }
        }
    }
}

fn table(sorted: &[&SourceStatus], now: DateTime<Utc>) -> Markup {
    html! {
        table #sources {
            thead { tr {
                th { "Source" } th { "State" } th { "Last poll" } th { "Next poll" } th { "Problem" }
                th { "Items/day" } th { "Unchanged" } th { "Interval" }
            } }
            tbody {
                @for s in sorted { (row(s, now)) }
            }
        }
    }
}

fn row(s: &SourceStatus, now: DateTime<Utc>) -> Markup {
    html! {
        tr data-source=(s.id) data-state=(s.state) class=(tone(&s.state)) {
            td data-label="Source" {
                strong { (s.title) } br;
                small { code { (s.id) } " · " a href=(s.effective_url) { (host_of(&s.effective_url)) } }
            }
            td data-label="State" { span class=(format!("badge {}", tone(&s.state))) { (s.state) } }
            td data-label="Last poll" { (when(s.last_poll, now)) }
            td data-label="Next poll" {
                @if s.next_poll.is_none() && s.interval_reason.starts_with("cron") { "on its cron schedule" }
                @else { (when(s.next_poll, now)) }
            }
            td data-label="Problem" .problem { (problem(s, now)) }
            td data-label="Items/day" { (format!("{:.1}", s.items_per_day)) }
            td data-label="Unchanged" title="Polls answered 304 or with an unchanged body, since start" {
                @if s.polls_since_start == 0 { "–" } @else { (format!("{:.0} %", s.not_modified_rate * 100.0)) }
            }
            td data-label="Interval" { (duration(s.interval_secs)) br; small { (s.interval_reason) } }
        }
    }
}

/// What is wrong, in words, most pressing first; empty when nothing is.
pub fn problem(s: &SourceStatus, now: DateTime<Utc>) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &s.disabled {
        parts.push(format!("Disabled: {d}"));
    }
    if s.consecutive_failures > 0 {
        let err = s.last_error.as_deref().unwrap_or("failed");
        let times = match s.consecutive_failures {
            1 => "failed once".to_owned(),
            n => format!("failed {n} times in a row"),
        };
        parts.push(format!("{err} ({times})"));
    }
    if let Some(t) = s.retry_not_before {
        parts.push(format!("The server asked us to wait until {} ({}).", t.format("%H:%M UTC"), ago(t, now)));
    }
    if let Some(to) = &s.redirect_pending {
        parts.push(format!("Moving to {to}"));
    }
    if let Some(w) = &s.warning {
        parts.push(w.clone());
    }
    parts.join(" ")
}

fn last_polls(sources: &[SourceStatus], now: DateTime<Utc>) -> Markup {
    let mut polled: Vec<&SourceStatus> = sources.iter().filter(|s| s.last_poll.is_some()).collect();
    polled.sort_by_key(|s| std::cmp::Reverse(s.last_poll));
    html! {
        h2 { "Last polls" }
        @if polled.is_empty() { p { "No source has been polled yet." } }
        ol #last-polls {
            @for s in polled.iter().take(LAST_POLLS) {
                li data-source=(s.id) {
                    (when(s.last_poll, now)) " · " strong { (s.title) } " · " (outcome(s))
                }
            }
        }
    }
}

/// One poll's result in words.
fn outcome(s: &SourceStatus) -> String {
    use crate::domain::FetchOutcome as O;
    let sum = &s.last_summary;
    match s.outcome {
        Some(O::Ok) => format!("{} new, {} updated, {} unchanged", sum.new, sum.updated, sum.unchanged),
        Some(O::NotModified) => "not modified".into(),
        Some(O::Unchanged) => "same document as before".into(),
        Some(O::TransientError | O::PermanentError) => s.last_error.clone().unwrap_or_else(|| "failed".into()),
        None => "never polled".into(),
    }
}

/// A time as people read it ("3 min ago", "in 2 h"), with the exact time on hover.
fn when(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Markup {
    match t {
        Some(t) => html! { time datetime=(t.to_rfc3339()) title=(t.format("%Y-%m-%d %H:%M:%S UTC")) { (ago(t, now)) } },
        None => html! { "–" },
    }
}

pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let span = duration(secs.unsigned_abs());
    match secs {
        -4..=4 => "now".into(),
        s if s > 0 => format!("{span} ago"),
        _ => format!("in {span}"),
    }
}

/// Seconds in the largest unit that keeps them readable.
pub fn duration(secs: u64) -> String {
    match secs {
        0..=99 => format!("{secs} s"),
        100..=5_999 => format!("{} min", (secs + 30) / 60),
        6_000..=172_799 => format!("{} h", (secs + 1_800) / 3_600),
        _ => format!("{} d", (secs + 43_200) / 86_400),
    }
}

/// A URL's host, or a local file's name: enough to recognise it (the link holds the rest).
fn host_of(url: &str) -> String {
    let parsed = url::Url::parse(url).ok();
    let host = parsed.as_ref().and_then(|u| u.host_str().map(str::to_owned));
    let file = || parsed.as_ref().and_then(|u| u.path_segments()?.next_back().map(str::to_owned));
    host.or_else(file).unwrap_or_else(|| url.to_owned())
}

const STYLE: &str = "
body{font:15px/1.4 system-ui,sans-serif;margin:1rem auto;max-width:72rem;padding:0 .75rem;color:#222}
h1{margin:.2rem 0}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f4}small{color:#666}code{font-size:.85em}a{color:#0645ad}
.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.85em;font-weight:600}
.badge.good{background:#d8f3dc;color:#1b5e20}.badge.bad{background:#fde2e1;color:#9b1c1c}
.badge.idle{background:#eee;color:#555}tr.bad td:first-child{border-left:4px solid #d93025}
.problem{max-width:22rem;color:#9b1c1c}footer{margin:2rem 0;color:#666;font-size:.9em}
@media (max-width:44rem){thead{display:none}tr{display:block;border-bottom:2px solid #ccc;padding:.4rem 0}
td{display:block;border:0;padding:.15rem 0}td::before{content:attr(data-label) ': ';font-weight:600;color:#555}
tr.bad td:first-child{border-left:0}td.problem:empty{display:none}}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_read_as_people_say_them() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(900), "15 min");
        assert_eq!(duration(7_200), "2 h");
        assert_eq!(duration(3 * 86_400), "3 d");
        let now = Utc::now();
        assert_eq!(ago(now - chrono::Duration::minutes(5), now), "5 min ago");
        assert_eq!(ago(now + chrono::Duration::hours(3), now), "in 3 h");
        assert_eq!(ago(now, now), "now");
    }

    #[test]
    fn trouble_sorts_first() {
        let mut states = ["ok", "never polled", "failing", "backing off", "disabled", "polling"];
        states.sort_by_key(|s| severity(s));
        assert_eq!(states, ["failing", "backing off", "disabled", "never polled", "polling", "ok"]);
    }
}
