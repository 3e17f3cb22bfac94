//! Brute-force protection (Auth0's `attack_protection.brute_force_protection`).
//!
//! ```text
//!            failure (n < max)                      failure (n = max): limit_wc, mail
//!   ┌─────┐ ───────────────────▶ ┌────────────┐ ──────────────────────────────▶ ┌─────────┐
//!   │clean│                       │ n failures │                                 │ blocked │
//!   └─────┘ ◀─────────────────── └────────────┘                                 └─────────┘
//!      ▲        success: reset                                                       │
//!      └──────── unblock link, password reset, DELETE /user-blocks, 30 days idle ────┘
//! ```
//!
//! Failures are counted per identifier (the e-mail or username typed, lower-cased, whether or
//! not such a user exists, so a block says nothing about who exists) and, in the default
//! `count_per_identifier_and_ip` mode, per client IP as well. The count lives in the database
//! and is incremented atomically, so nodes sharing it block at exactly the N-th failure.

use std::net::IpAddr;

/// Auth0's default and bounds for `max_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
pub const MAX_MAX_ATTEMPTS: u32 = 100;
/// A block lapses 30 days after the last failed attempt (Auth0 "Brute-Force Protection").
pub const BLOCK_LIFETIME_MILLIS: i64 = 30 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountingMode {
    PerIdentifierAndIp,
    PerIdentifier,
}

/// An allowlist entry: an address or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.trim(), Some(p.trim().parse::<u8>().ok()?)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => (u128::from(u32::from(v4)), 32),
                    None => (u128::from(v6), 128),
                },
            }
        };
        let (net, width) = bits(self.network);
        let (candidate, candidate_width) = bits(ip);
        if width != candidate_width {
            return false;
        }
        let shift = u32::from(width - self.prefix);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        let mask = if width == 32 {
            mask & u128::from(u32::MAX)
        } else {
            mask
        };
        net & mask == candidate & mask
    }
}

/// The validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BruteForcePolicy {
    pub enabled: bool,
    pub block: bool,
    pub notify_user: bool,
    pub max_attempts: u32,
    pub mode: CountingMode,
    pub allowlist: Vec<IpRange>,
}

impl Default for BruteForcePolicy {
    /// Auth0's defaults for a new tenant.
    fn default() -> Self {
        Self {
            enabled: true,
            block: true,
            notify_user: true,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            mode: CountingMode::PerIdentifierAndIp,
            allowlist: Vec::new(),
        }
    }
}

/// Where failures are counted: one row per key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptKey {
    pub connection: String,
    /// Lower-cased e-mail or username as typed.
    pub identifier: String,
    /// Empty in `count_per_identifier` mode.
    pub ip: String,
}

impl BruteForcePolicy {
    /// The key to count under, or `None` when this attempt is not counted (protection off,
    /// or the IP allowlisted).
    pub fn key(&self, connection: &str, identifier: &str, ip: Option<&str>) -> Option<AttemptKey> {
        if !self.enabled {
            return None;
        }
        let parsed = ip.and_then(|i| i.parse::<IpAddr>().ok());
        if let Some(addr) = parsed
            && self.allowlist.iter().any(|r| r.contains(addr))
        {
            return None;
        }
        Some(AttemptKey {
            connection: connection.to_owned(),
            identifier: identifier.trim().to_lowercase(),
            ip: match self.mode {
                CountingMode::PerIdentifierAndIp => {
                    ip.map(super::counting_address).unwrap_or_default()
                }
                CountingMode::PerIdentifier => String::new(),
            },
        })
    }
}

/// The time before which a count has lapsed, at `now`: a key idle that long starts over
/// (and an old block is gone). The one place the 30 days are applied; the store is given
/// the result.
pub fn lapsed_before(now: i64) -> i64 {
    now - BLOCK_LIFETIME_MILLIS
}

/// What to do before an attempt's password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeforeAttempt {
    /// Reserve one of the key's attempts (refused when none is left, or the key is blocked),
    /// counting the reservation as a failure until it settles.
    Reserve {
        max_attempts: u32,
        lapsed_before: i64,
    },
    /// Refuse nothing; a failure is counted after the check (no `block` shield).
    CountAfterwards,
}

/// What an attempt leaves in the counters, once its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    /// A right password: the reservation `slot` settles — the count is forgotten if nothing
    /// came after it, else the one attempt is given back.
    Settle { slot: u32 },
    /// A right password without a reservation: the count is forgotten.
    Clear,
    /// A wrong password that took the key's last attempt: block the key (`limit_wc`).
    Block,
    /// A wrong password already counted by its reservation.
    Counted,
    /// A wrong password to count now (no `block` shield).
    CountFailure,
}

impl BruteForcePolicy {
    /// Before the hash, at `now`.
    pub fn before_attempt(&self, now: i64) -> BeforeAttempt {
        if self.block {
            BeforeAttempt::Reserve {
                max_attempts: self.max_attempts,
                lapsed_before: lapsed_before(now),
            }
        } else {
            BeforeAttempt::CountAfterwards
        }
    }

    /// After the hash: `reserved` is the slot [`BeforeAttempt::Reserve`] obtained (its place
    /// among the key's attempts, 1-based), `right` whether the password was right.
    pub fn after_attempt(&self, reserved: Option<u32>, right: bool) -> AfterAttempt {
        match (reserved, right) {
            (Some(slot), true) => AfterAttempt::Settle { slot },
            (None, true) => AfterAttempt::Clear,
            (Some(slot), false) if slot >= self.max_attempts => AfterAttempt::Block,
            (Some(_), false) => AfterAttempt::Counted,
            (None, false) => AfterAttempt::CountFailure,
        }
    }

    /// Whether a failure count reached by counting afterwards is the one that blocks.
    pub fn blocks_at(&self, failures: u32) -> bool {
        failures == self.max_attempts
    }
}

/// What the store returns after counting a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: u32,
    /// When the key was blocked, if it is.
    pub blocked_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60 * 60 * 1000;

    #[test]
    fn the_last_attempt_blocks_and_a_right_password_settles() {
        let policy = BruteForcePolicy {
            max_attempts: 3,
            ..BruteForcePolicy::default()
        };
        assert_eq!(
            policy.before_attempt(100 * DAY),
            BeforeAttempt::Reserve {
                max_attempts: 3,
                lapsed_before: 70 * DAY
            }
        );
        assert_eq!(policy.after_attempt(Some(1), false), AfterAttempt::Counted);
        assert_eq!(policy.after_attempt(Some(2), false), AfterAttempt::Counted);
        assert_eq!(policy.after_attempt(Some(3), false), AfterAttempt::Block);
        assert_eq!(
            policy.after_attempt(Some(3), true),
            AfterAttempt::Settle { slot: 3 }
        );
    }

    #[test]
    fn without_the_block_shield_nothing_is_reserved_and_failures_count_afterwards() {
        let policy = BruteForcePolicy {
            block: false,
            max_attempts: 2,
            ..BruteForcePolicy::default()
        };
        assert_eq!(policy.before_attempt(0), BeforeAttempt::CountAfterwards);
        assert_eq!(
            policy.after_attempt(None, false),
            AfterAttempt::CountFailure
        );
        assert_eq!(policy.after_attempt(None, true), AfterAttempt::Clear);
        assert!(!policy.blocks_at(1));
        assert!(policy.blocks_at(2));
        assert!(!policy.blocks_at(3), "a block is announced once");
    }

    #[test]
    fn a_count_lapses_thirty_days_after_its_last_failure() {
        let now = 1_000 * DAY;
        assert_eq!(lapsed_before(now), now - 30 * DAY);
        assert_eq!(BLOCK_LIFETIME_MILLIS, 30 * DAY);
    }

    #[test]
    fn ip_ranges() {
        let r = IpRange::parse("10.1.0.0/16").expect("range");
        assert!(r.contains("10.1.200.3".parse().expect("ip")));
        assert!(!r.contains("10.2.0.1".parse().expect("ip")));
        assert!(r.contains("::ffff:10.1.0.9".parse().expect("ip")));
        let one = IpRange::parse("192.168.1.5").expect("single");
        assert!(one.contains("192.168.1.5".parse().expect("ip")));
        assert!(!one.contains("192.168.1.6".parse().expect("ip")));
        let v6 = IpRange::parse("2001:db8::/32").expect("v6");
        assert!(v6.contains("2001:db8:1::1".parse().expect("ip")));
        assert!(!v6.contains("2001:db9::1".parse().expect("ip")));
        assert!(IpRange::parse("10.0.0.0/33").is_none());
        assert!(IpRange::parse("nope").is_none());
        assert!(
            IpRange::parse("0.0.0.0/0")
                .expect("all")
                .contains("8.8.8.8".parse().expect("ip"))
        );
    }

    #[test]
    fn keys_follow_mode_and_allowlist() {
        let mut policy = BruteForcePolicy {
            allowlist: vec![IpRange::parse("10.0.0.0/8").expect("range")],
            ..BruteForcePolicy::default()
        };
        assert_eq!(
            policy.key("db", " Jane@Example.com ", Some("1.2.3.4")),
            Some(AttemptKey {
                connection: "db".into(),
                identifier: "jane@example.com".into(),
                ip: "1.2.3.4".into()
            })
        );
        assert_eq!(policy.key("db", "jane", Some("10.9.9.9")), None);
        policy.mode = CountingMode::PerIdentifier;
        assert_eq!(
            policy.key("db", "jane", Some("1.2.3.4")).map(|k| k.ip),
            Some(String::new())
        );
        policy.enabled = false;
        assert_eq!(policy.key("db", "jane", Some("1.2.3.4")), None);
    }
}
