//! Tenant logs: what sign-up, login, exchange and Management API calls record, read back
//! through `/api/v2/logs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{DB, STRONG, TestApp, unique};

async fn logs(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/v2/logs{query}"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("array").clone()
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_owned())
        .collect()
}

#[tokio::test]
async fn authentication_events_are_logged_with_auth0_codes() {
    let app = TestApp::spawn().await;
    let token = app.management_token().await;
    let email = format!("{}@example.com", unique("logs-"));
    let (_, signed_up) = app.signup(DB, &email, STRONG).await;
    let user_id = format!("auth0|{}", signed_up["_id"].as_str().expect("_id"));
    app.signup(DB, &email, STRONG).await;
    app.login(&email, STRONG).await;
    app.login(&email, "Wrong-Password-1").await;
    app.login("nobody@example.com", STRONG).await;

    let events = logs(&app, &token, "").await;
    // Newest first.
    assert_eq!(types(&events), ["fu", "fp", "sepft", "fs", "ss", "seccft"]);
    let signup = &events[4];
    assert_eq!(signup["user_id"], json!(user_id));
    assert_eq!(signup["user_name"], json!(email));
    assert_eq!(signup["connection"], json!(DB));
    assert_eq!(signup["client_id"], "my-spa");
    assert_eq!(signup["client_name"], "My SPA");
    assert_eq!(signup["ip"], "127.0.0.1");
    assert_eq!(signup["strategy"], "auth0");
    assert!(signup["date"].as_str().expect("date").ends_with('Z'));
    assert_eq!(events[3]["description"], "user exists");
    assert_eq!(events[1]["description"], "Wrong email or password.");
    assert_eq!(events[1]["user_id"], json!(user_id));
    assert_eq!(events[0]["user_name"], "nobody@example.com");
    assert!(events[0].get("user_id").is_none());

    // One event by id, search by type and user, checkpoint paging, totals.
    let id = events[2]["log_id"].as_str().expect("log_id");
    let (status, one) = app.get(&format!("/api/v2/logs/{id}"), Some(&token)).await;
    assert_eq!((status, &one["type"]), (StatusCode::OK, &json!("sepft")));
    let (status, missing) = app.get("/api/v2/logs/900000", Some(&token)).await;
    assert_eq!(
        (status, missing),
        (
            StatusCode::NOT_FOUND,
            json!({"statusCode": 404, "error": "Not Found", "message": "The log does not exist.", "errorCode": "inexistent_log"})
        )
    );
    let response = app
        .http
        .get(format!("{}/api/v2/logs", app.base))
        .bearer_auth(&token)
        .query(&[("q", format!("type:\"fp\" AND user_id:\"{user_id}\""))])
        .send()
        .await
        .expect("send");
    assert_eq!(
        types(&response.json::<Vec<Value>>().await.expect("json")),
        ["fp"]
    );
    let oldest = events[5]["log_id"].as_str().expect("log_id");
    assert_eq!(
        types(&logs(&app, &token, &format!("?from={oldest}&take=2")).await),
        ["ss", "fs"]
    );
    let (_, page) = app
        .get(
            "/api/v2/logs?per_page=2&page=1&include_totals=true",
            Some(&token),
        )
        .await;
    assert_eq!(
        (
            &page["start"],
            &page["limit"],
            &page["length"],
            &page["total"]
        ),
        (&json!(2), &json!(2), &json!(2), &json!(6))
    );
    let (_, user_logs) = app
        .get(&format!("/api/v2/users/{user_id}/logs"), Some(&token))
        .await;
    assert_eq!(
        types(user_logs.as_array().expect("array")),
        ["fp", "sepft", "ss"]
    );
}

#[tokio::test]
async fn management_changes_are_logged() {
    let app = TestApp::spawn().await;
    let token = app.management_token().await;
    let (_, created) = app
        .send(Method::POST, "/api/v2/users", &token, Some(&json!({"connection": DB, "email": format!("{}@example.com", unique("m-")), "password": STRONG})))
        .await;
    let path = format!("/api/v2/users/{}", created["user_id"].as_str().expect("id"));
    app.send(
        Method::PATCH,
        &path,
        &token,
        Some(&json!({"password": "weak"})),
    )
    .await;
    app.send(
        Method::PATCH,
        &path,
        &token,
        Some(&json!({"password": "Another-Strong-7"})),
    )
    .await;
    app.send(Method::DELETE, &path, &token, None).await;
    let events = logs(&app, &token, "?sort=date:1").await;
    assert_eq!(
        types(&events),
        ["seccft", "sapi", "fcp", "scp", "sapi", "sdu", "sapi"]
    );
    assert_eq!(events[1]["description"], "Create a User");
    assert_eq!(events[1]["client_id"], "backend");
    assert_eq!(events[2]["description"], "password too weak");

    let reader = app
        .management_token_for("reader", "another-long-secret")
        .await;
    let (status, body) = app.get("/api/v2/logs", Some(&reader)).await;
    assert_eq!(
        (status, &body["errorCode"]),
        (StatusCode::FORBIDDEN, &json!("insufficient_scope"))
    );
}
