//! `newsriver extract`: one page's article (a file, stdin or a URL), as readable text or as the
//! stable JSON contract.

use super::out::emit;
use crate::extract::{self, Article, MAX_INPUT};
use anyhow::Context as _;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use url::Url;

/// Extracts the article of `input` (a file, `-` for stdin, or an http(s) URL fetched with the
/// fetcher `config` describes) and prints it.
pub async fn extract(config: &Path, input: &str, base: Option<&Url>, json: bool) -> anyhow::Result<()> {
    let article = if input.starts_with("http://") || input.starts_with("https://") {
        let url = Url::parse(input).with_context(|| format!("{input:?} is not a URL"))?;
        let page = super::one_off_fetcher(config)?.get(&url).await.with_context(|| format!("fetching {url}"))?;
        // The header's charset counts when the page declares none; links resolve where the
        // redirects ended.
        let charset = page.content_type.as_deref().and_then(crate::parse::charset_of).map(encoding_rs::Encoding::name);
        let base = base.or(page.final_url.as_ref());
        extract::article(&page.body, base, charset).with_context(|| format!("extracting {url}"))?
    } else {
        let html = read_capped(input)?;
        extract::article(&html, base, None).with_context(|| format!("extracting {input}"))?
    };
    if json {
        let mut out = serde_json::to_string_pretty(&article)?;
        out.push('\n');
        return emit(&out);
    }
    emit(&readable(&article))
}

/// Reads at most one byte more than the extractor accepts, so that a huge input is refused
/// by the extractor without being read whole.
fn read_capped(input: &str) -> anyhow::Result<Vec<u8>> {
    let limit = u64::try_from(MAX_INPUT).unwrap_or(u64::MAX).saturating_add(1);
    let mut html = Vec::new();
    if input == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut html).context("reading stdin")?;
    } else {
        let file = std::fs::File::open(input).with_context(|| format!("opening {input}"))?;
        file.take(limit).read_to_end(&mut html).with_context(|| format!("reading {input}"))?;
    }
    Ok(html)
}

fn readable(a: &Article) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: Option<String>| {
        if let Some(v) = value {
            let _ = writeln!(out, "{label:<10} {v}");
        }
    };
    line("title", a.title.clone());
    line("byline", (!a.byline.is_empty()).then(|| a.byline.join(", ")));
    line("published", a.published.map(|d| d.to_rfc3339()));
    line("modified", a.modified.map(|d| d.to_rfc3339()));
    line("site", a.site_name.clone());
    line("lang", a.lang.clone());
    line("image", a.image.as_ref().map(|i| i.url.clone()));
    line("words", Some(a.word_count.to_string()));
    let _ = write!(out, "\n{}\n", a.body_text);
    out
}
