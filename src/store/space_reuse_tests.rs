//! sled's segment cleaner, repaired in `vendor/sled`: the store's file reuses the space its
//! rewritten pages leave instead of growing with every write.

/// The cleaner's queue holds, per sparse segment, the pages still to move out of it. sled
/// 0.34.7 answered "nothing to do" whenever it reached a segment whose pages it had all handed
/// out, and its flusher, which does most of the cleaning, stopped there until its next round
/// (500 ms later): one segment per round, whatever the backlog, and a 1M-entry store at 2.70 GB
/// instead of 1.38 GB. The queue must hand out every queued page before it answers "nothing".
#[test]
fn the_cleaners_queue_hands_out_every_queued_page_before_it_runs_dry() {
    let segments: [(u64, &[u64]); 3] = [(0, &[7]), (1 << 19, &[]), (2 << 19, &[3, 9])];
    let order = sled::cleaner_queue_order(&segments, 5);
    let expected = [Some((7, 0)), Some((3, 2 << 19)), Some((9, 2 << 19)), None, None];
    assert_eq!(order, expected, "pages in queue order, then nothing");
}
