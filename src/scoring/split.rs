//! The public/private split of hidden rows: a row is public when a seeded
//! SHA-256 of its id falls below the public fraction. It depends only on the
//! seed and the id, so it is stable across restarts, databases and machines,
//! and the seed is never served, so competitors cannot tell which rows are
//! public.

use sha2::{Digest, Sha256};

/// Whether the row with `id` is on the public board.
/// `[split]` of a task: which hidden rows are on the public board.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SplitSpec {
    /// Share of hidden rows on the public board, in (0, 1).
    pub public_fraction: f64,
    /// Seed of the hash that assigns rows.
    pub seed: u64,
}

pub fn is_public(seed: u64, fraction: f64, id: &str) -> bool {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(id.as_bytes());
    let digest = h.finalize();
    let x = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    // Compare in [0, 1): the top 53 bits make an exact f64.
    ((x >> 11) as f64 / (1u64 << 53) as f64) < fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_stable_and_near_the_fraction() {
        let public = (0..10_000).filter(|i| is_public(7, 0.3, &i.to_string())).count();
        assert!((2800..3200).contains(&public), "{public}");
        // Fixed values (checked with Python's hashlib): a change to the hash
        // would reshuffle every board.
        let first: Vec<bool> = (0..8).map(|i| is_public(1, 0.5, &i.to_string())).collect();
        assert_eq!(first, [true, true, false, true, true, true, true, false]);
        assert_ne!(
            (0..64).map(|i| is_public(1, 0.5, &i.to_string())).collect::<Vec<_>>(),
            (0..64).map(|i| is_public(2, 0.5, &i.to_string())).collect::<Vec<_>>(),
            "the seed matters"
        );
    }
}
