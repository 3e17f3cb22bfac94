//! What operators probe: liveness, readiness, Auth0's /testall and Prometheus metrics.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DB, STRONG, TestApp, unique};

async fn text(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = reqwest::get(format!("{}{path}", app.base))
        .await
        .expect("get");
    (response.status(), response.text().await.expect("text"))
}

#[tokio::test]
async fn health_readiness_and_testall() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get("/health", None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        app.get("/health/ready", None).await,
        (StatusCode::OK, json!({"status": "ready"}))
    );
    assert_eq!(
        text(&app, "/testall").await,
        (StatusCode::OK, "OK".to_owned())
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_logins_by_outcome() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("metrics-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);
    assert_eq!(
        app.login(&email, "Wrong-Password-1").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = text(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "http_requests_total{method=\"POST\",route=\"/oauth/token\",status=\"200\"}",
        "http_requests_total{method=\"POST\",route=\"/dbconnections/signup\",status=\"200\"}",
        "http_request_duration_seconds_bucket{method=\"POST\",route=\"/oauth/token\"",
        "portcullis_logins_total{outcome=\"success\"}",
        "portcullis_logins_total{outcome=\"wrong_credentials\"}",
        "portcullis_hash_queue_depth",
        "portcullis_db_pool_connections{state=\"idle\"}",
    ] {
        assert!(body.contains(expected), "{expected} in\n{body}");
    }
    // Routes are patterns, never raw paths with ids in them.
    let _ = app.get("/api/v2/users/auth0%7Cnobody", None).await;
    let (_, body) = text(&app, "/metrics").await;
    assert!(body.contains("route=\"/api/v2/users/{id}\""), "{body}");
    assert!(!body.contains("nobody"));
}
