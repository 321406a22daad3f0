//! Runs the article extractor over the shared extraction benchmark and writes `{id: {"articleBody": text}}` for score.py.
//!
//! usage: cargo run --release --example extraction_bench -- [DATA_DIR] OUT.json

use std::io::Read as _;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, out) = match args.as_slice() {
        [out] => (PathBuf::from("../shared/extraction"), PathBuf::from(out)),
        [dir, out] => (PathBuf::from(dir), PathBuf::from(out)),
        _ => anyhow::bail!("usage: extraction_bench [DATA_DIR] OUT.json"),
    };
    let mut pages = serde_json::Map::new();
    let started = std::time::Instant::now();
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir.join("html"))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in &paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let id = name.trim_end_matches(".html.gz");
        let mut html = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_end(&mut html)?;
        // No page address: measured with it, the body scores the same or a little lower.
        let body = newsriver::extract::article(&html, None, None).map(|a| a.body_text).unwrap_or_default();
        pages.insert(id.to_owned(), serde_json::json!({ "articleBody": body }));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!("{} pages in {secs:.2} s ({:.0} pages/s)", paths.len(), paths.len() as f64 / secs);
    std::fs::write(out, serde_json::to_vec(&pages)?)?;
    Ok(())
}
