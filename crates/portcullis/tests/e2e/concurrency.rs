//! Exactness under concurrency: many sign-ups of one e-mail make exactly one user on SQLite
//! (PostgreSQL shared by several processes: `scale_out`).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, DB, STRONG, TestApp, unique};

/// Fifty sign-ups from one address in a burst sit right at suspicious-IP throttling's default
/// limit (50); these tests are about uniqueness, so loopback is allowlisted.
const LOOPBACK_NOT_THROTTLED: &str =
    "[attack_protection.suspicious_ip_throttling]\nallowlist = [\"127.0.0.1\"]\n";

async fn race(bases: &[String], email: &str, attempts: usize) -> (usize, usize) {
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..attempts {
        let url = format!("{}/dbconnections/signup", bases[i % bases.len()]);
        let http = http.clone();
        let body =
            json!({"client_id": "my-spa", "connection": DB, "email": email, "password": STRONG});
        tasks.push(tokio::spawn(async move {
            let response = http.post(url).json(&body).send().await.expect("send");
            (
                response.status(),
                response.json::<serde_json::Value>().await.expect("json"),
            )
        }));
    }
    let (mut created, mut exists) = (0, 0);
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match (status, body["code"].as_str()) {
            (StatusCode::OK, _) => created += 1,
            (StatusCode::BAD_REQUEST, Some("user_exists")) => exists += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    (created, exists)
}

#[tokio::test]
async fn fifty_simultaneous_sign_ups_make_one_user_on_sqlite() {
    let app = TestApp::spawn_with(Backend::Sqlite, LOOPBACK_NOT_THROTTLED).await;
    let email = format!("{}@example.com", unique("race-"));
    assert_eq!(
        race(std::slice::from_ref(&app.base), &email, 50).await,
        (1, 49)
    );
    assert_eq!(app.user_count().await, 1);
}
