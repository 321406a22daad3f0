//! Sparse term vectors: hashed terms with weights, sorted by term so that the similarity of two
//! vectors is one merge pass (no hashing, no allocation).

/// A term's 64-bit hash and its weight, sorted by hash, at most one entry per hash.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vector {
    terms: Vec<(u64, f32)>,
}

impl Vector {
    /// Keeps the `max` heaviest of `weighted` (ties by hash, so the result is deterministic),
    /// scaled to unit length. Zero and non-finite weights are dropped.
    pub fn top_unit(mut weighted: Vec<(u64, f32)>, max: usize) -> Self {
        weighted.retain(|(_, w)| w.is_finite() && *w > 0.0);
        weighted.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        weighted.dedup_by_key(|t| t.0);
        weighted.truncate(max);
        let norm = weighted.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            weighted.iter_mut().for_each(|t| t.1 /= norm);
        }
        weighted.sort_unstable_by_key(|t| t.0);
        Self { terms: weighted }
    }

    /// The terms as they are, without scaling (weights kept as given), sorted by hash.
    pub fn raw(mut weighted: Vec<(u64, f32)>, max: usize) -> Self {
        let unit = Self::top_unit(weighted.clone(), max);
        let kept: std::collections::HashSet<u64> = unit.terms.iter().map(|t| t.0).collect();
        weighted.retain(|t| kept.contains(&t.0));
        weighted.sort_unstable_by_key(|t| t.0);
        weighted.dedup_by_key(|t| t.0);
        Self { terms: weighted }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn terms(&self) -> &[(u64, f32)] {
        &self.terms
    }

    pub fn contains(&self, term: u64) -> bool {
        self.terms.binary_search_by_key(&term, |t| t.0).is_ok()
    }

    /// The dot product; for two unit vectors, their cosine.
    pub fn dot(&self, other: &Self) -> f64 {
        let mut sum = 0.0f64;
        self.each_shared(other, |a, b| sum += f64::from(a) * f64::from(b));
        sum
    }

    /// The share of this vector's weight on terms `other` (or `also`) holds too: 0 when empty.
    pub fn contained_in(&self, other: &Self, also: &Self) -> f64 {
        let total: f64 = self.terms.iter().map(|t| f64::from(t.1)).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let found: f64 =
            self.terms.iter().filter(|t| other.contains(t.0) || also.contains(t.0)).map(|t| f64::from(t.1)).sum();
        found / total
    }

    /// Calls `f` with both weights of every term the two vectors share.
    pub fn each_shared(&self, other: &Self, mut f: impl FnMut(f32, f32)) {
        let (a, b) = (&self.terms, &other.terms);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    f(a[i].1, b[j].1);
                    i += 1;
                    j += 1;
                }
            }
        }
    }

    /// The terms both vectors hold, heaviest (by the product of weights) first.
    pub fn shared(&self, other: &Self) -> Vec<(u64, f64)> {
        let mut out = Vec::new();
        let (a, b) = (&self.terms, &other.terms);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    out.push((a[i].0, f64::from(a[i].1) * f64::from(b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        out.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_vectors_have_cosine_one_with_themselves_and_zero_when_disjoint() {
        let a = Vector::top_unit(vec![(1, 3.0), (2, 4.0), (9, f32::NAN), (5, 0.0)], 10);
        assert_eq!(a.len(), 2);
        assert!((a.dot(&a) - 1.0).abs() < 1e-6);
        let b = Vector::top_unit(vec![(3, 1.0)], 10);
        assert_eq!(a.dot(&b), 0.0);
        assert_eq!(Vector::default().dot(&a), 0.0);
    }

    #[test]
    fn truncation_keeps_the_heaviest_terms() {
        let v = Vector::top_unit(vec![(1, 1.0), (2, 5.0), (3, 3.0), (2, 5.0)], 2);
        assert_eq!(v.terms().iter().map(|t| t.0).collect::<Vec<_>>(), [2, 3]);
        let raw = Vector::raw(vec![(1, 1.0), (2, 5.0), (3, 3.0)], 2);
        assert_eq!(raw.terms(), &[(2, 5.0), (3, 3.0)]);
    }

    #[test]
    fn containment_is_the_share_of_weight_found() {
        let a = Vector::raw(vec![(1, 1.0), (2, 3.0)], 10);
        let b = Vector::raw(vec![(2, 1.0)], 10);
        assert!((a.contained_in(&b, &Vector::default()) - 0.75).abs() < 1e-9);
        assert_eq!(Vector::default().contained_in(&b, &b), 0.0);
    }
}
