//! Secrets at rest and in memory: only SHA-256 digests are kept, compared in constant time.
//! Client secrets, refresh tokens, codes and tickets are high-entropy random strings, so a
//! fast digest is enough; user passwords go through argon2id instead (see `password::hasher`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }
    /// Constant-time comparison of `candidate`'s digest with this one.
    pub fn matches(&self, candidate: &str) -> bool {
        let other = Self::of(candidate);
        self.0.ct_eq(&other.0).into()
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigest(…)")
    }
}

/// `n` random bytes from the OS, URL-safe base64 without padding.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    fill_random(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

pub fn fill_random(buf: &mut [u8]) {
    // The OS random source failing is not recoverable; fall back to rand's thread RNG which is
    // itself seeded from the OS, so this never silently produces predictable bytes.
    if getrandom::fill(buf).is_err() {
        use rand::RngExt;
        let mut rng = rand::rng();
        for b in buf.iter_mut() {
            *b = rng.random();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_same_secret() {
        let d = SecretDigest::of("a-long-random-secret");
        assert!(d.matches("a-long-random-secret"));
        assert!(!d.matches("a-long-random-secreT"));
        assert!(!d.matches(""));
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 43);
    }
}
