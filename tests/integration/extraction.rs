//! The article extractor on the shared benchmark (`../shared/extraction/`, 181 real pages with
//! human-checked bodies), scored with the benchmark's own metric (as `score.py` computes it).

use crate::helpers::shared;
use regex::Regex;
use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

/// The team's target; the measured figure is in the README ("Article extraction").
const MIN_F1: f64 = 0.95;

type Shingles = HashMap<Vec<String>, usize>;

/// Overlapping runs of four `\w+` tokens, as a multiset; shorter texts are one shingle.
fn shingles(words: &Regex, text: &str) -> Shingles {
    let toks: Vec<String> = words.find_iter(text).map(|m| m.as_str().to_owned()).collect();
    let mut out = Shingles::new();
    if toks.len() < 4 {
        if !toks.is_empty() {
            out.insert(toks, 1);
        }
        return out;
    }
    for w in toks.windows(4) {
        *out.entry(w.to_vec()).or_default() += 1;
    }
    out
}

/// (tp, fp, fn) of one page, normalised to sum to 1.
fn page_counts(words: &Regex, truth: &str, pred: &str) -> (f64, f64, f64) {
    let (t, p) = (shingles(words, truth), shingles(words, pred));
    let tp: usize = t.iter().map(|(k, n)| (*n).min(p.get(k).copied().unwrap_or(0))).sum();
    let fp = p.values().sum::<usize>() - tp;
    let fn_ = t.values().sum::<usize>() - tp;
    let total = (tp + fp + fn_) as f64;
    if total == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    (tp as f64 / total, fp as f64 / total, fn_ as f64 / total)
}

/// Mean precision and recall over the pages where each is defined, and their harmonic mean.
fn summary(counts: &[(f64, f64, f64)]) -> (f64, f64, f64) {
    // `miss` is fp for precision, fn for recall; a page with neither is perfect.
    let ratio = |miss: f64, (tp, fp, fn_): (f64, f64, f64)| {
        if fp == 0.0 && fn_ == 0.0 {
            1.0
        } else if tp == 0.0 && miss == 0.0 {
            0.0
        } else {
            tp / (tp + miss)
        }
    };
    let mean = |xs: Vec<f64>| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let p = mean(counts.iter().filter(|c| c.0 + c.1 > 0.0).map(|&c| ratio(c.1, c)).collect());
    let r = mean(counts.iter().filter(|c| c.0 + c.2 > 0.0).map(|&c| ratio(c.2, c)).collect());
    (p, r, if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 })
}

fn read_gz(path: &Path) -> Vec<u8> {
    let mut html = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("opens page"))
        .read_to_end(&mut html)
        .expect("gunzips page");
    html
}

#[test]
fn body_f1_on_the_shared_benchmark() {
    let Some(dir) = shared("extraction") else { return };
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("ground-truth.json")).expect("ground truth")).expect("json");
    let truth = truth.as_object().expect("id map");
    let words = Regex::new(r"\w+").expect("regex");
    let mut counts = Vec::new();
    for (id, page) in truth {
        let html = read_gz(&dir.join("html").join(format!("{id}.html.gz")));
        let body = newsriver::extract::article(&html, None, None).map(|a| a.body_text).unwrap_or_default();
        counts.push(page_counts(&words, page["articleBody"].as_str().unwrap_or_default(), &body));
    }
    let (p, r, f1) = summary(&counts);
    println!("extraction benchmark: {} pages, F1 {f1:.3}, precision {p:.3}, recall {r:.3}", counts.len());
    assert_eq!(counts.len(), 181);
    assert!(f1 >= MIN_F1, "F1 {f1:.3} (precision {p:.3}, recall {r:.3}) is below {MIN_F1}");
}

fn newsriver(args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Extraction needs no config: a missing one must not matter.
        .env("NEWSRIVER_CONFIG", "/nonexistent/newsriver.toml")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs newsriver");
    if let Some(mut pipe) = child.stdin.take() {
        // A refused oversized input is not read to its end: the closed pipe is expected.
        let _ = pipe.write_all(stdin.unwrap_or_default());
    }
    child.wait_with_output().expect("waits")
}

#[test]
fn cli_prints_the_json_contract_from_a_file_or_stdin() {
    let fixture = "tests/fixtures/articles/json-ld.html";
    let from_file = newsriver(&["extract", fixture, "--url", "https://courier.example/news/budget", "--json"], None);
    assert!(from_file.status.success(), "{}", String::from_utf8_lossy(&from_file.stderr));
    let v: serde_json::Value = serde_json::from_slice(&from_file.stdout).expect("JSON on stdout");
    assert_eq!(v["title"], "Council adopts record budget");
    assert_eq!(v["sources"]["title"], "json-ld");
    assert_eq!(v["image"]["url"], "https://courier.example/photos/council-chamber.jpg");
    let html = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture)).expect("fixture");
    let from_stdin = newsriver(&["extract", "-", "--json"], Some(&html));
    assert!(from_stdin.status.success(), "{}", String::from_utf8_lossy(&from_stdin.stderr));
    let w: serde_json::Value = serde_json::from_slice(&from_stdin.stdout).expect("JSON on stdout");
    assert_eq!(w["body_text"], v["body_text"]);
    let text = newsriver(&["extract", fixture], None);
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("title      Council adopts record budget\n"));
}

#[test]
fn cli_refuses_blocked_urls_missing_files_and_oversized_input() {
    // Without a config the address guard is on: a loopback URL is refused before any request.
    let url = newsriver(&["extract", "http://127.0.0.2:9/a"], None);
    assert!(!url.status.success());
    assert!(String::from_utf8_lossy(&url.stderr).contains("address guard"), "{}", String::from_utf8_lossy(&url.stderr));
    let missing = newsriver(&["extract", "tests/fixtures/articles/absent.html"], None);
    assert!(!missing.status.success());
    let huge = vec![b'x'; newsriver::extract::MAX_INPUT + 10];
    let too_large = newsriver(&["extract", "-"], Some(&huge));
    assert!(!too_large.status.success());
    assert!(
        String::from_utf8_lossy(&too_large.stderr).contains("more than the"),
        "{}",
        String::from_utf8_lossy(&too_large.stderr)
    );
}
