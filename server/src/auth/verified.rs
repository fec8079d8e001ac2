//! Access tokens this process has already verified: checking an Ed25519 signature is the
//! largest CPU cost of an authenticated request (about 50 µs), and a phone presents the
//! same token for up to its lifetime. A token is found by the SHA-256 of its exact text, so
//! only a byte-identical token that did verify can hit; its expiry and `nbf` are checked on
//! every use, its signing key must still be one this process trusts (a retired key ends
//! its tokens at once), and revocation is checked by the caller as before. Bounded: two generations
//! of at most [`GENERATION`] entries each (the older is dropped when the newer fills).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::Claims;

/// Entries per generation.
const GENERATION: usize = 20_000;

/// A verified token's claims and the id of the key that signed it.
#[derive(Debug, Clone)]
pub struct Verified {
    pub claims: Claims,
    pub kid: String,
}

/// One generation of verified tokens, by the SHA-256 of their text.
type Generation = HashMap<[u8; 32], Verified>;

#[derive(Debug, Default)]
pub struct VerifiedTokens {
    /// The newer generation, then the older.
    generations: Mutex<(Generation, Generation)>,
}

/// The cache key of a token.
pub fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedTokens {
    /// The claims of a token verified before, if still within its validity at `now`
    /// (seconds since the epoch) with `leeway` seconds either side.
    pub fn get(&self, key: &[u8; 32], now: i64, leeway: i64) -> Option<Verified> {
        let generations = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        let found = generations.0.get(key).or_else(|| generations.1.get(key))?;
        let c = &found.claims;
        (c.exp + leeway >= now && c.nbf - leeway <= now).then(|| found.clone())
    }

    /// Remembers a token that just verified.
    pub fn insert(&self, key: [u8; 32], verified: Verified) {
        let mut generations = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        if generations.0.len() >= GENERATION {
            let full = std::mem::take(&mut generations.0);
            generations.1 = full;
        }
        generations.0.insert(key, verified);
    }

    /// Entries held (both generations).
    pub fn len(&self) -> usize {
        let generations = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        generations.0.len() + generations.1.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::wire::Role;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: "motcua".into(),
            aud: "motcua".into(),
            sub: "u".into(),
            role: Role::Citizen,
            branch: None,
            agency: None,
            iat: 100,
            nbf: 100,
            exp,
            fam: "f".into(),
        }
    }

    #[test]
    fn hits_only_the_same_token_within_its_validity() {
        let cache = VerifiedTokens::default();
        cache.insert(key("a.b.c"), Verified { claims: claims(1_000), kid: "k".into() });
        assert!(cache.get(&key("a.b.c"), 500, 30).is_some());
        assert!(cache.get(&key("a.b.d"), 500, 30).is_none(), "another token text never hits");
        assert!(cache.get(&key("a.b.c"), 1_031, 30).is_none(), "expired");
        assert!(cache.get(&key("a.b.c"), 69, 30).is_none(), "not yet valid");
    }

    #[test]
    fn memory_is_bounded_by_two_generations() {
        let cache = VerifiedTokens::default();
        for i in 0..(GENERATION * 3) {
            cache.insert(key(&i.to_string()), Verified { claims: claims(1_000), kid: "k".into() });
        }
        assert!(cache.len() <= 2 * GENERATION, "{}", cache.len());
        assert!(cache.get(&key(&(GENERATION * 3 - 1).to_string()), 500, 30).is_some(), "the newest stay");
    }
}
