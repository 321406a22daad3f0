//! A throwaway PostgreSQL cluster for tests, started by the test process itself: `initdb` into a
//! temp dir, `pg_ctl start` on a free 127.0.0.1 port (socket in the temp dir, `fsync=off`), as
//! the `postgres` user when running as root. One cluster per process, one fresh database per
//! test. A watchdog shell stops the server (`-m immediate`) and removes the dir once the test
//! process is gone, however it ends.
//!
//! Used by the integration binary (`helpers`) and by the store's unit tests (through `#[path]`),
//! so it uses nothing of the crate. Without the binaries a test skips with one loud line, unless
//! `NEWSRIVER_REQUIRE_CLIENTS=1`, when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The password in every test URL: the cluster trusts local connections and never asks for it,
/// so tests can check it is never shown.
pub const TEST_PASSWORD: &str = "pw-never-shown";

struct Cluster {
    bin: PathBuf,
    port: u16,
    made: AtomicU32,
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();

/// A URL of a new empty database in the shared cluster, or `None` (after one loud line) when
/// PostgreSQL is not installed.
pub fn fresh_database() -> Option<String> {
    let cluster = CLUSTER.get_or_init(start).as_ref()?;
    let n = cluster.made.fetch_add(1, Ordering::Relaxed);
    let name = format!("nr_{}_{n}", std::process::id());
    let created = Command::new(cluster.bin.join("createdb"))
        .args(["-h", "127.0.0.1", "-p", &cluster.port.to_string(), "-U", "postgres", &name])
        .output()
        .unwrap_or_else(|e| panic!("createdb: {e}"));
    assert!(created.status.success(), "createdb {name}: {}", String::from_utf8_lossy(&created.stderr));
    Some(format!("postgres://postgres:{TEST_PASSWORD}@127.0.0.1:{}/{name}?sslmode=disable", cluster.port))
}

fn start() -> Option<Cluster> {
    let Some(bin) = find_binaries() else {
        let required = std::env::var("NEWSRIVER_REQUIRE_CLIENTS").is_ok_and(|v| v == "1");
        assert!(!required, "PostgreSQL binaries (initdb, pg_ctl) not found and NEWSRIVER_REQUIRE_CLIENTS=1");
        eprintln!("SKIPPED: PostgreSQL tests need initdb and pg_ctl (PATH or /usr/lib/postgresql/*/bin); none found");
        return None;
    };
    let dir = tempfile::Builder::new().prefix("newsriver-pg-").tempdir().expect("tempdir").keep();
    let as_root = is_root();
    if as_root {
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir), "chown");
    }
    let data = dir.join("data");
    let mut initdb = pg_command(&bin, "initdb", as_root);
    initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    run(&mut initdb, "initdb");
    watchdog(&bin, &dir, as_root);
    for _ in 0..5 {
        let port = free_port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=400",
            dir.display()
        );
        let mut ctl = pg_command(&bin, "pg_ctl", as_root);
        ctl.arg("-D").arg(&data).arg("-l").arg(dir.join("log")).args(["-w", "-t", "60", "-o", &options, "start"]);
        if ctl.stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
            return Some(Cluster { bin, port, made: AtomicU32::new(0) });
        }
    }
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    panic!("PostgreSQL did not start in {}:\n{log}", dir.display());
}

/// Stops the server and removes its folder when this process has ended.
fn watchdog(bin: &Path, dir: &Path, as_root: bool) {
    let stop = if as_root { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}'{ctl}' -D '{data}' -m immediate stop; rm -rf '{dir}'",
        pid = std::process::id(),
        ctl = bin.join("pg_ctl").display(),
        data = dir.join("data").display(),
        dir = dir.display(),
    );
    // Never waited for: it must outlive this process.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchdog shell");
}

fn pg_command(bin: &Path, name: &str, as_root: bool) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(name));
        c
    } else {
        Command::new(bin.join(name))
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// `initdb`'s folder: on PATH, else Debian's newest `/usr/lib/postgresql/N/bin`.
fn find_binaries() -> Option<PathBuf> {
    let has_all = |dir: &Path| ["initdb", "pg_ctl", "createdb"].iter().all(|b| dir.join(b).is_file());
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| has_all(d));
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| has_all(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
