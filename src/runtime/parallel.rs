//! Work split over every core for the length of one call, on scoped threads: a start that
//! derives something from thousands of stored items waits for the slowest core, not their sum.

/// `f` of each of one contiguous part of `items` per core, in order, each part on its own thread.
pub fn par_chunks<T: Sync, U: Send>(items: &[T], f: impl Fn(&[T]) -> U + Sync) -> Vec<U> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = items.len().div_ceil(cores).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = items.chunks(chunk).map(|part| s.spawn(|| f(part))).collect();
        parts.into_iter().map(|p| p.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// `f` of each item, on every core, in order.
pub fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    par_chunks(items, |part| part.iter().map(&f).collect::<Vec<_>>()).into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_order_of_the_items_whatever_the_parts() {
        for n in [0, 1, 2, 3, 17, 1000] {
            let items: Vec<u32> = (0..n).collect();
            assert_eq!(par_map(&items, |x| x * 2), items.iter().map(|x| x * 2).collect::<Vec<_>>());
            let parts = par_chunks(&items, <[u32]>::to_vec);
            assert_eq!(parts.concat(), items);
            assert!(parts.iter().all(|p| !p.is_empty()), "no empty part for {n} items: {parts:?}");
        }
    }
}
