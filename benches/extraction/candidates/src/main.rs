//! Runs dom_smoothie over the shared benchmark pages and writes `{id: {"articleBody": text}}` for score.py.
//!
//! usage: extraction-candidates DATA_DIR OUT.json

use std::io::Read as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, out] = args.as_slice() else { return Err("usage: extraction-candidates DATA_DIR OUT.json".into()) };
    let mut pages = serde_json::Map::new();
    let started = std::time::Instant::now();
    for entry in std::fs::read_dir(PathBuf::from(dir).join("html"))? {
        let path = entry?.path();
        let id = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().trim_end_matches(".html.gz").to_owned();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path)?).read_to_end(&mut bytes)?;
        let html = String::from_utf8_lossy(&bytes).into_owned();
        let body = std::panic::catch_unwind(|| {
            let parsed = dom_smoothie::Readability::new(html.as_str(), None, None).ok().and_then(|mut r| r.parse().ok());
            parsed.map(|a| a.text_content.to_string()).unwrap_or_default()
        })
        .unwrap_or_default();
        pages.insert(id, serde_json::json!({ "articleBody": body }));
    }
    eprintln!("dom_smoothie: {} pages in {:.2} s", pages.len(), started.elapsed().as_secs_f64());
    std::fs::write(out, serde_json::to_vec(&pages)?)?;
    Ok(())
}
