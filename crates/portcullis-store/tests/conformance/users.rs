//! Users, uniqueness, versions, password history and login statistics.

use crate::prelude::*;

pub(crate) async fn round_trips_a_user(s: Arc<dyn Store>) {
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

pub(crate) async fn users_are_inserted_in_batches_all_or_none(s: Arc<dyn Store>) {
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

pub(crate) async fn email_is_unique_per_connection(s: Arc<dyn Store>) {
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

pub(crate) async fn username_is_unique_per_connection(s: Arc<dyn Store>) {
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

pub(crate) async fn concurrent_inserts_of_one_email_make_one_user(s: Arc<dyn Store>) {
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

pub(crate) async fn replace_checks_the_version(s: Arc<dyn Store>) {
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

pub(crate) async fn password_history_is_kept_pruned_and_deleted_with_the_user(s: Arc<dyn Store>) {
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

pub(crate) async fn logins_are_counted_atomically(s: Arc<dyn Store>) {
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

pub(crate) async fn lists_pages_and_deletes(s: Arc<dyn Store>) {
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

pub(crate) async fn a_replace_may_end_the_users_sessions_and_refresh_tokens(s: Arc<dyn Store>) {
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
