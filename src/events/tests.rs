//! Small fixtures: one event told differently by several outlets must group; two events of the
//! same kind on the same day (two earthquakes, two arrests) must not; languages, the window and
//! odd input behave.

use super::*;
use crate::domain::{EntryKey, SourceId};
use chrono::{DateTime, Duration, Utc};

fn at(hours: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap_or_default() + Duration::hours(hours)
}

fn item<'a>(id: &str, title: &'a str, text: &'a str, hours: i64) -> Item<'a> {
    let source = SourceId::parse("test").unwrap_or_else(|_| unreachable!());
    Item {
        key: EntryKey::derive(&source, "id", id),
        origin: crate::events::origin_of(id),
        title,
        lead: None,
        text,
        language: Some("en"),
        published: at(hours),
    }
}

/// Ordinary news of other days, so that rarity knows which words are common.
const BACKGROUND: [&str; 8] = [
    "Officials said on Monday that the city council would vote on the budget after a long debate.",
    "Police said on Tuesday a man was arrested after a crash on the highway; two people were taken to hospital.",
    "The company reported higher profits on Wednesday and said it would hire more workers this year.",
    "A strong storm struck the coast on Sunday, officials said Thursday, and thousands of homes lost power.",
    "The minister told reporters that the government would present the new law to parliament next week.",
    "Residents were evacuated after a fire broke out in a building, the fire department said on Friday.",
    "The team won the match on Saturday and the coach said the players had worked hard all season.",
    "An earthquake struck the region, the geological survey said; there were no immediate reports of damage.",
];

fn warmed(settings: EventSettings) -> EventIndex {
    let mut index = EventIndex::new(settings);
    for round in 0..20 {
        for (i, text) in BACKGROUND.iter().enumerate() {
            index.observe(&item(&format!("bg{round}-{i}"), "", text, -1000));
        }
    }
    index
}

const QUAKE_A: [(&str, &str); 3] = [
    ("6.1 quake hits Sumatra", "A magnitude 6.1 earthquake struck off Padang on the western coast of Sumatra, Indonesia, on Tuesday, the geological survey said. Three people were hurt in Padang."),
    ("Strong earthquake jolts Indonesia's Sumatra", "The 6.1 magnitude earthquake hit near Padang, Sumatra, on Tuesday morning. Officials in Padang said three people were injured and buildings were damaged."),
    ("Sumatra earthquake injures three", "Indonesia's meteorology agency said the magnitude 6.1 quake was centred near Padang in West Sumatra. Three people were injured, officials in Padang said Tuesday."),
];

const QUAKE_B: [(&str, &str); 3] = [
    ("5.2 quake shakes central Chile", "A magnitude 5.2 earthquake shook central Chile near Valparaiso on Tuesday, the geological survey said. There were no reports of injuries in Valparaiso."),
    ("Earthquake rattles Valparaiso", "The 5.2 magnitude quake struck near Valparaiso, Chile, on Tuesday afternoon. Emergency officials in Valparaiso said there was no damage."),
    ("Chile hit by moderate earthquake", "Chile's emergency office said the magnitude 5.2 earthquake was centred near Valparaiso. No injuries were reported in Valparaiso on Tuesday."),
];

#[test]
fn two_earthquakes_on_one_day_do_not_merge_and_each_groups_its_reports() {
    let mut index = warmed(EventSettings::default());
    let mut events = Vec::new();
    for (i, ((ta, xa), (tb, xb))) in QUAKE_A.iter().zip(QUAKE_B.iter()).enumerate() {
        events.push(("a", index.assign(&item(&format!("a{i}"), ta, xa, i as i64)).event));
        events.push(("b", index.assign(&item(&format!("b{i}"), tb, xb, i as i64)).event));
    }
    let of = |label: &str| events.iter().filter(|e| e.0 == label).map(|e| e.1).collect::<Vec<_>>();
    let (a, b) = (of("a"), of("b"));
    assert!(a.iter().all(|e| !b.contains(e)), "{events:?}");
    assert!(a.iter().all(|e| *e == a[0]), "the Sumatra reports group: {events:?}");
    assert!(b.iter().all(|e| *e == b[0]), "the Chile reports group: {events:?}");
}

const ARREST_A: (&str, &str) = ("Police arrest Rangers striker Kyle Benson", "Rangers striker Kyle Benson was arrested in Glasgow on Friday after a fight outside a nightclub, police said. Benson, 24, will appear in court on Monday.");
const ARREST_B: (&str, &str) = ("Celtic defender Tom Okafor arrested", "Celtic defender Tom Okafor was arrested in Edinburgh on Friday over a driving offence, police said. Okafor, 29, was released pending a report.");

#[test]
fn two_arrests_of_two_players_on_one_day_stay_apart() {
    let mut index = warmed(EventSettings::default());
    let a = index.assign(&item("a", ARREST_A.0, ARREST_A.1, 0));
    let b = index.assign(&item("b", ARREST_B.0, ARREST_B.1, 1));
    assert!(!b.joined && a.event != b.event, "{b:?}");
}

const LOHAN: [(&str, &str); 2] = [
    ("Lindsay Lohan checks into Betty Ford Center", "Lindsay Lohan checked into the Betty Ford Center in Rancho Mirage late Thursday to begin a 90-day court-ordered stay, her lawyer Shawn Holley said on May 3, 2013."),
    ("Lohan heads to rehab at Betty Ford after leaving Newport Beach clinic", "After walking out of a Newport Beach facility, the actress Lindsay Lohan admitted herself to the Betty Ford Center in Rancho Mirage on Thursday night for the 90-day treatment a judge ordered in 2013, attorney Shawn Holley confirmed."),
];

#[test]
fn one_event_told_differently_by_two_outlets_merges_and_says_why() {
    let mut index = warmed(EventSettings::default());
    let first = index.assign(&item("la-times", LOHAN[0].0, LOHAN[0].1, 0));
    let second = index.assign(&item("people", LOHAN[1].0, LOHAN[1].1, 2));
    assert!(second.joined && second.event == first.event, "{second:?}");
    let (event, reason) = second.best.unwrap_or_else(|| unreachable!());
    assert_eq!(event, first.event);
    assert!(reason.score >= index.settings().threshold);
    for name in ["lohan", "betty ford center", "rancho mirage"] {
        assert!(reason.names.iter().any(|n| n == name), "{name} in {reason}");
    }
    assert!(reason.numbers.iter().any(|n| n.starts_with("90")), "{reason}");
    assert_eq!(index.size(first.event), 2);
    assert_eq!(index.members(first.event).len(), 2);
}

#[test]
fn events_keep_to_one_language_unless_asked_and_to_the_window() {
    let mut index = warmed(EventSettings::default());
    let first = index.assign(&item("en", LOHAN[0].0, LOHAN[0].1, 0));
    let french = Item { language: Some("fr-FR"), ..item("fr", LOHAN[1].0, LOHAN[1].1, 1) };
    assert_ne!(index.assign(&french).event, first.event);
    let mut across = warmed(EventSettings { cross_language: true, ..EventSettings::default() });
    let first = across.assign(&item("en", LOHAN[0].0, LOHAN[0].1, 0));
    assert_eq!(across.assign(&french).event, first.event);
    // A week later the event has left the window: a new report opens a new event.
    let late = across.assign(&item("late", LOHAN[1].0, LOHAN[1].1, 24 * 8));
    assert!(!late.joined && late.event != first.event);
    assert_eq!(across.len(), 1, "expired events are forgotten");
}

#[test]
fn odd_input_never_panics() {
    let long = EventSettings { window: std::time::Duration::MAX, ..EventSettings::default() };
    let mut index = EventIndex::new(EventSettings::default());
    let mut forever = EventIndex::new(long);
    let odd = [
        "",
        " ",
        "...",
        "1, 000, 000, 000, 000, 000, 000, 000",
        "99999999999999999999999999.5 units",
        "9. 9. 9. 9",
        "ÀÉÎ ÕÜ ǅ ΣΑΣ İ 東京 مرحبا",
        "A. B. C. D.",
        "May May May 2013 2013",
        "\u{0}\u{1b}[31m",
        "1e309 NaN inf -0",
        "\u{feff}Title\r\n\r\nBody",
        "12 / 31 / 1999 / 2100 / 1899",
        "x".repeat(5000).leak(),
    ];
    for (i, title) in odd.iter().enumerate() {
        for (j, text) in odd.iter().enumerate() {
            let published = [at(0), DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC][(i + j) % 3];
            let it = Item {
                language: [None, Some(""), Some("-")][j % 3],
                published,
                ..item(&format!("{i}-{j}"), title, text, 0)
            };
            let a = index.assign(&it);
            assert!(a.best.as_ref().is_none_or(|b| b.1.score.is_finite()), "{a:?}");
            forever.assign(&it);
            forever.decide(&it);
        }
    }
}

/// Names in everyone's news, so that rarity knows them as common.
const CAPITAL: [&str; 4] = [
    "President Trump said on Monday at the White House that the plan would pass in 2026.",
    "The White House said President Trump would meet leaders in Washington next week in 2026.",
    "Trump told reporters at the White House that talks in Washington went well this year, 2026.",
    "Officials in Washington said Trump had signed the bill, the White House confirmed in 2026.",
];

#[test]
fn unrelated_reports_sharing_only_common_names_and_the_year_stay_apart() {
    let mut index = warmed(EventSettings::default());
    for round in 0..40 {
        for (i, text) in CAPITAL.iter().enumerate() {
            index.observe(&item(&format!("cap{round}-{i}"), "", text, -1000));
        }
    }
    let a = index.assign(&item("ohio", "Trump visits steel plant", "President Trump toured a steel plant in Youngstown on Tuesday and spoke to workers about jobs, the White House said, in 2026.", 0));
    let b = index.assign(&item("drugs", "Trump signs order on drug prices", "President Trump signed an executive order on drug prices at the White House on Tuesday and said costs would fall in 2026.", 1));
    assert!(!b.joined && b.event != a.event, "{b:?}");
}

const DAIRY: [(&str, &str); 3] = [
    ("Fire destroys old dairy building in Palmer", "The historic Matanuska Maid dairy building in Palmer burned to the ground early Tuesday. Palmer fire chief John Owen said crews fought the blaze for six hours."),
    ("Arson suspected in Matanuska Maid fire", "Alaska State Troopers said arson is suspected in the fire that destroyed the historic Matanuska Maid dairy building in Palmer on Tuesday. Investigator Ken Brooks said an accelerant was found at the site."),
    ("Matanuska Maid building in Palmer destroyed, arson suspected", "The historic Matanuska Maid dairy building in Palmer burned down early Tuesday, fire chief John Owen said, and Alaska State Troopers investigator Ken Brooks said arson is suspected."),
];

#[test]
fn an_item_that_links_two_events_merges_them() {
    // Two days apart, the first two reports score too low to join; the third, between them,
    // agrees with both.
    let mut index = warmed(EventSettings { day_penalty: 2.0, ..EventSettings::default() });
    let a = index.assign(&item("a", DAIRY[0].0, DAIRY[0].1, 0));
    let b = index.assign(&item("b", DAIRY[1].0, DAIRY[1].1, 48));
    let c = index.assign(&item("c", DAIRY[2].0, DAIRY[2].1, 24));
    assert!(!b.joined && b.event != a.event, "{b:?}");
    assert!(c.joined && c.merged.len() == 1, "{c:?}");
    let (survivor, gone) = (c.event, c.merged[0]);
    assert!([a.event, b.event].contains(&survivor) && [a.event, b.event].contains(&gone));
    assert_eq!(index.size(survivor), 3);
    assert_eq!(index.size(gone), 0, "the merged event is gone");
    assert_eq!(index.len(), 1);
}

#[test]
fn a_revised_magnitude_is_the_same_earthquake() {
    let mut index = warmed(EventSettings::default());
    let first = index.assign(&item("a", QUAKE_A[0].0, QUAKE_A[0].1, 0));
    let revised = QUAKE_A[1].1.replace("6.1", "6.0");
    let second = index.assign(&item("b", "Magnitude 6.0 earthquake hits Sumatra", &revised, 1));
    assert!(second.joined && second.event == first.event, "{second:?}");
    let features = second.best.map(|b| b.1.features).unwrap_or_default();
    assert_eq!(features[FEATURE_NAMES.iter().position(|n| *n == "measures_differ").unwrap_or(0)], 0.0);
}

/// Once rarity knows that every name and word two texts share is middling (the same few
/// desks, towns and phrases of a template or a generated feed), their likeness is no evidence of
/// one happening: no event, where unchecked they would group.
#[test]
fn texts_sharing_only_middling_names_and_words_do_not_group() {
    let names = ["Arlen", "Borsk", "Cavell", "Dunmore", "Easton", "Farrow", "Galway", "Holt", "Ivers", "Jarrow"];
    let both = |settings: EventSettings| {
        let mut index = EventIndex::new(settings);
        for i in 0..1_500usize {
            let (a, b) = (names[i % 10], names[(i / 10) % 10]);
            let text = format!("The desk said {a} and {b} met officials, the report added on the day.");
            index.observe(&item(&format!("bg{i}"), "", &text, -100));
        }
        let text = "Officials said Arlen, Borsk and Cavell met the desk, the report added on the day.";
        index.assign(&item("x", "desk report", text, 0));
        index.assign(&item("y", "desk report", text, 1)).joined
    };
    assert!(both(EventSettings { min_rarity: 0.0, ..EventSettings::default() }), "alike enough to join unchecked");
    assert!(!both(EventSettings::default()), "nothing rare in common: no event");
}
