use super::*;

const FILE: &str = "\
# a comment
User-agent: *
Disallow: /private/
Allow: /private/open
Disallow: /*.pdf$
Disallow: /tmp*/x

User-agent: otherbot
Disallow: /
";

#[test]
fn matcher_table() {
    let rules = Rules::parse(FILE, PRODUCT);
    let table: &[(&str, bool)] = &[
        ("/", true),
        ("/news/sitemap.xml", true),
        ("/private/", false),
        ("/private/secret", false),
        ("/private/open", true),
        ("/private/opened/more", true),
        ("/doc.pdf", false),
        ("/doc.pdf?x=1", true),
        ("/tmp123/x", false),
        ("/tmp/y", true),
    ];
    for (path, allowed) in table {
        assert_eq!(rules.allowed(path), *allowed, "{path}");
    }
}

#[test]
fn our_group_wins_over_star_and_ties_go_to_allow() {
    let text = "User-agent: *\nDisallow: /\n\nUser-agent: NewsRiver\nUser-agent: other\nDisallow: /a\nAllow: /a\n";
    let rules = Rules::parse(text, PRODUCT);
    assert!(rules.allowed("/b"), "our group has no rule for /b: the * group does not apply");
    assert!(rules.allowed("/a/x"), "equal lengths: allow wins");
    let only_star = Rules::parse("User-agent: *\nDisallow: /\n", PRODUCT);
    assert!(!only_star.allowed("/anything"));
}

#[test]
fn empty_and_unusual_files() {
    let table: &[(&str, &str, bool)] = &[
        ("", "/x", true),
        ("User-agent: *\nDisallow:\n", "/x", true),
        ("Disallow: /\n", "/x", true), // a rule outside any group
        ("user-agent: *\nsitemap: /s.xml\ndisallow: /x$\n", "/x", false),
        ("User-agent: *\nDisallow: /x$\n", "/xy", true),
        ("User-agent: *\nDisallow: /*\n", "/", false),
        ("garbage without colons\n\u{0}\u{ffff}", "/", true),
        ("User-agent: *\nDisallow: /café\n", "/caf%C3%A9/menu", false),
    ];
    for (text, path, allowed) in table {
        assert_eq!(Rules::parse(text, PRODUCT).allowed(path), *allowed, "{text:?} {path}");
    }
    assert!(!Rules::disallow_all().allowed("/"));
    assert!(Rules::allow_all().allowed("/"));
}

#[test]
fn wildcards() {
    let table: &[(&str, &str, bool)] = &[
        ("/a*b*c", "/a-b-c", true),
        ("/a*b*c", "/a-c-b", false),
        ("/a*c$", "/abcbc", true),
        ("/a*c$", "/abcb", false),
        ("*", "/", true),
        ("/$", "/", true),
        ("/$", "/a", false),
        ("/a**b", "/ab", true),
    ];
    for (pattern, path, m) in table {
        assert_eq!(matches(pattern, path), *m, "{pattern} {path}");
    }
}

#[test]
fn sitemap_lines_are_listed_whatever_group_they_sit_in() {
    let text = "Sitemap: https://example.org/news.xml\nUser-agent: *\nDisallow: /x\n\
                sitemap:https://example.org/index.xml # the index\nSITEMAP: https://example.org/news.xml\nSitemap:\n";
    assert_eq!(sitemaps(text), ["https://example.org/news.xml", "https://example.org/index.xml"]);
    assert!(sitemaps("User-agent: *\nDisallow:\n").is_empty());
}
