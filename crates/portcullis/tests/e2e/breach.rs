//! Breached-password detection: the compiled-in corpus, a filter file built by the CLI, and a
//! k-anonymity range API (a local stand-in), at sign-up, password change and login.

use std::sync::{Arc, Mutex};

use axum::extract::Path;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, DB, STRONG, TestApp, unique};

/// In the compiled-in corpus, and strong enough for the "good" policy.
const LEAKED: &str = "Good123654";

/// Detection blocking at every stage, with `extra` keys in its main table.
fn detection(extra: &str) -> String {
    format!(
        r#"
[attack_protection.breached_password_detection]
enabled = true
shields = ["block"]
{extra}
[attack_protection.breached_password_detection.stage.pre-user-registration]
shields = ["block"]
[attack_protection.breached_password_detection.stage.pre-change-password]
shields = ["block"]
"#
    )
}

fn email() -> String {
    format!("{}@example.com", unique("breach-"))
}

fn leaked_at_signup() -> serde_json::Value {
    json!({"name": "BadRequestError", "code": "password_leaked",
           "description": "This combination of credentials was detected in a public data breach on another website. Before your account is created, please use a different password to keep it secure.",
           "statusCode": 400})
}

#[tokio::test]
async fn the_compiled_in_corpus_blocks_sign_up_change_and_login() {
    let app = TestApp::spawn_with(Backend::Sqlite, &detection("")).await;
    assert_eq!(
        app.signup(DB, &email(), LEAKED).await,
        (StatusCode::BAD_REQUEST, leaked_at_signup())
    );
    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.signup(DB, &email(), STRONG).await.0, StatusCode::OK);

    // An administrator may still set it (Auth0 does not screen Management API creation) …
    let token = app.management_token().await;
    let leaked_user = email();
    let (status, created) = app
        .send(
            Method::POST,
            "/api/v2/users",
            &token,
            Some(&json!({"connection": DB, "email": leaked_user, "password": LEAKED})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // … but the user cannot log in with it,
    assert_eq!(
        app.login(&leaked_user, LEAKED).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "password_leaked", "error_description": "This login attempt has been blocked because the password you're using was previously disclosed through a data breach (not in this application)."})
        )
    );
    // and nobody can change a password to it.
    let path = format!("/api/v2/users/{}", created["user_id"].as_str().expect("id"));
    assert_eq!(
        app.send(
            Method::PATCH,
            &path,
            &token,
            Some(&json!({"password": LEAKED}))
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "error": "Bad Request", "message": "PasswordLeakedError: Password has been found in a data breach", "errorCode": "password_leaked"})
        )
    );
    // A wrong password is still just wrong: the corpus is consulted only for a correct one.
    assert_eq!(
        app.login(&leaked_user, "Not-The-Password-1").await.1["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn detection_off_lets_breached_passwords_through() {
    let app = TestApp::spawn().await;
    assert_eq!(app.signup(DB, &email(), LEAKED).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_filter_file_built_by_the_cli_is_used() {
    let dir = std::env::temp_dir().join(unique("portcullis-filter-"));
    std::fs::create_dir_all(&dir).expect("dir");
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, "Only-In-This-Corpus-1\nAnother-One-2\n").expect("corpus");
    let filter = dir.join("corpus.filter");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["breach", "build", "--input"])
        .arg(&corpus)
        .arg("--output")
        .arg(&filter)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tail = detection(&format!("corpus = \"{}\"", filter.display()));
    let app = TestApp::spawn_with(Backend::Sqlite, &tail).await;
    assert_eq!(
        app.signup(DB, &email(), "Only-In-This-Corpus-1").await,
        (StatusCode::BAD_REQUEST, leaked_at_signup())
    );
    // The compiled-in corpus is not consulted when a file is configured.
    assert_eq!(app.signup(DB, &email(), LEAKED).await.0, StatusCode::OK);
}

/// A stand-in for a Pwned-Passwords range endpoint that records the prefixes it was asked for.
async fn range_stand_in(breached: &'static [&'static str]) -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let router = axum::Router::new().route(
        "/range/{prefix}",
        axum::routing::get(
            move |Path(prefix): Path<String>, headers: axum::http::HeaderMap| {
                let seen = seen.clone();
                async move {
                    seen.lock()
                        .expect("lock")
                        .push(format!("{prefix} padding={:?}", headers.get("add-padding")));
                    let mut lines = vec!["0000000000000000000000000000000000A:0".to_owned()];
                    for password in breached {
                        let hex = portcullis_breach::sha1_of(password)
                            .iter()
                            .map(|b| format!("{b:02X}"))
                            .collect::<String>();
                        if hex.starts_with(&prefix.to_uppercase()) {
                            lines.push(format!("{}:42", &hex[5..]));
                        }
                    }
                    lines.join("\r\n")
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/range/", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, asked)
}

fn range_config(url: &str, fail_open: bool) -> String {
    detection(&format!(
        "method = \"range_api\"\nrange_api = {{ url = \"{url}\", timeout_ms = 500, fail_open = {fail_open} }}"
    ))
}

#[tokio::test]
async fn the_range_api_sees_only_a_five_character_prefix() {
    let (url, asked) = range_stand_in(&["Range-Leaked-1"]).await;
    let app = TestApp::spawn_with(Backend::Sqlite, &range_config(&url, false)).await;
    assert_eq!(
        app.signup(DB, &email(), "Range-Leaked-1").await,
        (StatusCode::BAD_REQUEST, leaked_at_signup())
    );
    assert_eq!(
        app.signup(DB, &email(), "Range-Clean-2").await.0,
        StatusCode::OK
    );
    let asked = asked.lock().expect("lock").clone();
    assert_eq!(asked.len(), 2);
    for line in &asked {
        let prefix = line.split(' ').next().expect("prefix");
        assert_eq!(prefix.len(), 5, "{line}");
        assert!(line.ends_with("padding=Some(\"true\")"), "{line}");
    }
}

#[tokio::test]
async fn an_unreachable_range_api_fails_closed_or_open_as_configured() {
    let dead = "http://127.0.0.1:9/range/";
    let closed = TestApp::spawn_with(Backend::Sqlite, &range_config(dead, false)).await;
    let (status, body) = closed.signup(DB, &email(), STRONG).await;
    assert_eq!(
        (status, &body["code"]),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!("temporarily_unavailable")
        )
    );
    assert_eq!(closed.user_count().await, 0);
    let open = TestApp::spawn_with(Backend::Sqlite, &range_config(dead, true)).await;
    assert_eq!(open.signup(DB, &email(), STRONG).await.0, StatusCode::OK);
}

#[tokio::test]
async fn breached_logins_are_logged_and_the_user_told_by_mail() {
    // Notify only: the login goes through, the user is told, `pwd_leak` is recorded.
    let notify = r#"
[attack_protection.breached_password_detection]
enabled = true
shields = ["user_notification"]
"#;
    let app = TestApp::spawn_with(Backend::Sqlite, notify).await;
    let token = app.management_token().await;
    let leaked_user = email();
    app.send(
        Method::POST,
        "/api/v2/users",
        &token,
        Some(&json!({"connection": DB, "email": leaked_user, "password": LEAKED})),
    )
    .await;
    assert_eq!(app.login(&leaked_user, LEAKED).await.0, StatusCode::OK);
    let mails = app.mails("data breach", 1).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains(&format!("To: {leaked_user}")),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("data breach"));
    let (_, logs) = app
        .get("/api/v2/logs?q=type:\"pwd_leak\"", Some(&token))
        .await;
    assert_eq!(logs.as_array().map(Vec::len), Some(1));

    // Block and notify: refused, told, recorded.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &detection("").replace(
            "shields = [\"block\"]\n\n",
            "shields = [\"block\", \"user_notification\"]\n\n",
        ),
    )
    .await;
    let token = app.management_token().await;
    app.send(
        Method::POST,
        "/api/v2/users",
        &token,
        Some(&json!({"connection": DB, "email": leaked_user, "password": LEAKED})),
    )
    .await;
    assert_eq!(
        app.login(&leaked_user, LEAKED).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.mails("data breach", 1).await.len(), 1);
    let (_, logs) = app.get("/api/v2/logs?sort=date:1", Some(&token)).await;
    let types: Vec<&str> = logs
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, ["seccft", "sapi", "pwd_leak", "f"]);
}

#[tokio::test]
async fn breached_sign_ups_are_logged() {
    let app = TestApp::spawn_with(Backend::Sqlite, &detection("")).await;
    let token = app.management_token().await;
    app.signup(DB, &email(), LEAKED).await;
    let (_, logs) = app.get("/api/v2/logs?sort=date:1", Some(&token)).await;
    let types: Vec<&str> = logs
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, ["seccft", "signup_pwd_leak", "fs"]);
}
