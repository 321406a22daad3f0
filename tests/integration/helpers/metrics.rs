//! `/metrics` read by Prometheus's own Python parser (`tests/clients/read_metrics.py`), which
//! refuses anything that is not OpenMetrics text.

use super::require;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Python with prometheus-client's OpenMetrics parser, for `read_metrics`.
pub fn have_metrics_parser() -> bool {
    let present = Command::new("python3")
        .args(["-c", "import prometheus_client.openmetrics.parser"])
        .output()
        .is_ok_and(|o| o.status.success());
    require("Python prometheus-client", "pip install prometheus-client", present)
}

/// One metric family as the parser read it.
#[derive(Debug, serde::Deserialize)]
pub struct MetricFamily {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub unit: String,
    pub samples: Vec<Sample>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Sample {
    pub name: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub value: f64,
}

/// Every family of an exposition.
#[derive(Debug)]
pub struct Exposition(pub Vec<MetricFamily>);

impl Exposition {
    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.0.iter().find(|f| f.name == name)
    }

    /// The value of the sample `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let samples = self.0.iter().flat_map(|f| &f.samples);
        let same = |s: &&Sample| {
            s.labels.len() == labels.len() && labels.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
        };
        samples.filter(|s| s.name == name).find(same).map(|s| s.value)
    }

    /// As `value`, failing the test when there is no such sample.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or_else(|| panic!("no sample {name}{labels:?} in {:#?}", self.0))
    }
}

/// Parses `text` with the parser; fails the test when it is not OpenMetrics text.
pub async fn read_metrics(text: String) -> Exposition {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/read_metrics.py");
    // The app under test shares this runtime: run the parser off it.
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write the exposition");
        (child.wait_with_output().expect("parser ends"), text)
    })
    .await
    .expect("join");
    let (out, text) = out;
    assert!(out.status.success(), "{}\n{text}", String::from_utf8_lossy(&out.stderr));
    Exposition(serde_json::from_slice(&out.stdout).expect("the parser's JSON"))
}

/// A `/metrics` answer parsed: 200, the OpenMetrics Content-Type, and a body the parser reads.
pub async fn metrics_of(resp: reqwest::Response) -> Exposition {
    assert_eq!(resp.status(), 200, "/metrics");
    let kind = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(kind, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    read_metrics(resp.text().await.expect("the exposition")).await
}
