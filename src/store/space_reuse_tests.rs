//! The store's file reuses the space its rewritten pages leave (sled's segment cleaner, fixed
//! in `vendor/sled`): a long-running store must not grow by everything it ever wrote.

use super::checkpoint::open_sled;
use std::time::Duration;

/// The log file's length: what `du -b` of the store counts.
fn file_len(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir.join("db")).expect("sled's log file").len()
}

fn key(kind: u8, i: u64) -> Vec<u8> {
    [&[kind][..], &i.to_be_bytes()].concat()
}

/// Pages of records that stay (`k`) and of records that go (`g`) fill the file's segments
/// turn about, as entries that stay and entries later pruned do. Once the `g` records are gone
/// most segments are more than four fifths empty, and only sled's cleaner can move the `k`
/// pages out so that they can be written again and the file's tail cut. sled 0.34.7's cleaner
/// stopped at every segment it had emptied, one segment per flush interval, so the file kept
/// its length (and grew by what was written next).
#[test]
fn the_file_gives_back_the_space_of_removed_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open_sled(dir.path(), 64 << 20).expect("open");
    let tree = db.open_tree("data").expect("tree");
    let value = vec![7u8; 600];
    let (rounds, keep, gone) = (100, 30, 220);
    for round in 0..rounds {
        for (kind, n) in [(b'k', keep), (b'g', gone)] {
            for i in 0..n {
                tree.insert(key(kind, round * n + i), value.as_slice()).expect("insert");
            }
            tree.flush().expect("flush");
        }
    }
    for i in 0..rounds * gone {
        tree.remove(key(b'g', i)).expect("remove");
    }
    tree.flush().expect("flush");
    let emptied = file_len(dir.path());
    // The flusher cleans in the second half of each of its 500 ms rounds.
    std::thread::sleep(Duration::from_millis(2000));
    for i in 0..rounds * gone {
        tree.insert(key(b'f', i), value.as_slice()).expect("insert");
    }
    tree.flush().expect("flush");
    let after = file_len(dir.path());
    assert!(
        after * 10 < emptied * 8,
        "the file was {emptied} bytes after the removals and {after} after as many records were \
         written again: the space the removals left was not given back"
    );
}
