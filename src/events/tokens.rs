//! Tokens of a text with what the event features need to know about them: their original case,
//! whether they open a sentence, and the characters before them (to rejoin "6. 1" and "30, 000",
//! which tokenised corpora and some feeds print, and to keep names apart across punctuation).

/// One token: a run of letters and digits. A run that starts with a digit keeps inner `.` and
/// `,` between digits ("6.1", "30,000").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    /// The characters between the previous token (or the start) and this one.
    pub before: &'a str,
    /// Opens a sentence: the first token, or one after a line break or `.`, `!`, `?` (a `.`
    /// after a single capital letter is an initial, not a sentence end).
    pub initial: bool,
    /// The sentence's number, counting from 0.
    pub sentence: u32,
}

impl Token<'_> {
    pub fn starts_upper(&self) -> bool {
        self.text.chars().next().is_some_and(char::is_uppercase)
    }

    pub fn starts_digit(&self) -> bool {
        self.text.chars().next().is_some_and(|c| c.is_ascii_digit())
    }

    pub fn is_digits(&self) -> bool {
        !self.text.is_empty() && self.text.bytes().all(|b| b.is_ascii_digit())
    }

    /// A single capital letter: an initial ("W" in "George W. Bush").
    pub fn is_initial_letter(&self) -> bool {
        let mut chars = self.text.chars();
        chars.next().is_some_and(char::is_uppercase) && chars.next().is_none()
    }
}

/// The tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out: Vec<Token<'_>> = Vec::new();
    let mut sentence = 0u32;
    let mut last_end = 0;
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find(|c: char| c.is_alphanumeric()) {
        let from = offset + start;
        let len = token_len(&text[from..]);
        let before = &text[last_end..from];
        let after_initial = out.last().is_some_and(|t| t.is_initial_letter()) && before.trim() == ".";
        let ends = before.contains('\n') || (before.contains(['.', '!', '?']) && !after_initial);
        if ends && !out.is_empty() {
            sentence += 1;
        }
        out.push(Token { text: &text[from..from + len], before, initial: out.is_empty() || ends, sentence });
        last_end = from + len;
        offset = last_end;
        rest = &text[last_end..];
    }
    out
}

/// Byte length of the token at the start of `s` (which starts with a letter or digit).
fn token_len(s: &str) -> usize {
    let numeric = s.starts_with(|c: char| c.is_ascii_digit());
    let mut end = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let joins =
            numeric && matches!(c, '.' | ',') && end == i && chars.peek().is_some_and(|(_, n)| n.is_ascii_digit());
        if c.is_alphanumeric() || joins {
            end = i + c.len_utf8();
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(t: &[Token<'a>]) -> Vec<&'a str> {
        t.iter().map(|t| t.text).collect()
    }

    #[test]
    fn numbers_keep_inner_points_and_commas_words_split_on_punctuation() {
        let t = tokens("A 6.1-magnitude quake, $30,000 reward; Reid's rep. End 5.");
        assert_eq!(texts(&t), ["A", "6.1", "magnitude", "quake", "30,000", "reward", "Reid", "s", "rep", "End", "5"]);
        assert_eq!(t[1].before, " ");
        assert!(t[9].initial && !t[8].initial);
        assert_eq!(t[9].sentence, 1);
    }

    #[test]
    fn sentences_break_at_stops_and_lines_but_not_after_initials() {
        let t = tokens("George W. Bush spoke.\nThen Obama! Why? Yes");
        let initial: Vec<bool> = t.iter().map(|t| t.initial).collect();
        assert_eq!(initial, [true, false, false, false, true, false, true, true]);
        assert!(tokens("").is_empty());
        assert_eq!(texts(&tokens("Ünïcode — Straße 東京")), ["Ünïcode", "Straße", "東京"]);
    }
}
