//! The real binary as a service: `newsriver serve` in a child process whose log the test reads.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

/// A port nothing listens on now (the binary binds it next).
/// The real binary run once on `config` with `args`, to the end (its environment's config ignored).
pub fn newsriver(config: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("NEWSRIVER_CONFIG")
        .output()
        .expect("run newsriver")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port()
}

/// `newsriver serve` on a config, logging newsriver's own lines at `info`, without colour.
pub struct Served {
    pub child: Child,
    lines: Lines<BufReader<ChildStderr>>,
}

impl Served {
    pub fn start(config: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_newsriver"))
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn newsriver serve");
        let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        Self { child, lines }
    }

    /// The next log line holding `what`, waiting at most 20 s between lines; none when the log
    /// ends or falls silent first.
    pub async fn wait_for(&mut self, what: &str) -> Option<String> {
        while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line()).await {
            if line.contains(what) {
                return Some(line);
            }
        }
        None
    }

    /// The next log line holding `what`; fails the test when none comes.
    pub async fn expect_line(&mut self, what: &str) -> String {
        self.wait_for(what).await.unwrap_or_else(|| panic!("no log line with {what:?}"))
    }

    /// The port it serves on, from its `serving port=…` line.
    pub async fn port(&mut self) -> u16 {
        let line = self.wait_for("serving").await.expect("serve logs that it serves within 20 s");
        let port = line.split("port=").nth(1).and_then(|p| p.split_whitespace().next());
        port.and_then(|p| p.parse().ok()).expect("a port number")
    }

    /// Sends a signal (`-HUP`, `-TERM`) to the process.
    pub fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("pid").to_string();
        assert!(std::process::Command::new("kill").args([sig, &pid]).status().expect("kill").success());
    }

    /// The process alone, its log drained in the background so it never blocks on a full pipe.
    pub fn detach(self) -> Child {
        let mut lines = self.lines;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child
    }
}
