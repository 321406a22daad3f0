//! `include`: source lists in files beside the main config, as `newsriver check` reads them:
//! every problem named with its file and key path, and what each file gave.

use crate::helpers::newsriver;
use crate::opml::{config_with, failed, ok, MAIN};
use newsriver::config::{ConfigError, Settings};

#[test]
fn check_names_the_file_and_key_of_every_problem_in_included_files() {
    let main = format!("{MAIN}\n[[source]]\nid = \"wire\"\nurl = \"https://wire.example.org/rss\"\n");
    let (dir, config) = config_with(&main);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("sources.d/a.toml", "[[source]]\nid = \"a\"\nurl = \"https://a.example.org/rss\"\n");
    write(
        "sources.d/b.toml",
        "[[source]]\nid = \"b\"\nurl = \"https://b.example.org/rss\"\n[[source]]\nid = \"b2\"\nurl = \"gopher://b.example.org/\"\n\
         [[source]]\nid = \"a\"\nurl = \"https://other.example.org/rss\"\n[polling]\nevery = \"1m\"\n",
    );
    let err = failed(&newsriver(&config, &["check"]));
    // `  file: key: message`
    let problems: Vec<(String, &str)> = (err.lines())
        .filter_map(|l| {
            let (file, rest) = l.strip_prefix("  ")?.split_once(": ")?;
            let (key, message) = rest.split_once(": ")?;
            Some((format!("{file}: {key}"), message))
        })
        .collect();
    let paths: Vec<&str> = problems.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["sources.d/b.toml: polling", "sources.d/b.toml: source[1].url", "sources.d/b.toml: source[2].id"],
        "{err}"
    );
    assert_eq!(problems[2].1, "\"a\" is used by an earlier source (source[0] in sources.d/a.toml)");

    write("sources.d/b.toml", "[[source]]\nid = \"b\"\nurl = \"https://b.example.org/rss\"\n[[topic]]\nid = \"t\"\nsources = [\"wire\", \"a\"]\n");
    write("sources.d/empty/notes.txt", "not read");
    let text = ok(&newsriver(&config, &["check"]));
    let counts: Vec<&str> = text.lines().skip(1).map(str::trim).collect();
    assert_eq!(
        counts,
        [
            "newsriver.toml: 1 source, 0 topics",
            "sources.d/a.toml: 1 source, 0 topics",
            "sources.d/b.toml: 1 source, 1 topic"
        ]
    );
    assert!(text.starts_with(&format!("{}: OK (3 sources,", config.display())), "{text}");
}

#[test]
fn a_missing_plain_include_is_an_error_and_an_empty_glob_is_not() {
    let (_dir, config) = config_with("include = [\"nowhere.d/*.toml\", \"sources.toml\"]\n");
    match Settings::load(&config) {
        Err(ConfigError::Invalid { problems, .. }) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].path, "include[1]");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}
