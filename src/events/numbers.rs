//! Numbers and dates in a text: how many, how strong, and when. A number is kept with the word
//! after it ("23 pirates", "5.9 magnitude") and alone; years and year-months are dates, and the
//! latest year a text mentions tells roughly when it was written. Clock times and the day of a
//! written date are neither. Month names are known in English, French, German, Spanish,
//! Italian, Portuguese and Dutch; numeric dates in any language.

use super::hash::{term, Kind, Map};
use super::tokens::Token;

/// Numbers and dates of one item.
#[derive(Debug, Default)]
pub struct Numbers {
    /// Number keys ("23", "23 pirates") and their counts.
    pub numbers: Map<u64, u32>,
    /// Decimal numbers of the title and lead: measurements such as a magnitude.
    pub measures: Vec<f32>,
    /// Years ("2009") and year-months ("2009-12").
    pub dates: Vec<u64>,
    pub latest_year: Option<i32>,
    pub labels: Vec<(u64, String)>,
}

/// Reads numbers from `tokens`; those before index `lead_end` are in the title or lead.
pub fn numbers(tokens: &[Token<'_>], lead_end: usize) -> Numbers {
    let mut out = Numbers::default();
    let mut i = 0;
    while i < tokens.len() {
        let (value, used) = joined(tokens, i);
        if let Some(v) = value.filter(|_| tokens[i].starts_digit()) {
            out.add(tokens, i, used, &v, i < lead_end);
        }
        i += used.max(1);
    }
    out.dates.sort_unstable();
    out.dates.dedup();
    out
}

impl Numbers {
    fn add(&mut self, t: &[Token<'_>], i: usize, used: usize, v: &str, lead: bool) {
        if let Some(year) = year(&t[i]) {
            self.add_year(t, i, year);
            return;
        }
        let next = t.get(i + used);
        let clock =
            t[i].before.trim_end().ends_with(':') || next.is_some_and(|n| n.before.trim_start().starts_with(':'));
        let dated = (i > 0 && month(t[i - 1].text).is_some()) || next.is_some_and(|n| month(n.text).is_some());
        let slashed = t[i].before.contains('/') || next.is_some_and(|n| n.before.contains('/'));
        if clock || dated || slashed {
            return;
        }
        self.key(v.to_owned());
        let unit = next.filter(|n| n.text.starts_with(char::is_alphabetic));
        if let Some(u) = unit.filter(|n| n.before.chars().all(|c| c.is_whitespace() || c == '-')) {
            self.key(format!("{v} {}", u.text.to_lowercase()));
        }
        if lead && v.contains('.') {
            self.measures.extend(v.parse::<f32>().ok().filter(|m| m.is_finite()));
        }
    }

    fn key(&mut self, label: String) {
        let h = term(Kind::Number, &label);
        *self.numbers.entry(h).or_default() += 1;
        self.labels.push((h, label));
    }

    fn add_year(&mut self, t: &[Token<'_>], i: usize, year: i32) {
        self.latest_year = self.latest_year.max(Some(year));
        self.date(year.to_string());
        let named = t[i.saturating_sub(3)..i].iter().find_map(|w| month(w.text));
        let numeric = || {
            let (a, b) = (t.get(i.wrapping_sub(2))?, t.get(i.wrapping_sub(1))?);
            let sep = |s: &str| s.contains(['/', '-', '.']);
            let (a, b) = (a.text.parse::<u32>().ok()?, b.text.parse::<u32>().ok()?);
            (sep(t[i].before) && sep(t[i - 1].before)).then(|| if (1..=12).contains(&a) { a } else { b })
        };
        if let Some(m) = named.or_else(numeric).filter(|m| (1..=12).contains(m)) {
            self.date(format!("{year}-{m}"));
        }
    }

    fn date(&mut self, label: String) {
        let h = term(Kind::Date, &label);
        self.dates.push(h);
        self.labels.push((h, label));
    }
}

/// A four-digit year between 1900 and 2100.
fn year(t: &Token<'_>) -> Option<i32> {
    (t.text.len() == 4 && t.is_digits()).then(|| t.text.parse().ok()).flatten().filter(|y| (1900..=2100).contains(y))
}

/// The number starting at token `i` in canonical form ("6.1", "30000", "3" for "03") and how
/// many tokens it used: "6. 1" and "30, 000" as some tokenised texts print them are rejoined.
fn joined(t: &[Token<'_>], i: usize) -> (Option<String>, usize) {
    let first = t[i].text;
    if !first.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',') || !t[i].starts_digit() {
        return (None, 1);
    }
    let next = t.get(i + 1).filter(|n| n.is_digits());
    let mut text = first.replace(',', "");
    let mut used = 1;
    if let Some(n) = next.filter(|n| n.before == ". " && first.len() <= 2 && t[i].is_digits() && n.text.len() <= 2) {
        text = format!("{first}.{}", n.text);
        used = 2;
    } else if next.is_some_and(|n| n.before == ", " && n.text.len() == 3 && t[i].is_digits() && first.len() <= 3) {
        let mut j = i + 1;
        while let Some(n) = t.get(j).filter(|n| n.before == ", " && n.text.len() == 3 && n.is_digits()) {
            text.push_str(n.text);
            j += 1;
        }
        used = j - i;
    }
    (canonical(&text), used)
}

fn canonical(text: &str) -> Option<String> {
    let v: f64 = text.parse().ok().filter(|v: &f64| v.is_finite())?;
    Some(if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") })
}

/// The month (1-12) a word names, in one of the languages listed above.
pub fn month(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january jan janvier janv januar enero ene gennaio gen janeiro januari",
        "february feb février fevrier févr februar febrero febbraio fevereiro februari",
        "march mar mars märz marzo março maart",
        "april apr avril abril aprile",
        "may mai mayo maggio maio mei",
        "june jun juin juni junio giugno junho",
        "july jul juillet juli julio luglio julho",
        "august aug août aout agosto augustus",
        "september sep sept septembre septiembre settembre setembro",
        "october oct octobre oktober octubre ottobre outubro",
        "november nov novembre noviembre novembro",
        "december dec décembre decembre dezember diciembre dicembre dezembro",
    ];
    if word.len() < 3 || word.len() > 12 || !word.starts_with(char::is_alphabetic) {
        return None;
    }
    let w = word.to_lowercase();
    MONTHS.iter().position(|names| names.split(' ').any(|n| n == w)).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::super::tokens::tokens;
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        let mut l: Vec<String> = numbers(&tokens(text), usize::MAX).labels.into_iter().map(|l| l.1).collect();
        l.sort();
        l
    }

    #[test]
    fn numbers_keep_their_unit_and_tokenised_decimals_and_thousands_are_rejoined() {
        assert_eq!(labels("A 6. 1 - magnitude quake"), ["6.1", "6.1 magnitude"]);
        assert_eq!(labels("a $30, 000 reward"), ["30000", "30000 reward"]);
        assert_eq!(labels("23 pirates, 03 boats"), ["23", "23 pirates", "3", "3 boats"]);
        assert_eq!(labels("3rd AK-47"), ["47"]);
    }

    #[test]
    fn dates_give_years_and_months_clock_times_and_days_are_skipped() {
        let n = numbers(&tokens("Updated May 2, 2013, 1: 32 PM; 05 / 03 / 2013; back in 2005"), usize::MAX);
        let mut l: Vec<String> = n.labels.into_iter().map(|l| l.1).collect();
        l.sort();
        assert_eq!(l, ["2005", "2013", "2013", "2013-5", "2013-5"]);
        assert_eq!(n.latest_year, Some(2013));
        assert_eq!(n.dates.len(), 3);
        assert_eq!(month("Décembre"), Some(12));
        assert_eq!(month("Mayor"), None);
    }

    #[test]
    fn lead_decimals_are_measures() {
        let n = numbers(&tokens("A 5.6 quake. Earlier a 6.1 one."), 3);
        assert_eq!(n.measures, [5.6]);
    }
}
