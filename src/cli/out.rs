//! How commands write their reports: to stdout, where a reader that went away is no error.

use std::io::Write as _;

/// Writes a command's report to stdout. A reader that went away (`newsriver poll | head`) is
/// not an error: the work is done and stored, only the rest of the report is unwanted.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow::Error::new(e).context("writing to stdout")),
        _ => Ok(()),
    }
}
