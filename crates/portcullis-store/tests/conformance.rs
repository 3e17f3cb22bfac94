//! One contract, run on both backends: every case is a named test on SQLite (a temp file) and
//! on PostgreSQL (a fresh schema on 127.0.0.1:5432). PostgreSQL being absent fails the run.

use std::sync::Arc;

use portcullis_core::store::{
    RetiredPassword, SigningKeyRecord, Store, StoreError, UniqueField, UserQuery,
};
use portcullis_core::user::UserRecord;
use portcullis_store::{PgStore, SqliteStore};
use serde_json::json;

pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn unique_suffix() -> String {
    use rand::RngExt;
    format!("{:016x}", rand::rng().random::<u64>())
}

async fn sqlite() -> Arc<dyn Store> {
    let dir = std::env::temp_dir().join(format!("portcullis-conformance-{}", unique_suffix()));
    Arc::new(SqliteStore::open(&dir).await.expect("sqlite store"))
}

async fn postgres() -> Arc<dyn Store> {
    let url = std::env::var("PORTCULLIS_TEST_DATABASE_URL").unwrap_or_else(|_| PG_URL.to_owned());
    let schema = format!("conformance_{}", unique_suffix());
    Arc::new(
        PgStore::connect(&url, Some(&schema))
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (user postgres, database test) is required"),
    )
}

fn user(id: &str, connection: &str, email: &str, username: Option<&str>) -> UserRecord {
    UserRecord {
        id: id.to_owned(),
        connection: connection.to_owned(),
        email: email.to_owned(),
        email_verified: false,
        username: username.map(str::to_owned),
        password_hash: "$argon2id$dummy".to_owned(),
        given_name: None,
        family_name: Some("Doe".to_owned()),
        name: email.to_owned(),
        nickname: "jane".to_owned(),
        picture: "https://example.com/p.png".to_owned(),
        user_metadata: json!({"color": "blue"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        app_metadata: Default::default(),
        blocked: None,
        created_at: 1_000,
        updated_at: 1_000,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        last_password_reset: None,
        version: 1,
    }
}

async fn round_trips_a_user(s: Arc<dyn Store>) {
    let u = user(
        "aaaaaaaaaaaaaaaaaaaaaaa1",
        "db",
        "jane@example.com",
        Some("jane"),
    );
    s.insert_user(&u).await.expect("insert");
    assert_eq!(s.user_by_id(&u.id).await.expect("get"), Some(u.clone()));
    assert_eq!(
        s.user_by_email("db", "jane@example.com")
            .await
            .expect("get"),
        Some(u.clone())
    );
    assert_eq!(
        s.user_by_username("db", "jane").await.expect("get"),
        Some(u.clone())
    );
    assert_eq!(
        s.user_by_email("other", "jane@example.com")
            .await
            .expect("get"),
        None
    );
    assert_eq!(s.user_by_id("nope").await.expect("get"), None);
    assert!(
        s.user_exists("db", "jane@example.com")
            .await
            .expect("exists")
    );
    assert!(
        !s.user_exists("other", "jane@example.com")
            .await
            .expect("exists")
    );
    assert!(
        !s.user_exists("db", "john@example.com")
            .await
            .expect("exists")
    );
}

async fn users_are_inserted_in_batches_all_or_none(s: Arc<dyn Store>) {
    let batch: Vec<UserRecord> = (0..50)
        .map(|i| {
            user(
                &format!("bbbbbbbbbbbbbbbbbbbbbb{i:02}"),
                "db",
                &format!("seed{i}@example.com"),
                None,
            )
        })
        .collect();
    s.insert_users(&batch).await.expect("batch");
    assert!(
        s.user_exists("db", "seed49@example.com")
            .await
            .expect("exists")
    );
    // A batch with one taken e-mail stores none of its users.
    let clash = vec![
        user("cccccccccccccccccccccc01", "db", "fresh@example.com", None),
        user("cccccccccccccccccccccc02", "db", "seed7@example.com", None),
    ];
    assert!(matches!(
        s.insert_users(&clash).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        !s.user_exists("db", "fresh@example.com")
            .await
            .expect("exists")
    );
}

async fn email_is_unique_per_connection(s: Arc<dyn Store>) {
    s.insert_user(&user(
        "aaaaaaaaaaaaaaaaaaaaaaa1",
        "db",
        "a@example.com",
        None,
    ))
    .await
    .expect("first");
    let again = s
        .insert_user(&user(
            "aaaaaaaaaaaaaaaaaaaaaaa2",
            "db",
            "a@example.com",
            None,
        ))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(UniqueField::Email))),
        "{again:?}"
    );
    s.insert_user(&user(
        "aaaaaaaaaaaaaaaaaaaaaaa3",
        "other",
        "a@example.com",
        None,
    ))
    .await
    .expect("other connection");
}

async fn username_is_unique_per_connection(s: Arc<dyn Store>) {
    s.insert_user(&user(
        "aaaaaaaaaaaaaaaaaaaaaaa1",
        "db",
        "a@example.com",
        Some("jo"),
    ))
    .await
    .expect("first");
    let again = s
        .insert_user(&user(
            "aaaaaaaaaaaaaaaaaaaaaaa2",
            "db",
            "b@example.com",
            Some("jo"),
        ))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(UniqueField::Username))),
        "{again:?}"
    );
    // Users without usernames never collide with each other.
    s.insert_user(&user(
        "aaaaaaaaaaaaaaaaaaaaaaa3",
        "db",
        "c@example.com",
        None,
    ))
    .await
    .expect("no username");
    s.insert_user(&user(
        "aaaaaaaaaaaaaaaaaaaaaaa4",
        "db",
        "d@example.com",
        None,
    ))
    .await
    .expect("no username");
}

async fn concurrent_inserts_of_one_email_make_one_user(s: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_user(&user(
                &format!("bbbbbbbbbbbbbbbbbbbbbb{i:02}"),
                "db",
                "race@example.com",
                None,
            ))
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict(UniqueField::Email)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    let (users, total) = s
        .list_users(&UserQuery {
            email: Some("race@example.com".into()),
            limit: 10,
            with_total: true,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!((users.len(), total), (1, Some(1)));
}

async fn replace_checks_the_version(s: Arc<dyn Store>) {
    let u = user("aaaaaaaaaaaaaaaaaaaaaaa1", "db", "a@example.com", None);
    s.insert_user(&u).await.expect("insert");
    let mut next = u.clone();
    next.blocked = Some(true);
    next.version = 2;
    assert!(s.replace_user(&next, 1, None, None).await.expect("replace"));
    assert!(
        !s.replace_user(&next, 1, None, None)
            .await
            .expect("stale replace")
    );
    let stored = s.user_by_id(&u.id).await.expect("get").expect("exists");
    assert_eq!((stored.blocked, stored.version), (Some(true), 2));
    // A replace that takes another user's e-mail is a conflict.
    s.insert_user(&user(
        "aaaaaaaaaaaaaaaaaaaaaaa2",
        "db",
        "b@example.com",
        None,
    ))
    .await
    .expect("insert");
    let mut clash = stored.clone();
    clash.email = "b@example.com".into();
    let r = s.replace_user(&clash, 2, None, None).await;
    assert!(
        matches!(r, Err(StoreError::Conflict(UniqueField::Email))),
        "{r:?}"
    );
}

async fn password_history_is_kept_pruned_and_deleted_with_the_user(s: Arc<dyn Store>) {
    let mut u = user("aaaaaaaaaaaaaaaaaaaaaaa1", "db", "a@example.com", None);
    s.insert_user(&u).await.expect("insert");
    for i in 0..5 {
        let previous = u.password_hash.clone();
        u.password_hash = format!("hash-{i}");
        let retired = RetiredPassword {
            hash: previous,
            retired_at: i,
            keep: 3,
        };
        assert!(
            s.replace_user(&u, u.version, Some(&retired), None)
                .await
                .expect("replace")
        );
        u.version += 1;
    }
    assert_eq!(
        s.password_history(&u.id, 24).await.expect("history"),
        ["hash-3", "hash-2", "hash-1"]
    );
    assert_eq!(
        s.password_history(&u.id, 2).await.expect("history"),
        ["hash-3", "hash-2"]
    );
    // A stale replace writes no history either.
    let retired = RetiredPassword {
        hash: "never".into(),
        retired_at: 9,
        keep: 3,
    };
    assert!(
        !s.replace_user(&u, 1, Some(&retired), None)
            .await
            .expect("stale")
    );
    assert_eq!(
        s.password_history(&u.id, 24).await.expect("history").len(),
        3
    );
    assert!(s.delete_user(&u.id).await.expect("delete"));
    assert!(
        s.password_history(&u.id, 24)
            .await
            .expect("history")
            .is_empty()
    );
}

async fn logs_are_listed_filtered_and_paged(s: Arc<dyn Store>) {
    use portcullis_core::logs::{LogEvent, LogQuery, LogType};
    let mut ids = Vec::new();
    for (i, kind) in [
        LogType::SuccessSignup,
        LogType::FailedLoginIncorrectPassword,
        LogType::SuccessSignup,
    ]
    .into_iter()
    .enumerate()
    {
        let event = LogEvent::new(kind, 1_000 + i as i64)
            .user_name("a@example.com")
            .detail("error", "x")
            .description("d");
        let mut event = event;
        event.user_id = Some(format!("auth0|{i}"));
        s.append_log(&event).await.expect("append");
        ids.push(event.log_id.clone());
        assert_eq!(s.log_by_id(&event.log_id).await.expect("get"), Some(event));
    }
    let all = LogQuery {
        limit: 10,
        newest_first: true,
        ..Default::default()
    };
    let (events, total) = s.list_logs(&all).await.expect("list");
    assert_eq!(total, 3);
    assert_eq!(
        events.iter().map(|e| e.log_id.clone()).collect::<Vec<_>>(),
        [ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    let signups = LogQuery {
        log_type: Some("ss".into()),
        limit: 10,
        newest_first: true,
        ..Default::default()
    };
    assert_eq!(s.list_logs(&signups).await.expect("list").1, 2);
    let after_first = LogQuery {
        from: Some(ids[0].clone()),
        limit: 10,
        newest_first: true,
        ..Default::default()
    };
    let (events, _) = s.list_logs(&after_first).await.expect("list");
    assert_eq!(
        events.iter().map(|e| e.log_id.clone()).collect::<Vec<_>>(),
        [ids[1].clone(), ids[2].clone()]
    );
    assert_eq!(s.log_by_id("nope").await.expect("get"), None);
    // Retention: events before a date go, the rest stay.
    assert_eq!(s.prune_logs(1_001).await.expect("prune"), 1);
    assert_eq!(s.list_logs(&all).await.expect("list").1, 2);
}

async fn login_failures_block_exactly_at_the_limit(s: Arc<dyn Store>) {
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

async fn login_attempts_are_reserved_before_the_work(s: Arc<dyn Store>) {
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

async fn tickets_are_single_use_and_expire(s: Arc<dyn Store>) {
    use portcullis_core::tickets::TicketRecord;
    let ticket = |id: &str, expires_at| TicketRecord {
        id_hash: id.to_owned(),
        kind: "unblock".into(),
        user_id: "auth0|1".into(),
        payload: json!({"identifiers": ["a@example.com"]})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        created_at: 1,
        expires_at,
    };
    s.insert_ticket(&ticket("t1", 100)).await.expect("insert");
    s.insert_ticket(&ticket("t2", 100)).await.expect("insert");
    assert_eq!(
        s.consume_ticket("t1", "reset", 50).await.expect("consume"),
        None,
        "wrong kind"
    );
    assert_eq!(
        s.consume_ticket("t1", "unblock", 50)
            .await
            .expect("consume"),
        Some(ticket("t1", 100))
    );
    assert_eq!(
        s.consume_ticket("t1", "unblock", 50)
            .await
            .expect("consume"),
        None,
        "used"
    );
    assert_eq!(
        s.consume_ticket("t2", "unblock", 100)
            .await
            .expect("consume"),
        None,
        "expired"
    );
    assert_eq!(
        s.consume_ticket("nope", "unblock", 50)
            .await
            .expect("consume"),
        None
    );
    // Concurrent redemptions: exactly one wins.
    s.insert_ticket(&ticket("t3", 100)).await.expect("insert");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.consume_ticket("t3", "unblock", 50).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.expect("task").expect("consume").is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

async fn throttle_buckets_admit_exactly_max_attempts(s: Arc<dyn Store>) {
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

async fn mfa_tokens_and_authenticators(s: Arc<dyn Store>) {
    use portcullis_core::mfa::{
        AuthenticatorKind, AuthenticatorRecord, MfaTokenRecord, PendingLogin,
    };
    s.insert_user(&user(
        "aaaaaaaaaaaaaaaaaaaaaaa1",
        "db",
        "a@example.com",
        None,
    ))
    .await
    .expect("user");
    let token = MfaTokenRecord {
        token_hash: "h1".into(),
        user_id: "auth0|aaaaaaaaaaaaaaaaaaaaaaa1".into(),
        client_id: "c".into(),
        request: PendingLogin {
            scope: Some("openid".into()),
            audience: None,
            nonce: None,
            claims: portcullis_core::flows::extensibility::CustomClaims {
                id_token: serde_json::Map::from_iter([(
                    "https://example.com/plan".to_owned(),
                    "pro".into(),
                )]),
                access_token: serde_json::Map::new(),
            },
        },
        created_at: 1,
        expires_at: 100,
    };
    s.insert_mfa_token(&token).await.expect("insert");
    assert_eq!(s.mfa_token("h1").await.expect("get"), Some(token.clone()));
    assert!(
        !s.consume_mfa_token("h1", 100).await.expect("consume"),
        "expired"
    );
    assert!(s.consume_mfa_token("h1", 50).await.expect("consume"));
    assert!(
        !s.consume_mfa_token("h1", 50).await.expect("consume"),
        "single use"
    );
    assert_eq!(s.mfa_token("h1").await.expect("get"), None);

    let otp = AuthenticatorRecord {
        id: "totp|dev_1".into(),
        user_id: "aaaaaaaaaaaaaaaaaaaaaaa1".into(),
        kind: AuthenticatorKind::Otp,
        secret: Some("SECRET".into()),
        code_hash: None,
        confirmed: false,
        created_at: 1,
        last_step: None,
    };
    let recovery = AuthenticatorRecord {
        id: "recovery-code|dev_2".into(),
        kind: AuthenticatorKind::RecoveryCode,
        secret: None,
        code_hash: Some("code-1".into()),
        confirmed: true,
        created_at: 2,
        ..otp.clone()
    };
    s.insert_authenticator(&otp).await.expect("otp");
    s.insert_authenticator(&recovery).await.expect("recovery");
    assert_eq!(
        s.authenticators(&otp.user_id).await.expect("list"),
        [otp.clone(), recovery.clone()]
    );
    // A step is accepted once, and never an older one.
    assert!(s.accept_otp_step(&otp.id, 10).await.expect("accept"));
    assert!(!s.accept_otp_step(&otp.id, 10).await.expect("replay"));
    assert!(!s.accept_otp_step(&otp.id, 9).await.expect("older"));
    let listed = s.authenticators(&otp.user_id).await.expect("list");
    assert!(listed[0].confirmed && listed[0].last_step == Some(10));
    // A recovery code rotates once.
    assert!(
        s.rotate_recovery_code(&otp.user_id, "code-1", "code-2")
            .await
            .expect("rotate")
    );
    assert!(
        !s.rotate_recovery_code(&otp.user_id, "code-1", "code-3")
            .await
            .expect("used")
    );
    // Pending enrollments are replaced; deletion by id or all.
    s.delete_pending_authenticators(&otp.user_id, "otp")
        .await
        .expect("pending");
    assert_eq!(
        s.authenticators(&otp.user_id).await.expect("list").len(),
        2,
        "the confirmed one stays"
    );
    assert_eq!(
        s.delete_authenticators(&otp.user_id, Some("totp|dev_1"))
            .await
            .expect("delete"),
        1
    );
    assert_eq!(
        s.delete_authenticators(&otp.user_id, None)
            .await
            .expect("delete"),
        1
    );
}

async fn settings_are_upserted(s: Arc<dyn Store>) {
    assert_eq!(s.setting("guardian").await.expect("get"), None);
    s.put_setting("guardian", "{\"a\":1}").await.expect("put");
    s.put_setting("guardian", "{\"a\":2}")
        .await
        .expect("put again");
    assert_eq!(
        s.setting("guardian").await.expect("get").as_deref(),
        Some("{\"a\":2}")
    );
}

async fn refresh_tokens_rotate_once_and_families_revoke(s: Arc<dyn Store>) {
    use portcullis_core::refresh::{RefreshHistory, RefreshTokenRecord};
    let token = |hash: &str, expires_at: Option<i64>| RefreshTokenRecord {
        token_hash: hash.to_owned(),
        family_id: "fam".to_owned(),
        user_id: "auth0|1".to_owned(),
        client_id: "c".to_owned(),
        scope: "openid offline_access".to_owned(),
        audience: None,
        created_at: 1,
        expires_at,
        idle_expires_at: None,
    };
    let history = |rotated, revoked| RefreshHistory {
        family_id: "fam".into(),
        user_id: "auth0|1".into(),
        rotated,
        revoked,
    };
    s.insert_refresh_token(&token("r1", Some(1_000)))
        .await
        .expect("insert");
    assert_eq!(
        s.usable_refresh_token("r1", 10).await.expect("use"),
        Some(token("r1", Some(1_000)))
    );
    assert_eq!(
        s.usable_refresh_token("r1", 1_000).await.expect("use"),
        None,
        "expired"
    );
    assert_eq!(
        s.rotate_refresh_token("r1", 10, &token("r2", None))
            .await
            .expect("rotate"),
        Some(token("r1", Some(1_000)))
    );
    assert!(
        s.usable_refresh_token("r2", 20)
            .await
            .expect("use")
            .is_some()
    );
    // The rotated token cannot rotate again, and its history says it was rotated.
    assert_eq!(
        s.rotate_refresh_token("r1", 30, &token("r3", None))
            .await
            .expect("again"),
        None
    );
    assert_eq!(
        s.usable_refresh_token("r3", 30).await.expect("use"),
        None,
        "a refused rotation inserts nothing"
    );
    assert_eq!(
        s.refresh_history("r1").await.expect("history"),
        Some(history(true, false))
    );
    // Revoking the family ends every live token of it.
    assert_eq!(s.revoke_family("fam", 30).await.expect("revoke"), 2);
    assert_eq!(s.usable_refresh_token("r2", 40).await.expect("use"), None);
    assert_eq!(
        s.refresh_history("r1").await.expect("history"),
        Some(history(true, true))
    );
    assert_eq!(s.refresh_history("nope").await.expect("history"), None);
    // Two rotations of one token at once: exactly one succeeds.
    let fresh = RefreshTokenRecord {
        family_id: "fam2".into(),
        ..token("x1", None)
    };
    s.insert_refresh_token(&fresh).await.expect("insert");
    let mut tasks = Vec::new();
    for i in 0..2 {
        let s = s.clone();
        let next = RefreshTokenRecord {
            family_id: "fam2".into(),
            ..token(&format!("x2-{i}"), None)
        };
        tasks.push(tokio::spawn(async move {
            s.rotate_refresh_token("x1", 50, &next).await
        }));
    }
    let mut rotated = 0;
    for t in tasks {
        if t.await.expect("task").expect("rotate").is_some() {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1);
    // Revocation by the owning client only.
    let other = RefreshTokenRecord {
        family_id: "fam3".into(),
        ..token("y1", None)
    };
    s.insert_refresh_token(&other).await.expect("insert");
    assert!(
        !s.revoke_refresh_family("y1", "someone-else", 60)
            .await
            .expect("revoke")
    );
    assert!(
        s.revoke_refresh_family("y1", "c", 60)
            .await
            .expect("revoke")
    );
    assert_eq!(s.usable_refresh_token("y1", 70).await.expect("use"), None);
}

async fn logins_are_counted_atomically(s: Arc<dyn Store>) {
    let u = user("aaaaaaaaaaaaaaaaaaaaaaa1", "db", "a@example.com", None);
    s.insert_user(&u).await.expect("insert");
    let mut tasks = Vec::new();
    for i in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let event = portcullis_core::logs::LogEvent::new(
                portcullis_core::logs::LogType::SuccessExchangePassword,
                5_000 + i,
            );
            s.record_login(
                "aaaaaaaaaaaaaaaaaaaaaaa1",
                5_000 + i,
                Some("10.0.0.1"),
                &event,
            )
            .await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("record");
    }
    let stored = s.user_by_id(&u.id).await.expect("get").expect("exists");
    assert_eq!(stored.logins_count, 10);
    let logged = portcullis_core::logs::LogQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        s.list_logs(&logged).await.expect("logs").1,
        10,
        "each login's event in its transaction"
    );

    assert_eq!(stored.last_ip.as_deref(), Some("10.0.0.1"));
    assert!(stored.last_login.is_some());
}

async fn lists_pages_and_deletes(s: Arc<dyn Store>) {
    for i in 0..5 {
        let mut u = user(
            &format!("cccccccccccccccccccccc{i:02}"),
            "db",
            &format!("u{i}@example.com"),
            None,
        );
        u.created_at = 1_000 + i;
        s.insert_user(&u).await.expect("insert");
    }
    let (page, total) = s
        .list_users(&UserQuery {
            offset: 2,
            limit: 2,
            with_total: true,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(total, Some(5));
    assert_eq!(
        page.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["u2@example.com", "u3@example.com"]
    );
    assert!(
        s.delete_user("cccccccccccccccccccccc02")
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_user("cccccccccccccccccccccc02")
            .await
            .expect("delete twice")
    );
    assert_eq!(
        s.list_users(&UserQuery {
            limit: 10,
            with_total: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .1,
        Some(4)
    );
    // Without `with_total`, no count is made.
    assert_eq!(
        s.list_users(&UserQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list")
        .1,
        None
    );
}

async fn signing_key_generations_are_unique(s: Arc<dyn Store>) {
    let key = |kid: &str, generation| SigningKeyRecord {
        kid: kid.to_owned(),
        generation,
        private_key_pem: "pem".to_owned(),
        created_at: 1,
    };
    s.insert_signing_key(&key("k1", 1)).await.expect("first");
    assert!(matches!(
        s.insert_signing_key(&key("k2", 1)).await,
        Err(StoreError::Conflict(_))
    ));
    s.insert_signing_key(&key("k2", 2)).await.expect("second");
    let keys = s.signing_keys().await.expect("keys");
    assert_eq!(
        keys.iter().map(|k| k.generation).collect::<Vec<_>>(),
        [2, 1]
    );
}

async fn auth_codes_work_once_and_sessions_end(s: Arc<dyn Store>) {
    use portcullis_core::codes_and_sessions::{AuthCodeRecord, CodeGrant, SessionRecord};
    let suffix = unique_suffix();
    let code = AuthCodeRecord {
        code_hash: format!("code-{suffix}"),
        client_id: "app".to_owned(),
        user_id: "auth0|u1".to_owned(),
        grant: CodeGrant {
            redirect_uri: "https://app.example/cb".to_owned(),
            scope: Some("openid".to_owned()),
            code_challenge: Some("challenge".to_owned()),
            code_challenge_method: Some("S256".to_owned()),
            ..CodeGrant::default()
        },
        created_at: 0,
        expires_at: 1_000,
    };
    s.insert_auth_code(&code).await.expect("insert code");
    assert_eq!(
        s.consume_auth_code(&code.code_hash, 10)
            .await
            .expect("consume"),
        Some(code.clone())
    );
    assert_eq!(
        s.consume_auth_code(&code.code_hash, 10)
            .await
            .expect("consume"),
        None,
        "codes work once"
    );

    let late = AuthCodeRecord {
        code_hash: format!("late-{suffix}"),
        ..code.clone()
    };
    s.insert_auth_code(&late).await.expect("insert code");
    assert_eq!(
        s.consume_auth_code(&late.code_hash, 1_000)
            .await
            .expect("consume"),
        None,
        "expired codes do not work"
    );

    let session = SessionRecord {
        id_hash: format!("session-{suffix}"),
        user_id: "auth0|u1".to_owned(),
        created_at: 0,
        expires_at: 1_000,
        mfa_at: Some(5),
    };
    s.insert_session(&session).await.expect("insert session");
    assert_eq!(
        s.session(&session.id_hash, 10).await.expect("session"),
        Some(session.clone())
    );
    assert_eq!(
        s.session(&session.id_hash, 1_000).await.expect("session"),
        None,
        "sessions expire"
    );
    let without_mfa = SessionRecord {
        id_hash: format!("session-plain-{suffix}"),
        mfa_at: None,
        ..session.clone()
    };
    s.insert_session(&without_mfa)
        .await
        .expect("insert session");
    assert_eq!(
        s.session(&without_mfa.id_hash, 10).await.expect("session"),
        Some(without_mfa)
    );
    s.revoke_session(&session.id_hash, 20)
        .await
        .expect("revoke");
    assert_eq!(
        s.session(&session.id_hash, 30).await.expect("session"),
        None,
        "revoked sessions end"
    );
}

async fn a_replace_may_end_the_users_sessions_and_refresh_tokens(s: Arc<dyn Store>) {
    use portcullis_core::codes_and_sessions::SessionRecord;
    use portcullis_core::refresh::RefreshTokenRecord;
    let suffix = unique_suffix();
    let record = user(
        &format!("{:0>24}", &suffix[suffix.len().saturating_sub(24)..]),
        "db",
        &format!("ends-{suffix}@example.com"),
        None,
    );
    s.insert_user(&record).await.expect("insert");
    let user = record.user_id();
    let other = format!("auth0|kept-{suffix}");
    for (owner, n) in [(&user, 0), (&user, 1), (&other, 2)] {
        s.insert_session(&SessionRecord {
            id_hash: format!("s{n}-{suffix}"),
            user_id: owner.clone(),
            created_at: 0,
            expires_at: 1_000,
            mfa_at: None,
        })
        .await
        .expect("session");
        s.insert_refresh_token(&RefreshTokenRecord {
            token_hash: format!("r{n}-{suffix}"),
            family_id: format!("f{n}-{suffix}"),
            user_id: owner.clone(),
            client_id: "app".to_owned(),
            scope: "openid offline_access".to_owned(),
            audience: None,
            created_at: 0,
            expires_at: None,
            idle_expires_at: None,
        })
        .await
        .expect("refresh token");
    }
    let mut next = record.clone();
    next.version = 2;
    assert!(
        s.replace_user(&next, 1, None, Some(10))
            .await
            .expect("replace")
    );
    for n in 0..2 {
        assert_eq!(
            s.session(&format!("s{n}-{suffix}"), 20).await.expect("s"),
            None
        );
        assert_eq!(
            s.usable_refresh_token(&format!("r{n}-{suffix}"), 20)
                .await
                .expect("r"),
            None
        );
    }
    assert!(
        s.session(&format!("s2-{suffix}"), 20)
            .await
            .expect("s")
            .is_some()
    );
    assert!(
        s.usable_refresh_token(&format!("r2-{suffix}"), 20)
            .await
            .expect("r")
            .is_some()
    );
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $case() { super::$case(super::sqlite().await).await; })*
        }
        mod on_postgres {
            $(#[tokio::test] async fn $case() { super::$case(super::postgres().await).await; })*
        }
    };
}

async fn actions_and_their_bindings(s: Arc<dyn Store>) {
    use portcullis_core::actions::{ActionRecord, BindingRecord};
    use portcullis_core::store::StoreError;
    let suffix = unique_suffix();
    let action = |id: &str, name: &str| ActionRecord {
        id: format!("act_{id}_{suffix}"),
        name: format!("{name}-{suffix}"),
        trigger: "post-login".to_owned(),
        code: "exports.onExecutePostLogin = async () => {};".to_owned(),
        secrets: serde_json::Map::from_iter([("KEY".to_owned(), "v".into())]),
        deployed_code: None,
        deployed_secrets: serde_json::Map::new(),
        version: 0,
        created_at: 1,
        updated_at: 1,
    };
    let first = action("1", "first");
    let second = action("2", "second");
    s.insert_action(&first).await.expect("insert");
    s.insert_action(&second).await.expect("insert");
    assert!(
        matches!(
            s.insert_action(&ActionRecord {
                id: format!("act_3_{suffix}"),
                ..first.clone()
            })
            .await,
            Err(StoreError::Conflict(_))
        ),
        "names are unique"
    );
    assert_eq!(s.action(&first.id).await.expect("get"), Some(first.clone()));

    let deployed = ActionRecord {
        deployed_code: Some(first.code.clone()),
        deployed_secrets: first.secrets.clone(),
        version: 1,
        updated_at: 2,
        ..first.clone()
    };
    assert!(s.replace_action(&deployed).await.expect("replace"));
    assert_eq!(
        s.action(&first.id).await.expect("get"),
        Some(deployed.clone())
    );

    let binding = |action: &ActionRecord, n: i64| BindingRecord {
        id: format!("bnd_{n}_{suffix}"),
        trigger: "post-login".to_owned(),
        action_id: action.id.clone(),
        display_name: action.name.clone(),
        created_at: n,
    };
    s.replace_bindings("post-login", &[binding(&second, 1), binding(&first, 2)])
        .await
        .expect("bind");
    let order: Vec<String> = s
        .bindings()
        .await
        .expect("bindings")
        .into_iter()
        .map(|b| b.action_id)
        .collect();
    assert_eq!(
        order,
        [second.id.clone(), first.id.clone()],
        "in the order given"
    );

    // Deleting an action removes its bindings with it.
    assert!(s.delete_action(&second.id).await.expect("delete"));
    assert!(!s.delete_action(&second.id).await.expect("delete"));
    let left = s.bindings().await.expect("bindings");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].action_id, first.id);
    assert_eq!(s.list_actions().await.expect("list"), vec![deployed]);
}

conformance!(
    actions_and_their_bindings,
    round_trips_a_user,
    users_are_inserted_in_batches_all_or_none,
    email_is_unique_per_connection,
    username_is_unique_per_connection,
    concurrent_inserts_of_one_email_make_one_user,
    replace_checks_the_version,
    password_history_is_kept_pruned_and_deleted_with_the_user,
    logins_are_counted_atomically,
    login_failures_block_exactly_at_the_limit,
    login_attempts_are_reserved_before_the_work,
    tickets_are_single_use_and_expire,
    throttle_buckets_admit_exactly_max_attempts,
    mfa_tokens_and_authenticators,
    settings_are_upserted,
    refresh_tokens_rotate_once_and_families_revoke,
    logs_are_listed_filtered_and_paged,
    lists_pages_and_deletes,
    signing_key_generations_are_unique,
    auth_codes_work_once_and_sessions_end,
    a_replace_may_end_the_users_sessions_and_refresh_tokens,
);

#[test]
fn both_dialects_have_the_same_migrations() {
    let names = |dir: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .expect("migrations folder")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
    // Same tables and columns, in the same order.
    let shape = |dir: &str| -> Vec<String> {
        names(dir)
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(format!(
                    "{}/migrations/{dir}/{f}",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .expect("read")
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(shape("sqlite"), shape("postgres"));
}
