//! Password hashing with argon2id at OWASP's recommended parameters (m = 19 MiB, t = 2, p = 1),
//! run on the blocking pool behind a semaphore sized to the cores so that a burst of logins
//! queues instead of starving the async workers. An unknown user is checked against a fixed
//! dummy hash, so a login costs one hash whether or not the user exists.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 iterations, 1 lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing pool is gone")]
    PoolClosed,
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("available_permits", &self.permits.available_permits())
            .finish()
    }
}

fn argon2() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| HashError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &[u8]) -> Result<String, HashError> {
    let hash = argon2()?
        .hash_password(password)
        .map_err(|e| HashError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Verifies against a stored PHC string; an unparsable stored hash verifies as false.
fn verify_blocking(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    match argon2() {
        Ok(a) => a.verify_password(password, &parsed).is_ok(),
        Err(_) => false,
    }
}

impl PasswordHasher {
    /// `concurrency` hashes may run at once (the number of cores is a good value).
    pub fn new(concurrency: usize) -> Result<Self, HashError> {
        let dummy_hash = hash_blocking(b"portcullis-dummy-password-for-unknown-users")?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub fn with_available_parallelism() -> Result<Self, HashError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores)
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::PoolClosed)?;
        let password = password.as_bytes().to_vec();
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|_| HashError::PoolClosed)?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no user,
    /// so both cost the same. Returns false in the latter case.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::PoolClosed)?;
        let password = password.as_bytes().to_vec();
        let (target, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let matched = tokio::task::spawn_blocking(move || verify_blocking(&password, &target))
            .await
            .map_err(|_| HashError::PoolClosed)?;
        Ok(real && matched)
    }

    /// Hashes per second of one core, as a baseline for benchmarks.
    pub fn hash_once_blocking(password: &str) -> Result<String, HashError> {
        hash_blocking(password.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = PasswordHasher::new(2).expect("hasher");
        let hash = hasher.hash("Secret123!").await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("Secret123!", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("Secret123?", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(!hasher.verify("Secret123!", None).await.expect("verify"));
        assert!(
            !hasher
                .verify("x", Some("not a hash"))
                .await
                .expect("verify")
        );
    }
}
