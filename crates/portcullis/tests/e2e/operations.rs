//! What operators probe: liveness, readiness, Auth0's /testall and Prometheus metrics.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, DB, STRONG, TestApp, free_port, unique};

async fn text(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = reqwest::get(format!("{}{path}", app.base))
        .await
        .expect("get");
    (response.status(), response.text().await.expect("text"))
}

#[tokio::test]
async fn with_an_operations_address_metrics_leave_the_public_listener() {
    let port = free_port();
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        &format!("operations_listen = \"127.0.0.1:{port}\""),
        "",
    )
    .await;
    let (status, _) = text(&app, "/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let operations = format!("http://127.0.0.1:{port}");
    let response = reqwest::get(format!("{operations}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("text")
            .contains("portcullis_hash_queue_depth")
    );
    for probe in ["/health", "/health/ready"] {
        for base in [&app.base, &operations] {
            let status = reqwest::get(format!("{base}{probe}"))
                .await
                .expect("probe")
                .status();
            assert_eq!(status, StatusCode::OK, "{base}{probe}");
        }
    }
    // Nothing else is served there.
    let status = reqwest::get(format!("{operations}/.well-known/jwks.json"))
        .await
        .expect("jwks")
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
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
        "portcullis_hash_wait_seconds_bucket{le=\"0.001\"}",
        "portcullis_db_pool_connections{state=\"idle\"}",
    ] {
        assert!(body.contains(expected), "{expected} in\n{body}");
    }
    // Routes are patterns, never raw paths with ids in them.
    let _ = app.get("/api/v2/users/auth0%7Cnobody", None).await;
    let (_, body) = text(&app, "/metrics").await;
    assert!(body.contains("route=\"/api/v2/users/{id}\""), "{body}");
    assert!(!body.contains("nobody"));
    // Invented methods, without credentials, add no labels: one "other" for all of them.
    let http = reqwest::Client::new();
    for i in 0..40 {
        let method =
            reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).expect("method");
        let _ = http
            .request(method, format!("{}/health", app.base))
            .send()
            .await
            .expect("send");
    }
    let (_, body) = text(&app, "/metrics").await;
    assert!(!body.contains("INVENTED"), "{body}");
    assert!(body.contains("method=\"other\""), "{body}");
}

/// Latency samples wait in the recorder until its upkeep folds them into buckets; without a
/// scrape, only the upkeep thread keeps that queue from growing by one sample per request
/// (the soak in BENCHMARKS.md measured what its absence costs).
#[tokio::test]
async fn a_thread_folds_latency_samples_without_a_scrape() {
    let _app = TestApp::spawn().await;
    let threads: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect();
    assert!(
        threads.iter().any(|name| name == "metrics-upkeep"),
        "{threads:?}"
    );
}

/// The OpenAPI document served at `/openapi.json` is the repository's `docs/openapi.json`, and
/// it describes exactly what the router routes: every path, and on each path exactly the
/// methods that do not answer 405.
#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let app = TestApp::spawn().await;
    let (status, served) = app.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let kept: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/openapi.json"))
            .expect("docs/openapi.json is JSON");
    assert_eq!(served, kept, "the served document is the repository's");

    let documented: std::collections::BTreeSet<String> = kept["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let routed: std::collections::BTreeSet<String> = portcullis_http::routed_paths()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        routed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "routed but not documented"
    );
    assert_eq!(
        documented.difference(&routed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "documented but not routed"
    );

    // Discovery advertises only endpoints that are served.
    let (_, discovery) = app.get("/.well-known/openid-configuration", None).await;
    for (name, url) in discovery.as_object().expect("discovery") {
        if let Some(path) = url
            .as_str()
            .filter(|_| name.ends_with("_endpoint") || name == "jwks_uri")
            .and_then(|u| u.strip_prefix(app.base.as_str()))
        {
            assert!(routed.contains(path), "{name} {path} is not served");
        }
    }

    for (path, operations) in kept["paths"].as_object().expect("paths") {
        // Parameters filled with a value no record has: handlers answer 4xx, never 405.
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "none"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            let documented = operations.get(method).is_some();
            let response = app
                .http
                .request(
                    method.to_uppercase().parse().expect("method"),
                    format!("{}{concrete}", app.base),
                )
                .send()
                .await
                .expect("send");
            let routed = response.status() != StatusCode::METHOD_NOT_ALLOWED;
            assert_eq!(
                routed,
                documented,
                "{} {path}: routed {routed}, documented {documented}",
                method.to_uppercase()
            );
        }
    }
}

#[tokio::test]
async fn metrics_count_breached_password_checks_by_stage_and_result() {
    let app = TestApp::spawn_with(
        crate::helpers::Backend::Sqlite,
        "[attack_protection.breached_password_detection]\nenabled = true\nshields = [\"block\"]\n\
         [attack_protection.breached_password_detection.stage.pre-user-registration]\nshields = [\"block\"]\n",
    )
    .await;
    let email = |tag: &str| format!("{}@example.com", unique(tag));
    // In the compiled-in corpus, and strong enough for the "good" policy.
    assert_eq!(
        app.signup(DB, &email("leak-"), "Good123654").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.signup(DB, &email("clean-"), STRONG).await.0,
        StatusCode::OK
    );
    let (_, body) = text(&app, "/metrics").await;
    for expected in [
        "portcullis_breached_password_checks_total{stage=\"pre-user-registration\",result=\"breached\"}",
        "portcullis_breached_password_checks_total{stage=\"pre-user-registration\",result=\"clean\"}",
    ] {
        assert!(body.contains(expected), "{expected} in\n{body}");
    }
}
