//! Brute-force protection: the N-th consecutive failure blocks the identifier (from that IP in
//! the default mode), the user is mailed an unblock link, and administrators lift blocks.

use std::net::IpAddr;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, DB, Nodes, PasswordLogin, REALM, STRONG, TestApp, unique};

fn protection(extra: &str) -> String {
    format!(
        r#"
[attack_protection.brute_force_protection]
enabled = true
shields = ["block", "user_notification"]
max_attempts = 3
{extra}
"#
    )
}

fn too_many_attempts() -> (StatusCode, Value) {
    (
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "too_many_attempts", "error_description": "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it."}),
    )
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address reaches the server).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

async fn login_from(
    app_base: &str,
    http: &reqwest::Client,
    username: &str,
    password: &str,
) -> (StatusCode, Value) {
    PasswordLogin::new(username, password)
        .scope(None)
        .send(http, app_base)
        .await
}

async fn user(app: &TestApp) -> (String, String) {
    let email = format!("{}@example.com", unique("bf-"));
    let (status, body) = app.signup(DB, &email, STRONG).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        email,
        format!("auth0|{}", body["_id"].as_str().expect("_id")),
    )
}

fn log_types(logs: &Value) -> Vec<String> {
    logs.as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_nth_failure_blocks_that_ip_and_the_mailed_link_unblocks() {
    let app = TestApp::spawn_with(Backend::Sqlite, &protection("")).await;
    let token = app.management_token().await;
    let (email, user_id) = user(&app).await;
    for _ in 0..3 {
        assert_eq!(
            app.login(&email, "Wrong-Password-1").await.1["error"],
            "invalid_grant"
        );
    }
    // From now on even the right password is refused from this IP …
    assert_eq!(app.login(&email, STRONG).await, too_many_attempts());
    assert_eq!(
        app.login(&email, "Wrong-Password-1").await,
        too_many_attempts()
    );
    // … but not from another one.
    let elsewhere = client_from("127.0.0.2");
    assert_eq!(
        login_from(&app.base, &elsewhere, &email, STRONG).await.0,
        StatusCode::OK
    );

    let (status, blocks) = app
        .get(&format!("/api/v2/user-blocks/{user_id}"), Some(&token))
        .await;
    assert_eq!(
        (status, blocks.clone()),
        (
            StatusCode::OK,
            json!({"blocked_for": [{"identifier": email, "connection": DB, "ip": "127.0.0.1"}]})
        )
    );
    let response = app
        .http
        .get(format!("{}/api/v2/user-blocks", app.base))
        .bearer_auth(&token)
        .query(&[("identifier", email.to_uppercase())])
        .send()
        .await
        .expect("send");
    assert_eq!(response.json::<Value>().await.expect("json"), blocks);
    let (_, logs) = app
        .get("/api/v2/logs?q=type:\"limit_wc\"", Some(&token))
        .await;
    assert_eq!(log_types(&logs), ["limit_wc"]);
    assert_eq!(logs[0]["user_id"], json!(user_id));

    // The mail carries a single-use link; opening it does not unblock, confirming does.
    let mails = app.mails("blocked", 1).await;
    assert_eq!(mails.len(), 1, "one mail");
    let mail = mails[0].replace("=\r\n", "").replace("=3D", "=");
    let link = mail
        .split_whitespace()
        .find(|w| w.contains("/unblock?ticket="))
        .expect("unblock link")
        .to_owned();
    let ticket = link.split("ticket=").nth(1).expect("ticket").to_owned();
    assert!(
        link.starts_with(&format!("{}/unblock?ticket=", app.base)),
        "{link}"
    );
    let page = app.http.get(&link).send().await.expect("get");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("Unblock my account")
    );
    assert_eq!(app.login(&email, STRONG).await, too_many_attempts());
    let confirmed = app.post_form("/unblock", &[("ticket", &ticket)]).await;
    assert_eq!(confirmed.0, StatusCode::OK);
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);
    let again = app.post_form("/unblock", &[("ticket", &ticket)]).await;
    assert_eq!(again.0, StatusCode::BAD_REQUEST, "single use");
    let (_, logs) = app
        .get("/api/v2/logs?q=type:\"ublkdu\"", Some(&token))
        .await;
    assert_eq!(log_types(&logs), ["ublkdu"]);
}

#[tokio::test]
async fn a_success_resets_the_count_and_administrators_lift_blocks() {
    let app = TestApp::spawn_with(Backend::Sqlite, &protection("")).await;
    let token = app.management_token().await;
    let (email, user_id) = user(&app).await;
    for _ in 0..2 {
        app.login(&email, "Wrong-Password-1").await;
    }
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);
    for _ in 0..2 {
        app.login(&email, "Wrong-Password-1").await;
    }
    assert_eq!(
        app.login(&email, STRONG).await.0,
        StatusCode::OK,
        "count restarted after the success"
    );

    for _ in 0..3 {
        app.login(&email, "Wrong-Password-1").await;
    }
    assert_eq!(app.login(&email, STRONG).await, too_many_attempts());
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v2/user-blocks/{user_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);

    for _ in 0..3 {
        app.login(&email, "Wrong-Password-1").await;
    }
    let response = app
        .http
        .delete(format!("{}/api/v2/user-blocks", app.base))
        .bearer_auth(&token)
        .query(&[("identifier", email.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);
    let (_, blocks) = app
        .get(&format!("/api/v2/user-blocks/{user_id}"), Some(&token))
        .await;
    assert_eq!(blocks, json!({"blocked_for": []}));
    // An administrator's `blocked: false` does not lift a brute-force block (Auth0).
    for _ in 0..3 {
        app.login(&email, "Wrong-Password-1").await;
    }
    app.send(
        Method::PATCH,
        &format!("/api/v2/users/{user_id}"),
        &token,
        Some(&json!({"blocked": false})),
    )
    .await;
    assert_eq!(app.login(&email, STRONG).await, too_many_attempts());
}

#[tokio::test]
async fn unknown_identifiers_are_blocked_alike() {
    let app = TestApp::spawn_with(Backend::Sqlite, &protection("")).await;
    for _ in 0..3 {
        app.login("ghost@example.com", "Wrong-Password-1").await;
    }
    assert_eq!(
        app.login("ghost@example.com", STRONG).await,
        too_many_attempts()
    );
    assert!(app.mails("blocked", 1).await.is_empty(), "nobody to mail");
}

#[tokio::test]
async fn modes_allowlist_and_connection_switch() {
    // Account lockout: every IP is blocked.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &protection("mode = \"count_per_identifier\"\nallowlist = [\"127.0.0.3/32\"]"),
    )
    .await;
    let (email, _) = user(&app).await;
    for _ in 0..3 {
        app.login(&email, "Wrong-Password-1").await;
    }
    assert_eq!(
        login_from(&app.base, &client_from("127.0.0.2"), &email, STRONG).await,
        too_many_attempts()
    );
    // An allowlisted address is neither counted nor blocked.
    assert_eq!(
        login_from(&app.base, &client_from("127.0.0.3"), &email, STRONG)
            .await
            .0,
        StatusCode::OK
    );

    // Off for a connection (`brute_force_protection = false`).
    let app = TestApp::spawn_with(Backend::Sqlite, &protection("")).await;
    let email = format!("{}@example.com", unique("bf-off-"));
    assert_eq!(
        app.signup("unguarded", &email, STRONG).await.0,
        StatusCode::OK
    );
    let login = |password: &'static str| {
        let app = &app;
        let email = email.clone();
        async move {
            app.post_form(
                "/oauth/token",
                &[
                    ("grant_type", REALM),
                    ("client_id", "my-spa"),
                    ("realm", "unguarded"),
                    ("username", &email),
                    ("password", password),
                ],
            )
            .await
            .0
        }
    };
    for _ in 0..5 {
        assert_eq!(login("Wrong-Password-1").await, StatusCode::FORBIDDEN);
    }
    assert_eq!(login(STRONG).await, StatusCode::OK);
}

#[tokio::test]
async fn blocks_are_exact_across_two_nodes_on_postgres() {
    let nodes = Nodes::start(2, &protection("")).await;
    let http = reqwest::Client::new();
    let email = format!("{}@example.com", unique("bf-nodes-"));
    let signup = http
        .post(format!("{}/dbconnections/signup", nodes.bases[0]))
        .json(&json!({"client_id": "my-spa", "connection": DB, "email": email, "password": STRONG}))
        .send()
        .await
        .expect("send");
    assert_eq!(signup.status(), StatusCode::OK);
    // Two failures on node A, then node B: not yet blocked.
    assert_eq!(
        login_from(&nodes.bases[0], &http, &email, "Wrong-Password-1")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        login_from(&nodes.bases[1], &http, &email, "Wrong-Password-1")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    use portcullis_core::store::prelude::*;
    assert!(
        nodes
            .store
            .login_blocks(None, std::slice::from_ref(&email), 0)
            .await
            .expect("blocks")
            .is_empty()
    );
    // The third, on either node, blocks on both.
    assert_eq!(
        login_from(&nodes.bases[0], &http, &email, "Wrong-Password-1")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    for base in &nodes.bases {
        assert_eq!(
            login_from(base, &http, &email, STRONG).await,
            too_many_attempts()
        );
    }

    // A concurrent burst spread over both nodes blocks at exactly the third failure too.
    let burst = format!("{}@example.com", unique("bf-burst-"));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let base = nodes.bases[i % 2].clone();
        let http = http.clone();
        let burst = burst.clone();
        tasks.push(tokio::spawn(async move {
            login_from(&base, &http, &burst, "Wrong-Password-1").await.0
        }));
    }
    for t in tasks {
        let status = t.await.expect("task");
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
    }
    let query = portcullis_core::logs::LogQuery {
        log_type: Some("limit_wc".into()),
        limit: 10,
        ..Default::default()
    };
    let (events, _) = nodes.store.list_logs(&query).await.expect("logs");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.user_name.as_deref() == Some(burst.as_str()))
            .count(),
        1,
        "blocked exactly once"
    );
    assert_eq!(
        login_from(&nodes.bases[1], &http, &burst, STRONG).await,
        too_many_attempts()
    );
}
