//! Article extraction speed on the shared benchmark's 181 real pages (`../shared/extraction/`).
//!
//! `cargo bench --bench extract` first times every page (its median of five passes) and prints
//! the median, p90, p99 and slowest page and pages/s at the median (the team's target: 100
//! pages/s on one core), then lets criterion measure the whole set (throughput in pages). Skips
//! with one line when the shared data is absent.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

fn pages() -> Option<Vec<Vec<u8>>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/extraction/html");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIP bench extract: ../shared/extraction is missing (the team's shared data, checked out beside the project)");
        return None;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let read = |p: &Path| -> Option<Vec<u8>> {
        let mut html = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(p).ok()?).read_to_end(&mut html).ok()?;
        Some(html)
    };
    Some(paths.iter().filter_map(|p| read(p)).collect())
}

/// Timed passes over the set, page by page.
const PASSES: usize = 5;

/// Each page's time is its median over [`PASSES`] passes, so that a pass disturbed by other work
/// on the machine does not count; the median page says what a typical article costs, p99 what
/// the slow ones do.
fn per_page(pages: &[Vec<u8>]) {
    let mut runs: Vec<Vec<Duration>> = vec![Vec::with_capacity(PASSES); pages.len()];
    for _ in 0..PASSES {
        for (html, times) in pages.iter().zip(&mut runs) {
            let started = Instant::now();
            let _ = std::hint::black_box(newsriver::extract::article(html, None, None));
            times.push(started.elapsed());
        }
    }
    let mut times: Vec<Duration> = runs
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[t.len() / 2]
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let total: Duration = times.iter().sum();
    println!(
        "extract: {} pages, median {:.2} ms ({:.0} pages/s), p90 {:.2} ms, p99 {:.2} ms, slowest {:.2} ms, all {:.0} pages/s",
        times.len(),
        at(0.5).as_secs_f64() * 1e3,
        1.0 / at(0.5).as_secs_f64(),
        at(0.9).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
        times.len() as f64 / total.as_secs_f64()
    );
}

fn bench(c: &mut Criterion) {
    let Some(pages) = pages().filter(|p| !p.is_empty()) else { return };
    per_page(&pages);
    let mut group = c.benchmark_group("extract");
    group.sample_size(10).throughput(Throughput::Elements(pages.len() as u64));
    group.bench_function("benchmark_pages", |b| {
        b.iter(|| {
            pages
                .iter()
                .map(|html| newsriver::extract::article(html, None, None).map_or(0, |a| a.word_count))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
