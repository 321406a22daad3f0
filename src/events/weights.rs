//! The pair score's trained weights, and how they were trained.
//!
//! A logistic regression of "same event" on the 13 pair features (`score::FEATURE_NAMES`),
//! fitted by `cargo run --release --example events_eval -- --train` on the shared ECB+
//! development set (`../shared/stories-events/ecbplus-dev.jsonl`, topics 1-22, CC BY 3.0; the
//! data stays there). Training pairs: every pair of articles of one topic from different outlets
//! (2,692 positives, 2,716 hard negatives: the hard decisions; pairs across topics share too
//! little to matter). Rarity counted over the whole set first. Full-batch gradient descent from
//! zero, step 2.0, L2 penalty 0.001, 3,000 steps: deterministic, no randomness.
//!
//! Domain knowledge constrains the fit rather than the data alone: evidence against
//! (`years_apart`, `measures_differ`) may only lower the score and everything else only raise
//! it, and `measures_differ` (the leads give different measurements, such as two magnitudes) is
//! set to -3 rather than fitted, because only two topics hold such pairs.
//!
//! Cross-validation over topics (`-- --cv`: fit on the even-numbered half of the topics,
//! measure on the odd half, then the other way round) stays within a few points of the fit on
//! every topic: the features carry the weight, not these 40 events (README, "Events").

/// Weight of each pair feature (`score::FEATURE_NAMES`), in order.
pub const WEIGHTS: [f64; super::score::FEATURES] =
    [1.969, 0.714, 0.513, 0.964, 1.964, 3.081, 3.343, -1.024, 3.126, 1.574, 3.363, -3.000, 0.427];
/// The log-odds of two items with nothing in common.
pub const BIAS: f64 = -3.420;
