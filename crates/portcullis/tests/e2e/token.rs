//! `POST /oauth/token`, `/userinfo`, discovery and the JWKS.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DB, REALM, STRONG, TestApp, claims, unique};

async fn user(app: &TestApp) -> (String, String) {
    let email = format!("{}@example.com", unique("login-"));
    let (status, body) = app.signup(DB, &email, STRONG).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        email,
        format!("auth0|{}", body["_id"].as_str().expect("_id")),
    )
}

#[tokio::test]
async fn password_realm_login_issues_auth0_tokens() {
    let app = TestApp::spawn().await;
    let (email, user_id) = user(&app).await;
    let (status, body) = app.login(&email, STRONG).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["scope"], "openid profile email");
    let id = claims(body["id_token"].as_str().expect("id_token"));
    assert_eq!(id["iss"], json!(app.issuer()));
    assert!(app.issuer().ends_with('/'));
    assert_eq!(id["sub"], json!(user_id));
    assert_eq!(id["aud"], "my-spa");
    assert_eq!(id["email"], json!(email));
    assert_eq!(id["email_verified"], false);
    assert_eq!(
        id["exp"].as_i64().expect("exp") - id["iat"].as_i64().expect("iat"),
        36000
    );
    // Without an audience the access token is opaque (not a JWT), good for /userinfo only.
    let access_token = body["access_token"].as_str().expect("access_token");
    assert_eq!(access_token.matches('.').count(), 1, "{access_token}");

    // userinfo answers with the scopes' claims
    let (status, info) = app.get("/userinfo", body["access_token"].as_str()).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["sub"], json!(user_id));
    assert_eq!(info["email"], json!(email));
    assert_eq!(info["nickname"], json!(email.split('@').next()));

    // the login was counted
    let token = app.management_token().await;
    let (_, managed) = app
        .get(&format!("/api/v2/users/{user_id}"), Some(&token))
        .await;
    assert_eq!(managed["logins_count"], 1);
    assert_eq!(managed["last_ip"], "127.0.0.1");
}

#[tokio::test]
async fn password_grant_uses_the_default_directory_and_passes_the_nonce() {
    let app = TestApp::spawn().await;
    let (email, _) = user(&app).await;
    let (status, body) = app
        .post_json(
            "/oauth/token",
            &json!({"grant_type": "password", "client_id": "my-spa", "username": email, "password": STRONG,
                    "scope": "openid", "nonce": "n-0S6_WzA2Mj", "audience": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(body["id_token"].as_str().expect("id_token"))["nonce"],
        "n-0S6_WzA2Mj"
    );
}

#[tokio::test]
async fn audience_gives_an_api_token() {
    let app = TestApp::spawn().await;
    let (email, _) = user(&app).await;
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", REALM),
                ("client_id", "my-spa"),
                ("realm", DB),
                ("username", &email),
                ("password", STRONG),
                ("audience", "https://api.example.com"),
                ("scope", "openid read:things"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 7200);
    let access = claims(body["access_token"].as_str().expect("token"));
    assert_eq!(
        access["aud"],
        json!([
            "https://api.example.com",
            format!("{}userinfo", app.issuer())
        ])
    );
    assert_eq!(access["scope"], "openid read:things");

    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", REALM),
                ("client_id", "my-spa"),
                ("realm", DB),
                ("username", &email),
                ("password", STRONG),
                ("audience", "https://unknown.example.com"),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "Service not found: https://unknown.example.com"})
        )
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_answer_identically() {
    let app = TestApp::spawn().await;
    let (email, _) = user(&app).await;
    let expected =
        json!({"error": "invalid_grant", "error_description": "Wrong email or password."});
    assert_eq!(
        app.login(&email, "Wrong-Password-1").await,
        (StatusCode::FORBIDDEN, expected.clone())
    );
    assert_eq!(
        app.login("nobody@example.com", STRONG).await,
        (StatusCode::FORBIDDEN, expected.clone())
    );
    assert_eq!(
        app.login("not an email", STRONG).await,
        (StatusCode::FORBIDDEN, expected)
    );
}

#[tokio::test]
async fn username_connections_say_username() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", REALM),
                ("client_id", "my-spa"),
                ("realm", "with-username"),
                ("username", "ghost"),
                ("password", STRONG),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "invalid_grant", "error_description": "Wrong username or password."})
        )
    );
    let email = format!("{}@example.com", unique("u-"));
    let (status, _) = app
        .post_json(
            "/dbconnections/signup",
            &json!({"client_id": "my-spa", "connection": "with-username", "email": email, "password": STRONG, "username": "Jane_Doe"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for identifier in ["jane_doe", "JANE_DOE", email.as_str()] {
        let (status, body) = app
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", REALM),
                    ("client_id", "my-spa"),
                    ("realm", "with-username"),
                    ("username", identifier),
                    ("password", STRONG),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{identifier}: {body}");
    }
}

#[tokio::test]
async fn blocked_user_is_refused_only_with_the_right_password() {
    let app = TestApp::spawn().await;
    let (email, user_id) = user(&app).await;
    let token = app.management_token().await;
    let (status, _) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v2/users/{user_id}"),
            &token,
            Some(&json!({"blocked": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.login(&email, STRONG).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "error_description": "user is blocked"})
        )
    );
    assert_eq!(
        app.login(&email, "Wrong-Password-1").await.1["error"],
        "invalid_grant"
    );
    app.send(
        reqwest::Method::PATCH,
        &format!("/api/v2/users/{user_id}"),
        &token,
        Some(&json!({"blocked": false})),
    )
    .await;
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);
}

#[tokio::test]
async fn client_credentials_for_the_management_api() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "backend"),
                ("client_secret", "a-long-random-secret"),
                ("audience", &app.management_audience()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["scope"]
            .as_str()
            .expect("scope")
            .starts_with("read:users create:users update:users delete:users read:logs"),
        "{body}"
    );
    assert!(body.get("id_token").is_none());
    let access = claims(body["access_token"].as_str().expect("token"));
    assert_eq!(access["gty"], "client-credentials");
    assert_eq!(access["sub"], "backend@clients");
    assert_eq!(access["azp"], "backend");
    assert_eq!(access["aud"], json!(app.management_audience()));

    // HTTP Basic and a narrowed scope
    let basic = base64::engine::general_purpose::STANDARD.encode("backend:a-long-random-secret");
    let response = app
        .http
        .post(format!("{}/oauth/token", app.base))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("audience", &app.management_audience()),
            ("scope", "read:users"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["scope"], "read:users");

    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "reader"),
                ("client_secret", "another-long-secret"),
                ("audience", &app.management_audience()),
                ("scope", "read:users delete:users"),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "Client has not been granted scopes: delete:users"})
        )
    );

    let audience = app.management_audience();
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "ungranted"),
                ("client_secret", "yet-another-long-secret"),
                ("audience", &audience),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error_description"],
        json!(format!(
            "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
        ))
    );
}

#[tokio::test]
async fn client_and_grant_errors() {
    let app = TestApp::spawn().await;
    let audience = app.management_audience();
    let unauthorized = json!({"error": "access_denied", "error_description": "Unauthorized"});
    for (client_id, secret) in [
        ("backend", "wrong-secret-value"),
        ("nobody", "whatever-secret-1"),
        ("backend", ""),
    ] {
        let (status, body) = app
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("audience", &audience),
                ],
            )
            .await;
        assert_eq!(
            (status, body),
            (StatusCode::UNAUTHORIZED, unauthorized.clone()),
            "{client_id}/{secret}"
        );
    }
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "my-spa"),
                ("audience", &audience),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "unauthorized_client", "error_description": "Grant type 'client_credentials' not allowed for the client.", "error_uri": "https://auth0.com/docs/clients/client-grant-types"})
        )
    );
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[("grant_type", "urn:nope"), ("client_id", "my-spa")],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant type: urn:nope"})
        )
    );
    let (status, body) = app
        .post_form("/oauth/token", &[("client_id", "my-spa")])
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "Missing required parameter: grant_type"})
        )
    );
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", REALM),
                ("client_id", "my-spa"),
                ("realm", DB),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "Missing required parameter: username"})
        )
    );
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", REALM),
                ("client_id", "my-spa"),
                ("realm", "nope"),
                ("username", "a@b.c"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "the connection was not found"})
        )
    );
}

#[tokio::test]
async fn userinfo_refuses_bad_tokens_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    for token in [None, Some("garbage"), Some("a.b.c")] {
        let mut request = app.http.get(format!("{}/userinfo", app.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .expect("header")
                .starts_with("Bearer realm=\"Users\"")
        );
        assert_eq!(response.text().await.expect("text"), "Unauthorized");
    }
    // A Management API token is not a userinfo token.
    let token = app.management_token().await;
    assert_eq!(
        app.get("/userinfo", Some(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // An expired token is refused.
    let (email, _) = user(&app).await;
    let (_, body) = app.login(&email, STRONG).await;
    app.clock.advance_secs(86_401);
    assert_eq!(
        app.get("/userinfo", body["access_token"].as_str()).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn discovery_and_jwks_serve_only_public_keys_and_follow_rotation_and_retirement() {
    let app = TestApp::spawn().await;
    let (status, discovery) = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(discovery["issuer"], json!(app.issuer()));
    assert_eq!(
        discovery["jwks_uri"],
        json!(format!("{}.well-known/jwks.json", app.issuer()))
    );
    assert_eq!(
        discovery["token_endpoint"],
        json!(format!("{}oauth/token", app.issuer()))
    );

    let (_, jwks) = app.get("/.well-known/jwks.json", None).await;
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        (&key["kty"], &key["alg"], &key["use"]),
        (&json!("RSA"), &json!("RS256"), &json!("sig"))
    );
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(key.get(private).is_none(), "{private} must never be served");
    }

    let (email, _) = user(&app).await;
    let (_, before) = app.login(&email, STRONG).await;
    let rotate = || async {
        let app = &app;
        portcullis_core::tokens::KeyRing::rotate(app.store.as_ref(), &app.tenant.at_rest, 0)
            .await
            .expect("rotate");
        app.tenant
            .keys
            .reload(app.store.as_ref())
            .await
            .expect("reload");
    };
    rotate().await;
    let (_, jwks) = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    // Tokens signed with the previous key stay valid; new ones use the new key.
    assert_eq!(
        app.get("/userinfo", before["access_token"].as_str())
            .await
            .0,
        StatusCode::OK
    );
    let (_, after) = app.login(&email, STRONG).await;
    let kid = |jwt: &str| {
        let header = jwt.split('.').next().expect("header");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("b64");
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")["kid"].clone()
    };
    assert_ne!(
        kid(before["id_token"].as_str().expect("t")),
        kid(after["id_token"].as_str().expect("t"))
    );
    assert_eq!(
        kid(after["id_token"].as_str().expect("t")),
        jwks["keys"][0]["kid"]
    );
    // The private keys are sealed in the store, never kept as PEM.
    for (_, stored) in app
        .store
        .sealed_values(portcullis_core::store::SealedColumn::SigningKey)
        .await
        .expect("keys")
    {
        assert!(stored.starts_with("v1.") && !stored.contains("PRIVATE KEY"));
    }

    // Two rotations on, the first key is no longer published and its tokens are refused.
    let app = &app;
    let userinfo = |token: &Value| {
        let token = token["access_token"].as_str().expect("token").to_owned();
        async move { app.get("/userinfo", Some(&token)).await.0 }
    };
    rotate().await;
    let (_, jwks) = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    assert_eq!(userinfo(&before).await, StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo(&after).await, StatusCode::OK);
    // Retiring leaves only the newest key: every older token stops at once.
    assert_eq!(
        portcullis_core::tokens::KeyRing::retire(app.store.as_ref())
            .await
            .expect("retire"),
        2
    );
    app.tenant
        .keys
        .reload(app.store.as_ref())
        .await
        .expect("reload");
    let (_, jwks) = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 1);
    assert_eq!(userinfo(&after).await, StatusCode::UNAUTHORIZED);
    let (_, fresh) = app.login(&email, STRONG).await;
    assert_eq!(userinfo(&fresh).await, StatusCode::OK);
}
