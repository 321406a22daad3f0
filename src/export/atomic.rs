//! Whole-file replacement: a reader of an exported file sees the old document or the new one,
//! never a part of either.

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Tells apart the temp files of writes in flight at once (threads here, or another process).
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to a temp file beside `path` (a rename is atomic only within one file
/// system), flushes it to disk, then renames it over `path`. The fsync comes first so a crash
/// after the rename cannot leave an empty or torn file under the final name.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    put(path, bytes, |tmp, path| std::fs::rename(tmp, path))
}

/// As `write`, but fails with `AlreadyExists` when `path` exists, decided at the moment the
/// file appears: the temp file is hard-linked to `path`, which never replaces a file.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    put(path, bytes, |tmp, path| {
        let linked = std::fs::hard_link(tmp, path);
        let _ = std::fs::remove_file(tmp);
        linked
    })
}

fn put(path: &Path, bytes: &[u8], publish: impl FnOnce(&Path, &Path) -> std::io::Result<()>) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A leading dot keeps static hosts that skip hidden files from publishing a leftover.
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), NEXT.fetch_add(1, Relaxed)));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        publish(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_whole_files_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("feeds/all.rss");
        super::write(&path, b"first").expect("write");
        super::write(&path, b"second").expect("rewrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("feeds")).expect("list").flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_new_file_never_replaces_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sources.d/a.toml");
        super::write_new(&path, b"first").expect("created");
        let err = super::write_new(&path, b"second").expect_err("exists");
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("read"), b"first");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sources.d")).expect("list").flatten().collect();
        assert_eq!(names.len(), 1, "no temp file is left behind: {names:?}");
    }
}
