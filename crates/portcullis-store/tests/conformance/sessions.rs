//! Refresh tokens, authorization codes and browser sessions.

use crate::prelude::*;

pub(crate) async fn refresh_tokens_rotate_once_and_families_revoke(s: Arc<dyn Store>) {
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

pub(crate) async fn auth_codes_work_once_and_sessions_end(s: Arc<dyn Store>) {
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
