//! Brute-force counters and suspicious-IP buckets: exact under concurrency.

use crate::prelude::*;

pub(crate) async fn login_failures_block_exactly_at_the_limit(s: Arc<dyn Store>) {
    use portcullis_core::attack::brute_force::{AttemptKey, BLOCK_LIFETIME_MILLIS, lapsed_before};
    let key = AttemptKey {
        connection: "db".into(),
        identifier: "jane@example.com".into(),
        ip: "10.0.0.1".into(),
    };
    let mut tasks = Vec::new();
    for _ in 0..25 {
        let s = s.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            s.record_login_failure(&key, 1_000, 10, lapsed_before(1_000))
                .await
        }));
    }
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.expect("task").expect("count"));
    }
    let mut seen: Vec<u32> = counts.iter().map(|c| c.failures).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=25).collect::<Vec<_>>(),
        "every failure counted once"
    );
    for c in &counts {
        assert_eq!(c.blocked_at.is_some(), c.failures >= 10, "{c:?}");
    }
    assert_eq!(
        s.login_attempts(&key, 0)
            .await
            .expect("block")
            .and_then(|a| a.blocked_at),
        Some(1_000)
    );
    // Another IP of the same identifier is not blocked; the block is listed for the identifier.
    let other = AttemptKey {
        ip: "10.0.0.2".into(),
        ..key.clone()
    };
    assert_eq!(
        s.login_attempts(&other, 0)
            .await
            .expect("block")
            .and_then(|a| a.blocked_at),
        None
    );
    let blocks = s
        .login_blocks(None, &["jane@example.com".to_owned()], 0)
        .await
        .expect("blocks");
    assert_eq!(blocks, std::slice::from_ref(&key));
    assert_eq!(
        s.login_blocks(Some("other"), &["jane@example.com".to_owned()], 0)
            .await
            .expect("blocks"),
        []
    );
    // 30 days after the last failure the block has lapsed, and a new failure starts over.
    let later = 1_000 + BLOCK_LIFETIME_MILLIS + 1;
    assert_eq!(
        s.login_attempts(&key, later - BLOCK_LIFETIME_MILLIS)
            .await
            .expect("block")
            .and_then(|a| a.blocked_at),
        None
    );
    let fresh = s
        .record_login_failure(&key, later, 10, lapsed_before(later))
        .await
        .expect("count");
    assert_eq!((fresh.failures, fresh.blocked_at), (1, None));
    // Unblocking removes every count of the identifier.
    s.record_login_failure(&other, later, 1, lapsed_before(later))
        .await
        .expect("count");
    assert_eq!(
        s.unblock_identifiers(Some("db"), &["jane@example.com".to_owned()])
            .await
            .expect("unblock"),
        2
    );
    assert_eq!(
        s.login_attempts(&other, 0)
            .await
            .expect("block")
            .and_then(|a| a.blocked_at),
        None
    );
    // A success clears the count.
    s.record_login_failure(&key, later, 10, lapsed_before(later))
        .await
        .expect("count");
    s.clear_login_failures(&key).await.expect("clear");
    assert_eq!(
        s.record_login_failure(&key, later, 10, lapsed_before(later))
            .await
            .expect("count")
            .failures,
        1
    );
}

pub(crate) async fn login_attempts_are_reserved_before_the_work(s: Arc<dyn Store>) {
    use portcullis_core::attack::brute_force::AttemptKey;
    let key = AttemptKey {
        connection: "db".into(),
        identifier: "burst@example.com".into(),
        ip: "10.0.0.9".into(),
    };
    // 40 reservations at once against a limit of 10: exactly slots 1..=10 are handed out.
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let s = s.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            s.reserve_login_attempt(&key, 1_000, 10, 0).await
        }));
    }
    let mut slots = Vec::new();
    for t in tasks {
        if let Some(slot) = t.await.expect("task").expect("reserve") {
            slots.push(slot);
        }
    }
    slots.sort_unstable();
    assert_eq!(slots, (1..=10).collect::<Vec<_>>());
    // A slot given back is taken again; blocking happens once, at the limit.
    s.return_login_attempt(&key).await.expect("give back");
    assert_eq!(
        s.reserve_login_attempt(&key, 1_001, 10, 0)
            .await
            .expect("reserve"),
        Some(10)
    );
    assert!(s.block_login_key(&key, 1_002, 10).await.expect("block"));
    assert!(!s.block_login_key(&key, 1_003, 10).await.expect("block"));
    s.return_login_attempt(&key)
        .await
        .expect("no effect once blocked");
    assert_eq!(
        s.reserve_login_attempt(&key, 1_004, 10, 0)
            .await
            .expect("reserve"),
        None
    );
    let attempts = s.login_attempts(&key, 0).await.expect("read").expect("row");
    assert_eq!((attempts.failures, attempts.blocked_at), (10, Some(1_002)));
    // A count that lapsed starts over, block and all.
    assert_eq!(
        s.reserve_login_attempt(&key, 90_000, 10, 50_000)
            .await
            .expect("reserve"),
        Some(1)
    );
    assert_eq!(
        s.login_attempts(&key, 0)
            .await
            .expect("read")
            .and_then(|a| a.blocked_at),
        None
    );
    // A success resets the count when nothing was reserved after it, else gives back its own.
    s.settle_login_success(&key, 1).await.expect("settle");
    assert_eq!(s.login_attempts(&key, 0).await.expect("read"), None);
    for _ in 0..3 {
        s.reserve_login_attempt(&key, 90_002, 10, 0)
            .await
            .expect("reserve");
    }
    s.settle_login_success(&key, 2).await.expect("settle");
    assert_eq!(
        s.login_attempts(&key, 0)
            .await
            .expect("read")
            .map(|a| a.failures),
        Some(2)
    );
    // Below the limit, nothing blocks.
    assert!(!s.block_login_key(&key, 90_001, 10).await.expect("block"));
}

pub(crate) async fn throttle_buckets_admit_exactly_max_attempts(s: Arc<dyn Store>) {
    // 5 tokens, one more per second; 20 concurrent events at one instant: exactly 5 admitted.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.take_throttle_token("pre-login", "10.0.0.1", 1_000, 1_000, 5_000)
                .await
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        if let Some(tat) = t.await.expect("task").expect("take") {
            admitted += 1;
            assert!((2_000..=6_000).contains(&tat), "{tat}");
        }
    }
    assert_eq!(admitted, 5);
    assert_eq!(
        s.throttle_state("pre-login", "10.0.0.1")
            .await
            .expect("state"),
        Some(6_000)
    );
    assert_eq!(
        s.take_throttle_token("pre-login", "10.0.0.1", 1_999, 1_000, 5_000)
            .await
            .expect("take"),
        None
    );
    assert_eq!(
        s.take_throttle_token("pre-login", "10.0.0.1", 2_000, 1_000, 5_000)
            .await
            .expect("take"),
        Some(7_000),
        "refilled"
    );
    // A token given back admits one more event at once.
    s.return_throttle_token("pre-login", "10.0.0.1", 1_000)
        .await
        .expect("give back");
    assert_eq!(
        s.take_throttle_token("pre-login", "10.0.0.1", 2_000, 1_000, 5_000)
            .await
            .expect("take"),
        Some(7_000)
    );
    // Stages and IPs are separate buckets; clearing an IP empties all of its buckets.
    assert!(
        s.take_throttle_token("pre-user-registration", "10.0.0.1", 1_000, 1_000, 5_000)
            .await
            .expect("take")
            .is_some()
    );
    assert!(
        s.take_throttle_token("pre-login", "10.0.0.2", 1_000, 1_000, 5_000)
            .await
            .expect("take")
            .is_some()
    );
    assert!(s.clear_throttle("10.0.0.1").await.expect("clear"));
    assert_eq!(
        s.throttle_state("pre-login", "10.0.0.1")
            .await
            .expect("state"),
        None
    );
    assert!(!s.clear_throttle("10.0.0.1").await.expect("clear"));
}
