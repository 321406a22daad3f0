//! robots.txt rules as Google documents them: the groups of our product token, else `*`;
//! `Allow`/`Disallow` by longest match with `*` and `$`, a tie going to `Allow`. Pure.

/// The product token our groups are looked up by (`User-agent: newsriver`).
pub const PRODUCT: &str = "newsriver";

/// Longest rules file read; Google reads the first 500 KiB, we cap the body a little above.
pub const MAX_BYTES: u64 = 512 * 1024;

/// The rules that apply to us from one robots.txt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    rules: Vec<Rule>,
    /// A robots.txt that could not be read for a reason that may pass (5xx, timeout): nothing
    /// may be fetched until it answers.
    disallow_all: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    pattern: String,
}

impl Rules {
    /// Everything allowed: no robots.txt (a 4xx), or one without rules for us.
    pub fn allow_all() -> Self {
        Self::default()
    }

    pub fn disallow_all() -> Self {
        Self { rules: Vec::new(), disallow_all: true }
    }

    /// The rules for `agent` (a product token, matched case-insensitively) in a robots.txt:
    /// the groups naming it, merged, or else the `*` groups.
    pub fn parse(text: &str, agent: &str) -> Self {
        let agent = agent.to_ascii_lowercase();
        let (mut ours, mut any) = (Vec::new(), Vec::new());
        let mut group: Vec<String> = Vec::new();
        let mut in_agents = false;
        for (key, value) in text.lines().filter_map(line) {
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        group.clear();
                    }
                    in_agents = true;
                    group.push(value.to_ascii_lowercase());
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if value.is_empty() {
                        continue; // `Disallow:` with nothing after it allows everything.
                    }
                    let rule = Rule { allow: key == "allow", pattern: url_encoded(value) };
                    if group.contains(&agent) {
                        ours.push(rule.clone());
                    }
                    if group.iter().any(|g| g == "*") {
                        any.push(rule);
                    }
                }
                _ => {} // sitemap, crawl-delay and unknown lines neither start nor end a group
            }
        }
        let named = text.lines().filter_map(line).any(|(k, v)| k == "user-agent" && v.eq_ignore_ascii_case(&agent));
        Self { rules: if named { ours } else { any }, disallow_all: false }
    }

    /// Whether `path` (the URL's path and query, `/a/b?c`) may be fetched.
    pub fn allowed(&self, path: &str) -> bool {
        if self.disallow_all {
            return false;
        }
        let best = self
            .rules
            .iter()
            .filter(|r| matches(&r.pattern, path))
            .max_by(|a, b| a.pattern.len().cmp(&b.pattern.len()).then(a.allow.cmp(&b.allow)));
        best.is_none_or(|r| r.allow)
    }
}

/// The `Sitemap:` URLs a robots.txt lists, as written, in file order and without repeats; they
/// belong to the file, not to a group.
pub fn sitemaps(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (key, value) in text.lines().filter_map(line) {
        if key == "sitemap" && !value.is_empty() && !out.iter().any(|s| s == value) {
            out.push(value.to_owned());
        }
    }
    out
}

/// One `key: value` line, comments dropped, the key lower-cased; `None` for other lines.
fn line(raw: &str) -> Option<(String, &str)> {
    let content = raw.split('#').next().unwrap_or("");
    let (key, value) = content.split_once(':')?;
    Some((key.trim().to_ascii_lowercase(), value.trim()))
}

/// A pattern as URL paths are written: files often hold `/café`, a URL's path `/caf%C3%A9`.
fn url_encoded(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if c.is_ascii() && c != ' ' {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            c.encode_utf8(&mut buf).bytes().for_each(|b| out.push_str(&format!("%{b:02X}")));
        }
    }
    out
}

/// Whether `pattern` matches `path` from its start: `*` stands for any run of characters, a
/// final `$` anchors the end.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = path.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return !anchored || rest.is_empty();
    };
    // Leftmost placement of each middle piece leaves the most room for those after it.
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    if anchored {
        rest.ends_with(last)
    } else {
        rest.contains(last)
    }
}

#[cfg(test)]
mod tests;
