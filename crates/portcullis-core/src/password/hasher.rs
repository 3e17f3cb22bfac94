//! Password hashing with argon2id at OWASP's recommended parameters (m = 19 MiB, t = 2, p = 1).
//!
//! Hashes run on a fixed pool of threads, one per core, each owning its argon2 memory for the
//! life of the process: a login costs the hash itself, not a 19 MiB allocation, page faults and
//! a fresh malloc arena on whichever blocking thread picked it up. Requests queue for a thread,
//! so a burst of logins waits instead of starving the async workers. An unknown user is checked
//! against a fixed dummy hash, so a login costs one hash whether or not the user exists.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 iterations, 1 lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;
const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;
/// A stored hash asking for more memory than this is refused rather than computed.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing pool is gone")]
    PoolClosed,
    /// More hashes are waiting than the threads can start within a few seconds: the request
    /// is answered at once (Auth0's 429) instead of queueing without end.
    #[error("too many password hashes are waiting")]
    Busy,
}

/// How many hashes may wait per hashing thread: about 1.5 s of work at ~25 ms a hash.
pub const MAX_QUEUED_PER_THREAD: usize = 64;

enum Job {
    Hash {
        password: Vec<u8>,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: Vec<u8>,
        stored: Arc<str>,
        reply: oneshot::Sender<bool>,
    },
}

/// A job and when it joined the queue, so the wait for a thread can be measured.
struct Queued {
    job: Job,
    since: Instant,
}

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Queued>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
    dummy_hash: Arc<str>,
    /// Hashes computed so far (hashing and verifying alike).
    computed: Arc<AtomicU64>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .finish()
    }
}

fn our_params() -> Result<Params, HashError> {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_LEN))
        .map_err(|e| HashError::Hash(e.to_string()))
}

/// One hashing thread's reusable argon2 memory.
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl HashMemory {
    pub fn new() -> Result<Self, HashError> {
        Ok(Self {
            blocks: vec![Block::default(); our_params()?.block_count()],
        })
    }

    /// A new PHC string for `password` with a random salt.
    pub fn hash(&mut self, password: &[u8]) -> Result<String, HashError> {
        let err = |e: &dyn std::fmt::Display| HashError::Hash(e.to_string());
        let params = our_params()?;
        let mut salt = [0u8; SALT_LEN];
        crate::secret::fill_random(&mut salt);
        let mut out = [0u8; OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password, &salt, &mut out, &mut self.blocks)
            .map_err(|e| err(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| err(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| err(&e))?),
            hash: Some(Output::new(&out).map_err(|e| err(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Verifies against a stored argon2 PHC string (any variant and parameters, e.g. imported);
    /// an unparsable or unsupported stored hash verifies as false.
    pub fn verify(&mut self, password: &[u8], stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Ok(algorithm), Some(salt), Some(expected)) = (
            Algorithm::try_from(parsed.algorithm.as_str()),
            parsed.salt,
            parsed.hash,
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        if params.m_cost() > MAX_MEMORY_KIB {
            return false;
        }
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        let computed = if params.block_count() == self.blocks.len() {
            argon2.hash_password_into_with_memory(
                password,
                salt.as_ref(),
                &mut out,
                &mut self.blocks,
            )
        } else {
            let mut blocks = vec![Block::default(); params.block_count()];
            argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut out, &mut blocks)
        };
        computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
    }
}

impl PasswordHasher {
    /// Starts `threads` hashing threads (the number of cores is a good value), with
    /// [`MAX_QUEUED_PER_THREAD`] waiting hashes per thread at most.
    pub fn new(threads: usize) -> Result<Self, HashError> {
        Self::with_queue_limit(threads, threads.max(1) * MAX_QUEUED_PER_THREAD)
    }

    /// Starts `threads` hashing threads; beyond `max_queued` waiting hashes, new ones are
    /// refused at once with [`HashError::Busy`].
    pub fn with_queue_limit(threads: usize, max_queued: usize) -> Result<Self, HashError> {
        let (jobs, receiver) = mpsc::channel::<Queued>();
        let receiver = Arc::new(Mutex::new(receiver));
        let queued = Arc::new(AtomicUsize::new(0));
        let computed = Arc::new(AtomicU64::new(0));
        let mut first_memory = Some(HashMemory::new()?);
        let dummy_hash: Arc<str> = first_memory
            .as_mut()
            .map(|m| m.hash(b"portcullis-dummy-password-for-unknown-users"))
            .transpose()?
            .unwrap_or_default()
            .into();
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            let queued = queued.clone();
            let computed = computed.clone();
            let mut memory = match first_memory.take() {
                Some(m) => m,
                None => HashMemory::new()?,
            };
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let Queued { job, since } = {
                            let Ok(guard) = receiver.lock() else { return };
                            match guard.recv() {
                                Ok(queued) => queued,
                                Err(_) => return,
                            }
                        };
                        queued.fetch_sub(1, Ordering::Relaxed);
                        metrics::histogram!("portcullis_hash_wait_seconds")
                            .record(since.elapsed().as_secs_f64());
                        // A job whose requester is gone (the client hung up) is not worth
                        // its hash: dropped connections cannot delay anyone's login.
                        match job {
                            Job::Hash { password, reply } => {
                                if !reply.is_closed() {
                                    computed.fetch_add(1, Ordering::Relaxed);
                                    let _ = reply.send(memory.hash(&password));
                                }
                            }
                            Job::Verify {
                                password,
                                stored,
                                reply,
                            } => {
                                if !reply.is_closed() {
                                    computed.fetch_add(1, Ordering::Relaxed);
                                    let _ = reply.send(memory.verify(&password, &stored));
                                }
                            }
                        }
                    }
                })
                .map_err(|e| HashError::Hash(e.to_string()))?;
        }
        Ok(Self {
            jobs,
            queued,
            max_queued: max_queued.max(1),
            dummy_hash,
            computed,
        })
    }

    pub fn with_available_parallelism() -> Result<Self, HashError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores)
    }

    /// How many hashes were computed since start: what a request cost, in hashes, is the
    /// difference around it (an unknown user costs one, as a known one does).
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Hashes waiting for a thread.
    pub fn queue_depth(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        // The place in the queue is taken before the job is queued: a burst cannot overshoot.
        if self.queued.fetch_add(1, Ordering::Relaxed) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            metrics::counter!("portcullis_hash_refused_total").increment(1);
            return Err(HashError::Busy);
        }
        let since = Instant::now();
        self.jobs.send(Queued { job, since }).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            HashError::PoolClosed
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash {
            password: password.as_bytes().to_vec(),
            reply,
        })?;
        answer.await.map_err(|_| HashError::PoolClosed)?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no user,
    /// so both cost the same. Returns false in the latter case.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let (target, real) = match stored {
            Some(s) => (Arc::<str>::from(s), true),
            None => (self.dummy_hash.clone(), false),
        };
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password: password.as_bytes().to_vec(),
            stored: target,
            reply,
        })?;
        let matched = answer.await.map_err(|_| HashError::PoolClosed)?;
        Ok(real && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;

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
        assert_eq!(hasher.queue_depth(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_abandoned_jobs_are_not_hashed() {
        let hasher = PasswordHasher::with_queue_limit(1, 4).expect("hasher");
        // 40 hashes at once on one thread with room for 4: the rest are refused at once.
        let results = futures_join_all((0..40).map(|_| {
            let hasher = hasher.clone();
            async move { hasher.verify("x", None).await }
        }))
        .await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(HashError::Busy)))
            .count();
        assert!(busy >= 35, "{busy} refused");
        assert!(results.iter().any(Result::is_ok));
        // Requests abandoned while waiting are skipped: the queue drains without their work.
        let abandoned: Vec<_> = (0..4)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.verify("x", None).await })
            })
            .collect();
        for task in &abandoned {
            task.abort();
        }
        let started = Instant::now();
        while hasher.queue_depth() > 0 && started.elapsed().as_secs() < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(hasher.queue_depth(), 0);
        assert!(hasher.verify("x", None).await.is_ok());
    }

    async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let tasks: Vec<_> = futures.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("task"));
        }
        out
    }

    #[test]
    fn verifies_hashes_made_by_the_reference_implementation_with_other_parameters() {
        let params = Params::new(4096, 3, 1, None).expect("params");
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"imported")
            .expect("hash")
            .to_string();
        let mut memory = HashMemory::new().expect("memory");
        assert!(memory.verify(b"imported", &reference));
        assert!(!memory.verify(b"imported!", &reference));
        // And ours verifies with the reference implementation.
        let ours = memory.hash(b"ours").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        use argon2::password_hash::PasswordVerifier as _;
        assert!(Argon2::default().verify_password(b"ours", &parsed).is_ok());
    }
}
