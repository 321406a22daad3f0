//! `deploy/newsriver.service`: the hardening and reload settings it promises, and systemd's own
//! check of the unit (`systemd-analyze verify`) where systemd is installed.

use crate::helpers::require;
use std::collections::HashMap;
use std::path::Path;

fn unit() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/newsriver.service");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `Key=value` lines (comments and section headers left out); a key set twice keeps the last.
fn keys(text: &str) -> HashMap<String, String> {
    (text.lines())
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[test]
fn the_unit_is_hardened_and_reloads_with_sighup() {
    let k = keys(&unit());
    let want = [
        ("DynamicUser", "yes"),
        ("StateDirectory", "newsriver"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("ExecStart", "/usr/local/bin/newsriver serve"),
    ];
    for (key, value) in want {
        assert_eq!(k.get(key).map(String::as_str), Some(value), "{key}");
    }
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    let present =
        std::process::Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success());
    if !require("systemd-analyze", "apt-get install systemd", present) {
        return;
    }
    // verify checks that ExecStart's program exists: point it at the binary under test.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("newsriver.service");
    std::fs::write(&file, unit().replace("/usr/local/bin/newsriver", env!("CARGO_BIN_EXE_newsriver"))).expect("write");
    let out = std::process::Command::new("systemd-analyze").arg("verify").arg(&file).output().expect("run");
    let said = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "systemd-analyze verify: {said}");
    assert!(said.trim().is_empty(), "no warnings: {said}");
}
