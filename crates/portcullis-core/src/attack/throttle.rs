//! Suspicious IP throttling (Auth0's `attack_protection.suspicious_ip_throttling`): a token
//! bucket per IP and stage across all accounts — failed logins at `pre-login` (100 per day by
//! default: a token every 864,000 ms), every sign-up at `pre-user-registration` (50, a token
//! every 1,200 ms).
//!
//! The bucket is kept as one number, its "theoretical arrival time" (GCRA): an event is allowed
//! when `max(tat, now) + rate − now ≤ max_attempts × rate`, and then `tat` becomes
//! `max(tat, now) + rate`. The store applies that as one conditional `UPDATE`, so nodes sharing
//! the database admit exactly `max_attempts` events per window between them.

use crate::attack::brute_force::IpRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleStage {
    PreLogin,
    PreUserRegistration,
}

impl ThrottleStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreLogin => "pre-login",
            Self::PreUserRegistration => "pre-user-registration",
        }
    }
}

/// One stage's bucket: `max_attempts` tokens, one more every `rate_millis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub max_attempts: u32,
    pub rate_millis: i64,
}

impl Bucket {
    /// The horizon `tat − now` may not exceed.
    pub fn limit_millis(&self) -> i64 {
        i64::from(self.max_attempts) * self.rate_millis
    }

    /// Whether an event at `now` would be refused, given the stored `tat`.
    pub fn is_full(&self, tat: Option<i64>, now: i64) -> bool {
        let start = tat.map_or(now, |t| t.max(now));
        start + self.rate_millis - now > self.limit_millis()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub enabled: bool,
    pub block: bool,
    pub notify_admin: bool,
    pub allowlist: Vec<IpRange>,
    pub pre_login: Bucket,
    pub pre_user_registration: Bucket,
}

impl Default for ThrottlePolicy {
    /// Auth0's defaults for a new tenant.
    fn default() -> Self {
        Self {
            enabled: true,
            block: true,
            notify_admin: true,
            allowlist: Vec::new(),
            pre_login: Bucket {
                max_attempts: 100,
                rate_millis: 864_000,
            },
            pre_user_registration: Bucket {
                max_attempts: 50,
                rate_millis: 1_200,
            },
        }
    }
}

impl ThrottlePolicy {
    pub fn bucket(&self, stage: ThrottleStage) -> Bucket {
        match stage {
            ThrottleStage::PreLogin => self.pre_login,
            ThrottleStage::PreUserRegistration => self.pre_user_registration,
        }
    }

    /// Whether events from `ip` are counted (enabled, an address known, not allowlisted).
    pub fn applies_to(&self, ip: Option<&str>) -> bool {
        let Some(addr) = ip.and_then(|i| i.parse::<std::net::IpAddr>().ok()) else {
            return false;
        };
        self.enabled && !self.allowlist.iter().any(|r| r.contains(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_admits_max_attempts_then_refills_at_the_rate() {
        let bucket = Bucket {
            max_attempts: 3,
            rate_millis: 1_000,
        };
        let mut tat = None;
        let now = 10_000;
        for _ in 0..3 {
            assert!(!bucket.is_full(tat, now));
            tat = Some(tat.unwrap_or(now).max(now) + bucket.rate_millis);
        }
        assert!(bucket.is_full(tat, now));
        assert!(bucket.is_full(tat, now + 999));
        assert!(
            !bucket.is_full(tat, now + 1_000),
            "one token back after one rate period"
        );
        assert!(!bucket.is_full(tat, now + 1_000_000));
    }
}
