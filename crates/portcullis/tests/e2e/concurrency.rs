//! Exactness under concurrency: many sign-ups of one e-mail make exactly one user, on SQLite
//! and on PostgreSQL shared by two server processes.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, DB, Nodes, STRONG, TestApp, unique};

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

#[tokio::test]
async fn fifty_simultaneous_sign_ups_across_two_postgres_nodes_make_one_user() {
    let nodes = Nodes::start(2, LOOPBACK_NOT_THROTTLED).await;
    let (bases, issuer, store) = (&nodes.bases, &nodes.issuer, &nodes.store);
    let email = format!("{}@example.com", unique("race-"));
    assert_eq!(race(bases, &email, 50).await, (1, 49));
    let query = portcullis_core::store::UserQuery {
        email: Some(email),
        limit: 10,
        ..Default::default()
    };
    use portcullis_core::store::Store;
    assert_eq!(store.list_users(&query).await.expect("list").1, 1);

    // A token issued by one node is accepted by the other: one key ring in the database.
    let token = reqwest::Client::new()
        .post(format!("{}/oauth/token", bases[0]))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "backend"),
            ("client_secret", "a-long-random-secret"),
            ("audience", &format!("{issuer}api/v2/")),
        ])
        .send()
        .await
        .expect("send")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let status = reqwest::Client::new()
        .get(format!("{}/api/v2/users", bases[1]))
        .bearer_auth(token["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(status, StatusCode::OK);
}
