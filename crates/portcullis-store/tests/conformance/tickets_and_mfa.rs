//! Mailed tickets, MFA tokens and authenticators.

use crate::prelude::*;

pub(crate) async fn tickets_are_single_use_and_expire(s: Arc<dyn Store>) {
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

pub(crate) async fn mfa_tokens_and_authenticators(s: Arc<dyn Store>) {
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
