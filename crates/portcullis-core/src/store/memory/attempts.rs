//! Brute-force counters and suspicious-IP buckets.

use super::*;

#[async_trait]
impl AttemptStore for MemoryStore {
    async fn record_login_failure(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<FailureCount, StoreError> {
        let mut state = self.state();
        let entry = state.attempts.entry(key_of(key)).or_default();
        if entry.failures == 0 || entry.last_failure < lapsed_before {
            entry.failures = 1;
            entry.blocked_at = (1 >= max_attempts).then_some(now);
        } else {
            entry.failures += 1;
            if entry.blocked_at.is_none() && entry.failures >= max_attempts {
                entry.blocked_at = Some(now);
            }
        }
        entry.last_failure = now;
        Ok(FailureCount {
            failures: entry.failures,
            blocked_at: entry.blocked_at,
        })
    }

    async fn reserve_login_attempt(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<Option<u32>, StoreError> {
        let mut state = self.state();
        let key = key_of(key);
        let Some(entry) = state.attempts.get_mut(&key) else {
            state.attempts.insert(
                key,
                Attempts {
                    failures: 1,
                    last_failure: now,
                    blocked_at: None,
                },
            );
            return Ok(Some(1));
        };
        if entry.last_failure < lapsed_before {
            *entry = Attempts {
                failures: 1,
                last_failure: now,
                blocked_at: None,
            };
            return Ok(Some(1));
        }
        if entry.blocked_at.is_none() && entry.failures < max_attempts {
            entry.failures += 1;
            entry.last_failure = now;
            return Ok(Some(entry.failures));
        }
        Ok(None)
    }

    async fn block_login_key(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.attempts.get_mut(&key_of(key)) {
            Some(entry) if entry.blocked_at.is_none() && entry.failures >= max_attempts => {
                entry.blocked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn settle_login_success(&self, key: &AttemptKey, slot: u32) -> Result<(), StoreError> {
        let mut state = self.state();
        let key = key_of(key);
        match state.attempts.get_mut(&key) {
            Some(entry) if entry.blocked_at.is_none() && entry.failures <= slot => {
                state.attempts.remove(&key);
            }
            Some(entry) if entry.blocked_at.is_none() && entry.failures > 0 => {
                entry.failures -= 1;
            }
            _ => {}
        }
        Ok(())
    }

    async fn return_login_attempt(&self, key: &AttemptKey) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(entry) = state.attempts.get_mut(&key_of(key))
            && entry.blocked_at.is_none()
            && entry.failures > 0
        {
            entry.failures -= 1;
        }
        Ok(())
    }

    async fn login_attempts(
        &self,
        key: &AttemptKey,
        not_before: i64,
    ) -> Result<Option<FailureCount>, StoreError> {
        Ok(self
            .state()
            .attempts
            .get(&key_of(key))
            .filter(|a| a.last_failure >= not_before)
            .map(|a| FailureCount {
                failures: a.failures,
                blocked_at: a.blocked_at,
            }))
    }

    async fn clear_login_failures(&self, key: &AttemptKey) -> Result<(), StoreError> {
        self.state().attempts.remove(&key_of(key));
        Ok(())
    }

    async fn login_blocks(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
        not_before: i64,
    ) -> Result<Vec<AttemptKey>, StoreError> {
        Ok(self
            .state()
            .attempts
            .iter()
            .filter(|((c, i, _), a)| {
                identifiers.contains(i)
                    && connection.is_none_or(|wanted| wanted == c)
                    && a.blocked_at.is_some()
                    && a.last_failure >= not_before
            })
            .map(|((connection, identifier, ip), _)| AttemptKey {
                connection: connection.clone(),
                identifier: identifier.clone(),
                ip: ip.clone(),
            })
            .collect())
    }

    async fn unblock_identifiers(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.attempts.len();
        state.attempts.retain(|(c, i, _), _| {
            !(identifiers.contains(i) && connection.is_none_or(|wanted| wanted == c))
        });
        Ok((before - state.attempts.len()) as u64)
    }

    async fn take_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        now: i64,
        rate: i64,
        limit: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut state = self.state();
        let tat = state
            .throttle
            .entry((stage.to_owned(), ip.to_owned()))
            .or_insert(now);
        let next = (*tat).max(now) + rate;
        if next - now <= limit {
            *tat = next;
            Ok(Some(next))
        } else {
            Ok(None)
        }
    }

    async fn return_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        rate: i64,
    ) -> Result<(), StoreError> {
        if let Some(tat) = self
            .state()
            .throttle
            .get_mut(&(stage.to_owned(), ip.to_owned()))
        {
            *tat -= rate;
        }
        Ok(())
    }

    async fn throttle_state(&self, stage: &str, ip: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .state()
            .throttle
            .get(&(stage.to_owned(), ip.to_owned()))
            .copied())
    }

    async fn clear_throttle(&self, ip: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let before = state.throttle.len();
        state.throttle.retain(|(_, i), _| i != ip);
        Ok(state.throttle.len() < before)
    }
}
