//! Graceful shutdown: a terminated server finishes the requests it accepted, exits cleanly,
//! and what it acknowledged is there after a restart.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DB, STRONG, start_server as start, tenant_toml, unique, wait_up};

#[tokio::test]
async fn a_terminated_server_finishes_accepted_requests_and_keeps_them() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dir = std::env::temp_dir().join(unique("portcullis-shutdown-"));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("portcullis.toml");
    std::fs::write(
        &config,
        tenant_toml(port, &dir.join("data").display().to_string(), ""),
    )
    .expect("config");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = start(&config);
    wait_up(&http, &base).await;

    // Sign-ups queue for the two hashing threads; the server is told to stop meanwhile.
    let emails: Vec<String> = (0..12)
        .map(|i| format!("{}-{i}@example.com", unique("shutdown")))
        .collect();
    let requests: Vec<_> = emails
        .iter()
        .map(|email| {
            let (http, base, email) = (http.clone(), base.clone(), email.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/dbconnections/signup"))
                    .json(&json!({"client_id": "my-spa", "connection": DB, "email": email, "password": STRONG}))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    let mut acknowledged = Vec::new();
    for (email, request) in emails.iter().zip(requests) {
        // A request that reached the socket after the listener closed was never accepted
        // (refused or reset): nothing was acknowledged, so nothing is owed.
        if let Ok(status) = request.await.expect("join") {
            assert_eq!(status, StatusCode::OK, "an accepted request finishes");
            acknowledged.push(email.clone());
        }
    }
    assert!(!acknowledged.is_empty(), "requests were in flight");
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success(), "{exit:?}");

    // After a restart every acknowledged sign-up can log in.
    let mut server = start(&config);
    wait_up(&http, &base).await;
    for email in &acknowledged {
        let response = http
            .post(format!("{base}/oauth/token"))
            .form(&[
                (
                    "grant_type",
                    "http://auth0.com/oauth/grant-type/password-realm",
                ),
                ("client_id", "my-spa"),
                ("realm", DB),
                ("username", email.as_str()),
                ("password", STRONG),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::OK, "{email}");
    }
    let _ = server.kill();
    let _ = server.wait();
    std::fs::remove_dir_all(&dir).ok();
}
