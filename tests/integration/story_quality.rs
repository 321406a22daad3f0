//! Measured quality of story merging: pairwise precision and recall against ground truth, on
//! feeds from the team's generator (`../shared/bench/gen_feeds.py`, read there) and on the hand-labelled
//! newsroom set in `tests/fixtures/stories/`. The figures are printed; the targets asserted.

use crate::helpers::*;
use newsriver::domain::Entry;
use std::collections::HashMap;
use std::path::PathBuf;

/// Pairwise precision and recall of a clustering `pred` against `truth` (item -> cluster).
pub fn pairwise(pred: &HashMap<String, String>, truth: &HashMap<String, String>) -> (f64, f64, usize, usize) {
    let pairs = |n: usize| n * n.saturating_sub(1) / 2;
    let mut cells: HashMap<(&str, &str), usize> = HashMap::new();
    let mut by_pred: HashMap<&str, usize> = HashMap::new();
    let mut by_truth: HashMap<&str, usize> = HashMap::new();
    for (item, t) in truth {
        let Some(p) = pred.get(item) else { continue };
        *cells.entry((p.as_str(), t.as_str())).or_default() += 1;
        *by_pred.entry(p.as_str()).or_default() += 1;
        *by_truth.entry(t.as_str()).or_default() += 1;
    }
    let tp: usize = cells.values().map(|&n| pairs(n)).sum();
    let pp: usize = by_pred.values().map(|&n| pairs(n)).sum();
    let tt: usize = by_truth.values().map(|&n| pairs(n)).sum();
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (ratio(tp, pp), ratio(tp, tt), tp, tt)
}

fn all_entries(app: &TestApp) -> Vec<Entry> {
    let mut out = Vec::new();
    app.state
        .store
        .for_each_entry(|e| {
            out.push(e);
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .expect("scan");
    out
}

/// The team's feed generator: `NEWSRIVER_GEN_FEEDS`, or `../shared/bench/gen_feeds.py`.
fn gen_feeds() -> Option<PathBuf> {
    match std::env::var_os("NEWSRIVER_GEN_FEEDS") {
        Some(path) => Some(PathBuf::from(path)),
        None => shared("bench").map(|dir| dir.join("gen_feeds.py")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_feeds_merge_with_target_precision_and_recall() {
    let Some(gen) = gen_feeds() else { return };
    assert!(gen.exists(), "{} is missing (set NEWSRIVER_GEN_FEEDS)", gen.display());
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--feeds", "120", "--items", "20", "--dup-frac", "0.3", "--seed", "7"];
    let run = |script: PathBuf, extra: Vec<String>| {
        let out = std::process::Command::new("python3").arg(script).args(extra).args(args).output().expect("python3");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    run(gen.clone(), vec!["--out".into(), dir.path().display().to_string()]);
    let labels = dir.path().join("labels.tsv");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/story_labels.py");
    run(script, vec![gen.display().to_string(), labels.display().to_string()]);
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("feeds"))
        .expect("feeds")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let sources: Vec<(String, String)> =
        names.iter().map(|n| (format!("f{}", &n[5..11]), format!("file:{}/feeds/{n}", dir.path().display()))).collect();
    let refs: Vec<(&str, String)> = sources.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let app = spawn_app_with(&refs, |p| {
        p.initial_items = 1000;
        p.concurrency = 4;
        set_per_host(p, 4);
    })
    .await;
    app.poll_now().await;

    let mut truth = HashMap::new();
    for line in std::fs::read_to_string(&labels).expect("labels").lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        truth.insert(format!("f{:06}\t{}", cols[0].parse::<usize>().expect("feed"), cols[1]), cols[2].to_owned());
    }
    let pred: HashMap<String, String> = all_entries(&app)
        .into_iter()
        .map(|e| (format!("{}\t{}", e.source, e.identity), e.story.map(|s| s.to_string()).unwrap_or_default()))
        .collect();
    assert_eq!(pred.len(), truth.len(), "every generated item stored once");
    let (precision, recall, tp, pairs) = pairwise(&pred, &truth);
    let stories = pred.values().collect::<std::collections::HashSet<_>>().len();
    let true_stories = truth.values().collect::<std::collections::HashSet<_>>().len();
    eprintln!(
        "gen_feeds {args:?}: {} items, {stories} stories (truth {true_stories}), pairs {tp}/{pairs}, precision {precision:.4}, recall {recall:.4}",
        pred.len()
    );
    assert!(precision >= 0.995, "precision {precision}");
    assert!(recall >= 0.97, "recall {recall}");
    assert_eq!(app.feed("/feeds/all.atom?limit=500").await.entries.len(), 500.min(stories));
    app.stop().await;
}
/// Writes one RSS file per source from labelled items.
fn write_feeds(dir: &std::path::Path, items: &[serde_json::Value]) -> Vec<String> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut by_source: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for it in items {
        let s = |k: &str| it[k].as_str().unwrap_or_default().to_owned();
        let published = chrono::DateTime::parse_from_rfc3339(&s("published")).expect("published").to_rfc2822();
        by_source.entry(s("source")).or_default().push_str(&format!(
            "<item><guid isPermaLink=\"false\">{}</guid><title>{}</title><link>{}</link><description>{}</description><pubDate>{published}</pubDate></item>\n",
            esc(&s("guid")),
            esc(&s("title")),
            esc(&s("link")),
            esc(&s("body"))
        ));
    }
    for (source, body) in &by_source {
        std::fs::write(dir.join(format!("{source}.xml")), rss(body)).expect("write feed");
    }
    by_source.into_keys().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_newsroom_set_merges_right_and_churn_re_emits_nothing() {
    let path = fixture("stories/labelled.json");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("labelled set")).expect("json");
    let items = doc["items"].as_array().expect("items").clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = write_feeds(dir.path(), &items);
    let refs: Vec<(&str, String)> =
        sources.iter().map(|s| (s.as_str(), format!("file:{}/{s}.xml", dir.path().display()))).collect();
    let app = spawn_app_with(&refs, |p| p.initial_items = 1000).await;
    let first = app.poll_now().await;
    assert!(first.iter().all(|r| r.error.is_none()), "{first:?}");

    let truth: HashMap<String, String> = items
        .iter()
        .map(|it| {
            (
                format!("{}\t{}", it["source"].as_str().unwrap_or(""), it["guid"].as_str().unwrap_or("")),
                it["story"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let pred: HashMap<String, String> = all_entries(&app)
        .into_iter()
        .map(|e| (format!("{}\t{}", e.source, e.identity), e.story.map(|s| s.to_string()).unwrap_or_default()))
        .collect();
    assert_eq!(pred.len(), truth.len(), "every labelled item stored once");
    let (precision, recall, tp, pairs) = pairwise(&pred, &truth);
    let wrong: Vec<String> = {
        // Name the false merges, for whoever tunes the thresholds.
        let mut by_pred: HashMap<&str, Vec<&str>> = HashMap::new();
        for (item, p) in &pred {
            by_pred.entry(p.as_str()).or_default().push(item.as_str());
        }
        by_pred
            .values()
            .filter(|members| members.iter().map(|m| truth.get(*m)).collect::<std::collections::HashSet<_>>().len() > 1)
            .map(|m| format!("{m:?}"))
            .collect()
    };
    let missed: Vec<String> = {
        // Items not merged with their story's first item, by variant, for whoever tunes.
        let mut first_of: HashMap<&str, &str> = HashMap::new();
        let mut out = Vec::new();
        for it in &items {
            let key = format!("{}\t{}", it["source"].as_str().unwrap_or(""), it["guid"].as_str().unwrap_or(""));
            let story = it["story"].as_str().unwrap_or("");
            let p = pred.get(&key).map(String::as_str).unwrap_or("");
            match first_of.get(story) {
                None => drop(first_of.insert(story, p)),
                Some(fp) if *fp != p => {
                    out.push(format!("{}:{}", it["id"].as_str().unwrap_or(""), it["variant"].as_str().unwrap_or("")))
                }
                Some(_) => {}
            }
        }
        out
    };
    eprintln!("missed: {missed:?}");
    eprintln!("labelled set: {} items, pairs {tp}/{pairs}, precision {precision:.4}, recall {recall:.4}, false merges {wrong:?}", pred.len());
    assert!(precision >= 0.995, "precision {precision}: {wrong:?}");
    assert!(recall >= 0.97, "recall {recall}");

    // Churn: each source republishes items under new GUIDs, URLs or domains.
    let ids_before: std::collections::HashSet<String> =
        app.feed("/feeds/all.atom?limit=500").await.entries.iter().map(|e| e.id.clone()).collect();
    let cursor = app.get("/feeds/all.atom").await.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
    let churn = doc["churn"].as_array().expect("churn").clone();
    let replaced: std::collections::HashSet<&str> = churn.iter().filter_map(|c| c["of"].as_str()).collect();
    let mut next: Vec<serde_json::Value> =
        items.iter().filter(|it| !replaced.contains(it["id"].as_str().unwrap_or(""))).cloned().collect();
    next.extend(churn.iter().cloned());
    write_feeds(dir.path(), &next);
    let again = app.poll_now().await;
    let new: usize = again.iter().map(|r| r.summary.new).sum();
    let ids_after: std::collections::HashSet<String> =
        app.feed("/feeds/all.atom?limit=500").await.entries.iter().map(|e| e.id.clone()).collect();
    let since: serde_json::Value =
        app.get(&format!("/feeds/all.json?since={cursor}")).await.json().await.expect("json");
    eprintln!(
        "churn: {} re-identified items, {new} new entries, {} re-emitted",
        churn.len(),
        since["items"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(new, 0, "churned items are not new");
    assert_eq!(ids_after, ids_before, "merged channel unchanged");
    assert_eq!(since["items"].as_array().map(Vec::len), Some(0), "nothing re-emitted to partners");
    app.stop().await;
}
