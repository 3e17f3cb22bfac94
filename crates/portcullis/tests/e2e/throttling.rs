//! Suspicious IP throttling: failed logins across accounts and sign-ups per IP, the anomaly
//! blocks API, and which address counts behind a trusted proxy.

use std::net::IpAddr;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, DB, PasswordLogin, STRONG, TestApp, unique};

const SUSPICIOUS: &str = "We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.";

fn throttling() -> String {
    r#"
[attack_protection.suspicious_ip_throttling]
enabled = true
shields = ["block"]
allowlist = ["127.0.0.9"]
[attack_protection.suspicious_ip_throttling.stage.pre-login]
max_attempts = 3
rate = 600000
[attack_protection.suspicious_ip_throttling.stage.pre-user-registration]
max_attempts = 2
rate = 600000
"#
    .to_owned()
}

fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> (StatusCode, Value) {
    PasswordLogin::new(username, password)
        .scope(None)
        .send(http, base)
        .await
}

async fn signup(
    http: &reqwest::Client,
    base: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = http.post(format!("{base}/dbconnections/signup")).json(&json!({
        "client_id": "my-spa", "connection": DB, "email": format!("{}@example.com", unique("t-")), "password": STRONG
    }));
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", format!("198.51.100.1, {ip}"));
    }
    let r = request.send().await.expect("send");
    (r.status(), r.json().await.expect("json"))
}

#[tokio::test]
async fn failed_logins_across_accounts_throttle_the_ip_until_lifted() {
    let app = TestApp::spawn_with(Backend::Sqlite, &throttling()).await;
    let token = app.management_token().await;
    let email = format!("{}@example.com", unique("victim-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let local = reqwest::Client::new();
    // Three failures against three different accounts: no brute-force block, but the IP's
    // bucket is now empty.
    for i in 0..3 {
        assert_eq!(
            login(&local, &app.base, &format!("guess{i}@example.com"), "x")
                .await
                .0,
            StatusCode::FORBIDDEN
        );
    }
    let refused = (
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "too_many_attempts", "error_description": SUSPICIOUS}),
    );
    assert_eq!(login(&local, &app.base, &email, STRONG).await, refused);
    // Another address, and an allowlisted one, are not affected.
    assert_eq!(
        login(&client_from("127.0.0.2"), &app.base, &email, STRONG)
            .await
            .0,
        StatusCode::OK
    );
    for i in 0..5 {
        login(
            &client_from("127.0.0.9"),
            &app.base,
            &format!("g{i}@example.com"),
            "x",
        )
        .await;
    }
    assert_eq!(
        login(&client_from("127.0.0.9"), &app.base, &email, STRONG)
            .await
            .0,
        StatusCode::OK
    );

    assert_eq!(
        app.get("/api/v2/anomaly/blocks/ips/127.0.0.1", Some(&token))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = app
        .get("/api/v2/anomaly/blocks/ips/127.0.0.2", Some(&token))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"statusCode": 404, "error": "Not Found", "message": "IP address is not blocked.", "errorCode": "not_found"})
        )
    );
    assert_eq!(
        app.get("/api/v2/anomaly/blocks/ips/not-an-ip", Some(&token))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (_, logs) = app
        .get("/api/v2/logs?q=type:\"limit_mu\"", Some(&token))
        .await;
    assert_eq!(logs[0]["details"]["flow"], "login");
    assert_eq!(logs[0]["ip"], "127.0.0.1");

    let (status, _) = app
        .send(
            Method::DELETE,
            "/api/v2/anomaly/blocks/ips/127.0.0.1",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        login(&local, &app.base, &email, STRONG).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_ups_are_throttled_per_address_and_proxies_name_the_client_only_when_trusted() {
    let app = TestApp::spawn_with(Backend::Sqlite, &throttling()).await;
    let http = reqwest::Client::new();
    assert_eq!(signup(&http, &app.base, None).await.0, StatusCode::OK);
    assert_eq!(signup(&http, &app.base, None).await.0, StatusCode::OK);
    assert_eq!(
        signup(&http, &app.base, None).await,
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"name": "TooManyAttemptsError", "code": "too_many_attempts", "description": SUSPICIOUS, "statusCode": 429})
        )
    );
    // An untrusted peer cannot escape by claiming another address.
    assert_eq!(
        signup(&http, &app.base, Some("203.0.113.7")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(app.user_count().await, 2);

    // Behind a trusted proxy, the forwarded client is the one counted.
    let proxied = TestApp::spawn_configured(
        Backend::Sqlite,
        "trusted_proxies = [\"127.0.0.0/8\"]",
        &throttling(),
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            signup(&http, &proxied.base, Some("203.0.113.7")).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        signup(&http, &proxied.base, Some("203.0.113.7")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        signup(&http, &proxied.base, Some("203.0.113.8")).await.0,
        StatusCode::OK
    );
    let token = proxied.management_token().await;
    assert_eq!(
        proxied
            .get("/api/v2/anomaly/blocks/ips/203.0.113.7", Some(&token))
            .await
            .0,
        StatusCode::OK
    );
    let (_, logs) = proxied
        .get("/api/v2/logs?q=type:\"limit_mu\"", Some(&token))
        .await;
    assert_eq!(
        (&logs[0]["details"]["flow"], &logs[0]["ip"]),
        (&json!("signup"), &json!("203.0.113.7"))
    );
}

#[tokio::test]
async fn administrators_are_told_at_the_support_address() {
    let tail = r#"
[attack_protection.suspicious_ip_throttling]
shields = ["block", "admin_notification"]
[attack_protection.suspicious_ip_throttling.stage.pre-user-registration]
max_attempts = 1
rate = 600000
[attack_protection.breached_password_detection]
enabled = true
shields = ["admin_notification"]
[attack_protection.breached_password_detection.stage.pre-user-registration]
shields = ["admin_notification"]
"#;
    let app = TestApp::spawn_with_tenant_keys(
        Backend::Sqlite,
        "support_email = \"ops@example.com\"",
        tail,
    )
    .await;
    // The sign-up with a breached password goes through (notify only) and the admin is told.
    assert_eq!(
        signup_with_password(&app, "Good123654").await,
        StatusCode::OK
    );
    let told = app.mails("breached password detected", 1).await;
    assert_eq!(told.len(), 1);
    assert!(told[0].contains("To: ops@example.com"), "{}", told[0]);
    // The next sign-up from this address is throttled, and the admin is told.
    assert_eq!(
        signup_with_password(&app, STRONG).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let throttled = app.mails("suspicious IP address throttled", 1).await;
    assert_eq!(throttled.len(), 1);
    assert!(throttled[0].contains("127.0.0.1"));
}

async fn signup_with_password(app: &TestApp, password: &str) -> StatusCode {
    app.signup(DB, &format!("{}@example.com", unique("adm-")), password)
        .await
        .0
}
