//! Names (people, places, organisations) by capitalisation alone, so any cased script works: a
//! capitalised token inside a sentence is a name; one that opens a sentence only when the text
//! also capitalises it inside a sentence and never writes it in lower case. Consecutive names
//! form a multiword name. Shouted sentences and Title Case headlines say nothing about names
//! and are skipped. Caseless scripts yield no names (their words still count).

use super::hash::{term, term_lower, Kind, Map, Set};
use super::tokens::Token;

/// Names found in one item: single words and multiword names, each with its count and label.
#[derive(Debug, Default)]
pub struct Names {
    pub words: Map<u64, u32>,
    pub phrases: Map<u64, u32>,
    pub labels: Vec<(u64, String)>,
}

/// The names of an item from its title's and body's tokens.
pub fn names(title: &[Token<'_>], body: &[Token<'_>]) -> Names {
    let title_ok = !title_case(title);
    let sentences: Vec<&[Token<'_>]> =
        sentences(body).into_iter().chain(title_ok.then_some(title)).filter(|s| !shouted(s)).collect();
    let lower: Set = title
        .iter()
        .chain(body)
        .filter(|t| t.text.starts_with(char::is_lowercase))
        .map(|t| term_lower(Kind::Word, t.text))
        .collect();
    let inside: Set = sentences
        .iter()
        .flat_map(|s| s.iter())
        .filter(|t| !t.initial && capital(t))
        .map(|t| term_lower(Kind::Word, t.text))
        .collect();
    let mut out = Names::default();
    for s in sentences {
        let mut run: Vec<String> = Vec::new();
        for t in s {
            let is_name = capital(t)
                && (!t.initial || {
                    let h = term_lower(Kind::Word, t.text);
                    inside.contains(&h) && !lower.contains(&h)
                });
            let joined = t.before.chars().all(|c| c.is_whitespace() || c == '.') && !t.initial;
            if !(is_name && joined) {
                out.add_run(&mut run);
            }
            if is_name {
                run.push(t.text.to_lowercase());
            }
        }
        out.add_run(&mut run);
    }
    out
}

impl Names {
    fn add_run(&mut self, run: &mut Vec<String>) {
        for w in run.iter().filter(|w| w.chars().count() >= 2) {
            let h = term(Kind::Word, w);
            *self.words.entry(h).or_default() += 1;
            self.labels.push((h, w.clone()));
        }
        if run.len() >= 2 {
            let phrase = run.join(" ");
            let h = term(Kind::Phrase, &phrase);
            *self.phrases.entry(h).or_default() += 1;
            self.labels.push((h, phrase));
        }
        run.clear();
    }
}

/// Starts with a capital and is a word, not a number; a single capital letter only inside a
/// multiword name is kept by the caller's run (it is dropped as a name of its own).
fn capital(t: &Token<'_>) -> bool {
    t.starts_upper() && t.text.chars().all(char::is_alphanumeric)
}

/// The body's tokens cut into sentences.
fn sentences<'t, 'a>(body: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    body.chunk_by(|a, b| a.sentence == b.sentence).collect()
}

/// Most letters upper case: a shouted line, where case says nothing.
fn shouted(s: &[Token<'_>]) -> bool {
    let (upper, letters) = s
        .iter()
        .flat_map(|t| t.text.chars())
        .filter(|c| c.is_alphabetic())
        .fold((0, 0), |(u, n), c| (u + usize::from(c.is_uppercase()), n + 1));
    letters >= 8 && upper * 10 > letters * 6
}

/// A headline in Title Case capitalises most words, names or not.
fn title_case(title: &[Token<'_>]) -> bool {
    let long: Vec<&Token<'_>> = title.iter().filter(|t| t.text.chars().count() > 3 && !t.starts_digit()).collect();
    !long.is_empty() && long.iter().filter(|t| t.starts_upper()).count() * 10 > long.len() * 6
}

#[cfg(test)]
mod tests {
    use super::super::tokens::tokens;
    use super::*;

    fn labels(title: &str, body: &str) -> Vec<String> {
        let mut l: Vec<String> = names(&tokens(title), &tokens(body)).labels.into_iter().map(|l| l.1).collect();
        l.sort();
        l.dedup();
        l
    }

    #[test]
    fn capitalised_words_inside_sentences_are_names_and_runs_are_multiword_names() {
        let got = labels(
            "Lindsay Lohan Checks Into Betty Ford Center",
            "The actress Lindsay Lohan checked into the Betty Ford Center on Thursday. Lohan, 26, was there before.",
        );
        assert_eq!(
            got,
            ["betty", "betty ford center", "center", "ford", "lindsay", "lindsay lohan", "lohan", "thursday"]
        );
    }

    #[test]
    fn sentence_openers_shouting_and_commas_do_not_make_names() {
        let got = labels(
            "",
            "Police said it was calm. THREE PEOPLE HAVE DIED IN A BLAZE TODAY. In Athens, Greece police fired gas.",
        );
        assert_eq!(got, ["athens", "greece"]);
        assert!(labels("", "").is_empty());
    }
}
