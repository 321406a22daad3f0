//! Loading the config with every check: `config` validates the plain data and asks the modules
//! that build the runtime parts about what only they can tell (a topic term compiles, the
//! scheduler reads a cron expression).

use crate::config::{Checks, ConfigError, Settings};
use std::path::Path;

/// The answers of the runtime parts, made by the same code that later builds them.
struct RuntimeChecks;

impl Checks for RuntimeChecks {
    fn term(&self, term: &str) -> Result<(), String> {
        crate::topics::Term::parse(term).map(drop)
    }

    fn cron(&self, expr: &str) -> Result<(), String> {
        crate::schedule::validate_cron(expr)
    }

    fn selector(&self, css: &str) -> Result<(), String> {
        crate::extract::validate_selector(css)
    }
}

impl Settings {
    /// Reads and fully validates a config file (what `check` reports, and what every command
    /// runs on); relative paths inside resolve against its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, &RuntimeChecks)?.with_database_url(env_database_url().as_deref())
    }

    /// The settings of a command that only fetches (`discover`, `extract URL`): the config
    /// file's when there is one, else the defaults; the flag says whether the file was there.
    /// Validates config text with every check, as `load` does a file's (`path` names it and
    /// anchors its relative paths).
    pub fn from_toml_checked(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml(text, path, &RuntimeChecks)
    }

    pub fn load_or_defaults(path: &Path) -> Result<(Self, bool), ConfigError> {
        match Self::load(path) {
            Err(ConfigError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let s = Self::from_toml("", path, &RuntimeChecks)?.with_database_url(env_database_url().as_deref())?;
                Ok((s, false))
            }
            other => other.map(|s| (s, true)),
        }
    }
}

fn env_database_url() -> Option<String> {
    std::env::var(crate::config::DATABASE_URL_ENV).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match Settings::from_toml(text, Path::new("/srv/nr/newsriver.toml"), &RuntimeChecks) {
            Err(ConfigError::Invalid { problems, .. }) => problems.iter().map(ToString::to_string).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn runtime_problems_keep_their_key_paths_and_file_order() {
        let text = r#"
[[source]]
id = "a"
url = "ftp://example.org/a"
cron = "*/5 * * * *"
initial_items = 0
[[source]]
id = "b"
url = "https://example.org/b"
cron = "0 99 * * * *"
[[topic]]
id = "Bad Topic"
any = ["fine", "/a(/", "  "]
all = ["/x/q"]
sources = ["nosuch"]
"#;
        let got = problems(text);
        let paths: Vec<&str> = got.iter().map(|p| p.split(": ").next().unwrap_or_default()).collect();
        let want = [
            "source[0].url",
            "source[0].cron",
            "source[0].initial_items",
            "source[1].cron",
            "topic[0].id",
            "topic[0].any[1]",
            "topic[0].any[2]",
            "topic[0].all[0]",
            "topic[0].sources[0]",
        ];
        assert_eq!(paths, want, "{got:#?}");
        assert_eq!(
            got[1],
            r#"source[0].cron: "*/5 * * * *" has 5 fields; use 6, seconds first, as in "0 */10 * * * *""#
        );
        assert!(got[3].starts_with(r#"source[1].cron: "0 99 * * * *" is not a valid cron expression"#), "{}", got[3]);
        assert!(got[5].starts_with(r#"topic[0].any[1]: "/a(/": invalid regex: "#), "{}", got[5]);
        assert_eq!(got[6], r#"topic[0].any[2]: "  ": empty term"#);
        assert_eq!(got[7], r#"topic[0].all[0]: "/x/q": unknown regex flag 'q' (use i, m, s or x)"#);
    }

    #[test]
    fn a_valid_file_loads_with_its_cron_and_regex_terms() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("newsriver.toml");
        let text = "[[source]]\nid = \"a\"\nurl = \"https://example.org/a\"\ncron = \" 0 */5 * * * * \"\n\
                    [[topic]]\nid = \"t\"\nany = [\"rust\", \"/go+/i\"]\n";
        std::fs::write(&path, text).expect("write");
        let s = Settings::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(Settings::load_or_defaults(&path).is_ok_and(|(_, found)| found));
        let (defaults, found) =
            Settings::load_or_defaults(&dir.path().join("absent.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!found && !defaults.polling.allow_private_networks && defaults.sources.is_empty());
        assert_eq!(s.sources[0].schedule, crate::config::Schedule::Cron("0 */5 * * * *".into()));
        assert_eq!(s.topics[0].any, ["rust", "/go+/i"]);
    }
}
