//! Scale-out exactness: three server processes on one PostgreSQL database behave as one
//! server — one user per e-mail, counters without lost updates, and a refresh token redeemed
//! once however many nodes race for it.

use std::net::IpAddr;

use portcullis_core::attack::brute_force::AttemptKey;
use portcullis_core::store::UserQuery;
use portcullis_core::store::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DB, Nodes, PasswordLogin, STRONG, unique};

/// Sign-ups and refreshes come from 127.0.0.1, brute force is exercised from 127.0.0.4
/// (neither throttled), suspicious-IP throttling from 127.0.0.3.
const PROTECTIONS: &str = r#"
[attack_protection.brute_force_protection]
enabled = true
shields = ["block"]
max_attempts = 10
[attack_protection.suspicious_ip_throttling]
enabled = true
shields = ["block"]
allowlist = ["127.0.0.1", "127.0.0.4"]
[attack_protection.suspicious_ip_throttling.stage.pre-login]
max_attempts = 10
rate = 600000
"#;

/// A bucket admission refills one attempt per `rate` milliseconds.
const THROTTLE_RATE: i64 = 600_000;
const THROTTLE_MAX: i64 = 10;

fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

async fn post_form(
    http: &reqwest::Client,
    url: String,
    form: Vec<(&str, String)>,
) -> (StatusCode, Value) {
    let response = http.post(url).form(&form).send().await.expect("send");
    (response.status(), response.json().await.expect("json"))
}

fn password_login(
    client_id: &str,
    username: &str,
    password: &str,
    scope: &str,
) -> Vec<(&'static str, String)> {
    PasswordLogin::new(username, password)
        .client(client_id, None)
        .scope(Some(scope))
        .fields
}

/// Sends every request of `requests` at once, request `i` to node `i % nodes`.
async fn burst(
    nodes: &Nodes,
    http: &reqwest::Client,
    path: &str,
    requests: Vec<Vec<(&'static str, String)>>,
) -> Vec<(StatusCode, Value)> {
    let mut tasks = Vec::new();
    for (i, form) in requests.into_iter().enumerate() {
        let url = format!("{}{path}", nodes.bases[i % nodes.bases.len()]);
        let http = http.clone();
        tasks.push(tokio::spawn(
            async move { post_form(&http, url, form).await },
        ));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    answers
}

fn now_millis() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("millis")
}

#[tokio::test]
async fn three_nodes_on_postgres_stay_exact_under_concurrency() {
    let nodes = Nodes::start(3, PROTECTIONS).await;
    let local = reqwest::Client::new();

    // 64 sign-ups of one e-mail spread over the three nodes at once: exactly one user.
    let email = format!("{}@example.com", unique("scale-"));
    let sign_ups = (0..64)
        .map(|_| {
            vec![
                ("client_id", "my-spa".to_owned()),
                ("connection", DB.to_owned()),
                ("email", email.clone()),
                ("password", STRONG.to_owned()),
            ]
        })
        .collect();
    let answers = burst(&nodes, &local, "/dbconnections/signup", sign_ups).await;
    let created = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let exists = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::BAD_REQUEST && b["code"] == "user_exists")
        .count();
    assert_eq!((created, exists), (1, 63), "{answers:?}");
    let query = UserQuery {
        email: Some(email.clone()),
        limit: 10,
        with_total: true,
        ..Default::default()
    };
    assert_eq!(
        nodes.store.list_users(&query).await.expect("list").1,
        Some(1)
    );

    // Brute-force protection: 40 concurrent failures for one account from one address, over
    // the three nodes: each node reserves the attempt in the database before its hash, so
    // exactly 10 are checked, the key is blocked at the 10th, and the right password after
    // the burst gets no token.
    let attacker = client_from("127.0.0.4");
    let failures = (0..40)
        .map(|_| password_login("my-spa", &email, "Wrong-Password-1", "openid"))
        .collect();
    let answers = burst(&nodes, &attacker, "/oauth/token", failures).await;
    let verdicts = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::FORBIDDEN && b["error"] == "invalid_grant")
        .count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::TOO_MANY_REQUESTS && b["error"] == "too_many_attempts")
        .count();
    assert_eq!((verdicts, refused), (10, 30), "{answers:?}");
    let key = AttemptKey {
        connection: DB.to_owned(),
        identifier: email.clone(),
        ip: "127.0.0.4".to_owned(),
    };
    let count = nodes
        .store
        .login_attempts(&key, 0)
        .await
        .expect("attempts")
        .expect("counted");
    assert_eq!(count.failures, 10);
    assert!(count.blocked_at.is_some());
    let (status, _) = post_form(
        &attacker,
        format!("{}/oauth/token", nodes.bases[1]),
        password_login("my-spa", &email, STRONG, "openid"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Suspicious-IP throttling: 40 failed logins across accounts from one address at once.
    // The bucket admits exactly 10 failures whatever the interleaving: its state is then the
    // first admission's time plus 10 periods — a lost update would leave it a period short.
    let throttled = client_from("127.0.0.3");
    let started = now_millis();
    let guesses = (0..40)
        .map(|i| password_login("my-spa", &format!("guess{i}@example.com"), "x", "openid"))
        .collect();
    let answers = burst(&nodes, &throttled, "/oauth/token", guesses).await;
    let finished = now_millis();
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == StatusCode::FORBIDDEN || *s == StatusCode::TOO_MANY_REQUESTS),
        "{answers:?}"
    );
    assert_eq!(
        answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::FORBIDDEN)
            .count(),
        10,
        "exactly the bucket's attempts get a verdict: {answers:?}"
    );
    let tat = nodes
        .store
        .throttle_state("pre-login", "127.0.0.3")
        .await
        .expect("state")
        .expect("bucket");
    let first_admission = tat - THROTTLE_MAX * THROTTLE_RATE;
    assert!(
        (started..=finished).contains(&first_admission),
        "bucket at {tat}: admissions were lost or added (burst {started}..{finished})"
    );
    let (status, _) = post_form(
        &throttled,
        format!("{}/oauth/token", nodes.bases[2]),
        password_login("my-spa", &email, STRONG, "openid"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Refresh-token rotation: two nodes redeem the same token at once, ten times over. One
    // wins; the loser is a reuse, which revokes the family — the winner's successor too.
    for round in 0..10 {
        let (status, body) = post_form(
            &local,
            format!("{}/oauth/token", nodes.bases[0]),
            password_login("rotating", &email, STRONG, "openid offline_access"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned();
        let redeem = || {
            vec![
                ("grant_type", "refresh_token".to_owned()),
                ("client_id", "rotating".to_owned()),
                ("refresh_token", token.clone()),
            ]
        };
        let answers = burst(&nodes, &local, "/oauth/token", vec![redeem(), redeem()]).await;
        let winners: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        assert!(answers.contains(&(
            StatusCode::FORBIDDEN,
            json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
        )));
        let successor = winners[0]["refresh_token"]
            .as_str()
            .expect("successor")
            .to_owned();
        let (status, _) = post_form(
            &local,
            format!("{}/oauth/token", nodes.bases[2]),
            vec![
                ("grant_type", "refresh_token".to_owned()),
                ("client_id", "rotating".to_owned()),
                ("refresh_token", successor),
            ],
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "round {round}: family revoked"
        );
    }

    // A token issued by one node is accepted by another: one key ring in the database.
    let (_, token) = post_form(
        &local,
        format!("{}/oauth/token", nodes.bases[0]),
        vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", "backend".to_owned()),
            ("client_secret", "a-long-random-secret".to_owned()),
            ("audience", format!("{}api/v2/", nodes.issuer)),
        ],
    )
    .await;
    let status = local
        .get(format!("{}/api/v2/users", nodes.bases[1]))
        .bearer_auth(token["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(status, StatusCode::OK);
}
