//! Refresh tokens: `offline_access`, non-rotating and rotating clients, reuse detection,
//! lifetimes, down-scoping, revocation, and the user's state at refresh time.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{DB, PasswordLogin, REALM, STRONG, TestApp, unique};

async fn user(app: &TestApp) -> (String, String) {
    let email = format!("{}@example.com", unique("rt-"));
    let (_, body) = app.signup(DB, &email, STRONG).await;
    (
        email,
        format!("auth0|{}", body["_id"].as_str().expect("_id")),
    )
}

async fn login(app: &TestApp, client_id: &str, email: &str, scope: &str) -> Value {
    let (status, body) = PasswordLogin::new(email, STRONG)
        .client(client_id, None)
        .scope(Some(scope))
        .send(&app.http, &app.base)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn refresh(
    app: &TestApp,
    client_id: &str,
    token: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    app.post_form("/oauth/token", &form).await
}

fn invalid() -> (StatusCode, Value) {
    (
        StatusCode::FORBIDDEN,
        json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}),
    )
}

#[tokio::test]
async fn non_rotating_tokens_refresh_until_revoked() {
    let app = TestApp::spawn().await;
    let (email, _) = user(&app).await;
    assert!(
        login(&app, "my-spa", &email, "openid email")
            .await
            .get("refresh_token")
            .is_none(),
        "no offline_access, no token"
    );
    let tokens = login(&app, "my-spa", &email, "openid email offline_access").await;
    let token = tokens["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();
    for _ in 0..2 {
        let (status, body) = refresh(&app, "my-spa", &token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["access_token"].is_string() && body["id_token"].is_string());
        assert!(
            body.get("refresh_token").is_none(),
            "non-rotating: the same token stays"
        );
        assert_eq!(body["scope"], "openid email offline_access");
    }
    let (_, narrowed) = refresh(&app, "my-spa", &token, Some("openid admin:everything")).await;
    assert_eq!(narrowed["scope"], "openid", "down-scoping only");
    assert_eq!(
        refresh(&app, "rotating", &token, None).await,
        invalid(),
        "another client's token"
    );

    let revoked = app
        .post_form(
            "/oauth/revoke",
            &[("client_id", "my-spa"), ("token", &token)],
        )
        .await;
    assert_eq!(revoked.0, StatusCode::OK);
    assert_eq!(refresh(&app, "my-spa", &token, None).await, invalid());
    assert_eq!(
        app.post_form(
            "/oauth/revoke",
            &[("client_id", "my-spa"), ("token", "unknown")]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        app.post_form(
            "/oauth/revoke",
            &[
                ("client_id", "backend"),
                ("client_secret", "wrong-secret-value"),
                ("token", "x")
            ]
        )
        .await,
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": "invalid_client", "error_description": "The request is not authorized. Check that the client credentials (client_id and client_secret) are present in the request and hold valid values."})
        )
    );
}

#[tokio::test]
async fn rotating_tokens_rotate_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let (email, _) = user(&app).await;
    let first = login(&app, "rotating", &email, "openid offline_access").await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    let (status, body) = refresh(&app, "rotating", &first, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["refresh_token"]
        .as_str()
        .expect("successor")
        .to_owned();
    assert_ne!(first, second);
    // The rotated token presented again: refused, and its successor with it.
    assert_eq!(refresh(&app, "rotating", &first, None).await, invalid());
    assert_eq!(refresh(&app, "rotating", &second, None).await, invalid());
    let admin = app.management_token().await;
    let (_, logs) = app.get("/api/v2/logs?q=type:\"ferrt\"", Some(&admin)).await;
    assert_eq!(logs.as_array().map(Vec::len), Some(1));

    // Idle lifetime 600 s, absolute 3600 s.
    let token = login(&app, "rotating", &email, "openid offline_access").await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    app.clock.advance_secs(601);
    assert_eq!(
        refresh(&app, "rotating", &token, None).await,
        invalid(),
        "idle"
    );
    let mut token = login(&app, "rotating", &email, "openid offline_access").await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    for _ in 0..10 {
        app.clock.advance_secs(500);
        let (status, body) = refresh(&app, "rotating", &token, None).await;
        if status != StatusCode::OK {
            assert_eq!((status, body), invalid(), "past the absolute lifetime");
            return;
        }
        token = body["refresh_token"].as_str().expect("rt").to_owned();
    }
    panic!("the absolute lifetime never ended the family");
}

#[tokio::test]
async fn refresh_respects_blocked_and_deleted_users() {
    let app = TestApp::spawn().await;
    let admin = app.management_token().await;
    let (email, user_id) = user(&app).await;
    let token = login(&app, "my-spa", &email, "openid offline_access").await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    app.send(
        Method::PATCH,
        &format!("/api/v2/users/{user_id}"),
        &admin,
        Some(&json!({"blocked": true})),
    )
    .await;
    assert_eq!(
        refresh(&app, "my-spa", &token, None).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "error_description": "user is blocked"})
        )
    );
    app.send(
        Method::DELETE,
        &format!("/api/v2/users/{user_id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        refresh(&app, "my-spa", &token, None).await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "invalid_grant", "error_description": "The refresh_token was generated for a user who doesn't exist anymore."})
        )
    );
}

/// A connection that ends a user's sessions and refresh tokens when the password changes.
const STRICT: &str = r#"
[[connections]]
name = "strict-db"
[connections.options]
revoke_sessions_on_password_change = true
"#;

#[tokio::test]
async fn a_password_change_ends_refresh_tokens_only_where_the_connection_asks() {
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, STRICT).await;
    let admin = app.management_token().await;
    // Auth0's behaviour by default: the tokens outlive the change. With the option they end.
    for (connection, ends) in [(DB, false), ("strict-db", true)] {
        let email = format!("{}@example.com", unique("pw-change-"));
        let (status, created) = app.signup(connection, &email, STRONG).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let id = format!("auth0|{}", created["_id"].as_str().expect("_id")).replace('|', "%7C");
        let (status, tokens) = app
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", REALM),
                    ("client_id", "my-spa"),
                    ("realm", connection),
                    ("username", &email),
                    ("password", STRONG),
                    ("scope", "openid offline_access"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let token = tokens["refresh_token"].as_str().expect("refresh token");
        let (status, body) = app
            .send(
                Method::PATCH,
                &format!("/api/v2/users/{id}"),
                &admin,
                Some(&json!({"password": "Another-Strong-Pass-9!", "connection": connection})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let refreshed = refresh(&app, "my-spa", token, None).await;
        if ends {
            assert_eq!(refreshed, invalid(), "{connection}");
        } else {
            assert_eq!(refreshed.0, StatusCode::OK, "{connection}: {}", refreshed.1);
        }
    }
}
