//! Sparse term vectors: hashed terms with weights and rarities, sorted by term so that the
//! similarity of two vectors is one merge pass (no hashing, no allocation, no rarity lookups).

/// One term of a vector (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Term {
    pub hash: u64,
    pub weight: f32,
    /// `Rarity::rarity` of the term when the item was weighed: 0 common, 1 never seen.
    pub rarity: f32,
}

impl Term {
    pub fn new(hash: u64, weight: f32, rarity: f32) -> Self {
        Self { hash, weight, rarity }
    }
}

/// Terms sorted by hash, at most one entry per hash.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vector {
    terms: Vec<Term>,
}

impl Vector {
    /// Keeps the `max` heaviest of `terms` (ties by hash, so the result is deterministic),
    /// scaled to unit length. Zero and non-finite weights are dropped; of repeated hashes the
    /// heaviest stays.
    pub fn top_unit(terms: Vec<Term>, max: usize) -> Self {
        let mut v = Self::raw(terms, max);
        let norm = v.terms.iter().map(|t| t.weight * t.weight).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.terms.iter_mut().for_each(|t| t.weight /= norm);
        }
        v
    }

    /// The `max` heaviest of `terms` with their weights as given.
    pub fn raw(mut terms: Vec<Term>, max: usize) -> Self {
        terms.retain(|t| t.weight.is_finite() && t.weight > 0.0);
        let heavier = |a: &Term, b: &Term| b.weight.total_cmp(&a.weight).then(a.hash.cmp(&b.hash));
        // Of a repeated hash the heaviest stays; repeats are rare (terms mostly come from maps),
        // so they are dropped before the cut only when there are any.
        terms.sort_unstable_by(|a, b| a.hash.cmp(&b.hash).then(b.weight.total_cmp(&a.weight)));
        terms.dedup_by_key(|t| t.hash);
        if terms.len() > max {
            // A partial selection, then the kept few sorted back: no full sort by weight.
            terms.select_nth_unstable_by(max, heavier);
            terms.truncate(max);
            terms.sort_unstable_by_key(|t| t.hash);
        }
        Self { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    pub fn contains(&self, hash: u64) -> bool {
        self.terms.binary_search_by_key(&hash, |t| t.hash).is_ok()
    }

    /// The dot product; for two unit vectors, their cosine.
    pub fn dot(&self, other: &Self) -> f64 {
        let mut sum = 0.0f64;
        self.each_shared(other, |a, b| sum += f64::from(a.weight) * f64::from(b.weight));
        sum
    }

    /// Calls `f` with both sides of every term the two vectors share.
    pub fn each_shared(&self, other: &Self, mut f: impl FnMut(&Term, &Term)) {
        let (a, b) = (&self.terms, &other.terms);
        let (mut i, mut j) = (0, 0);
        // Both sides step without a branch on which is smaller: the hashes are random, so a
        // branch would be mispredicted half the time.
        while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
            if x.hash == y.hash {
                f(x, y);
            }
            i += usize::from(x.hash <= y.hash);
            j += usize::from(y.hash <= x.hash);
        }
    }

    /// The hashes of the terms both vectors hold, heaviest (by the product of weights) first.
    pub fn shared(&self, other: &Self) -> Vec<u64> {
        let mut out: Vec<(u64, f64)> = Vec::new();
        self.each_shared(other, |a, b| out.push((a.hash, f64::from(a.weight) * f64::from(b.weight))));
        out.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        out.into_iter().map(|t| t.0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(v: &[(u64, f32)]) -> Vec<Term> {
        v.iter().map(|&(h, w)| Term::new(h, w, 0.5)).collect()
    }

    #[test]
    fn unit_vectors_have_cosine_one_with_themselves_and_zero_when_disjoint() {
        let a = Vector::top_unit(terms(&[(1, 3.0), (2, 4.0), (9, f32::NAN), (5, 0.0)]), 10);
        assert_eq!(a.len(), 2);
        assert!((a.dot(&a) - 1.0).abs() < 1e-6);
        let b = Vector::top_unit(terms(&[(3, 1.0)]), 10);
        assert_eq!(a.dot(&b), 0.0);
        assert_eq!(Vector::default().dot(&a), 0.0);
    }

    #[test]
    fn truncation_keeps_the_heaviest_terms_once() {
        let v = Vector::top_unit(terms(&[(1, 1.0), (2, 5.0), (3, 3.0), (2, 4.0)]), 2);
        assert_eq!(v.terms().iter().map(|t| t.hash).collect::<Vec<_>>(), [2, 3]);
        let raw = Vector::raw(terms(&[(1, 1.0), (2, 5.0), (3, 3.0)]), 2);
        assert_eq!(raw.terms().iter().map(|t| t.weight).collect::<Vec<_>>(), [5.0, 3.0]);
        assert_eq!(raw.shared(&v), [2, 3]);
    }
}
