//! What operators probe: liveness (`/health`, and Auth0's `/testall`), readiness
//! (`/health/ready`: the store answers), and Prometheus metrics (`/metrics`): requests by
//! route and status with their latency, and the domain's counters.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::AppState;

/// Latency buckets (seconds): sub-millisecond endpoints up to password hashing under load.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static METRICS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often the recorder folds recorded latencies into its histogram buckets.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process's Prometheus recorder, installed on first use (one per process, shared by
/// every router of it).
///
/// A recorder made by `build_recorder` keeps every histogram sample in a queue until its
/// upkeep folds the queue into buckets; a scrape does that too, but a server nobody scrapes
/// would keep one sample per request forever (≈ 13 bytes a request, measured by the soak).
/// So a thread of its own runs the upkeep, whatever runtime serves the requests.
fn metrics_handle() -> Option<&'static PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("portcullis_hash_wait_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            let upkept = handle.clone();
            let upkeep = std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(METRICS_UPKEEP_INTERVAL);
                        upkept.run_upkeep();
                    }
                });
            if let Err(error) = upkeep {
                tracing::warn!(%error, "no metrics upkeep thread: only scrapes will drain latency samples");
            }
            Some(handle)
        })
        .as_ref()
}

/// Installs the recorder before the first request, so counters from the start are kept.
pub fn install_metrics() {
    let _ = metrics_handle();
}

/// The method as a metrics label: the standard methods by name, anything else as `other`,
/// so that invented methods cannot grow the label set (and the process's memory) without end.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counts each request by method, route (the pattern, never the raw path) and status, and
/// records its latency.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` in Prometheus' text format.
pub async fn metrics(State(app): State<AppState>) -> Response {
    // Sampled when scraped: password hashes waiting for a hashing thread.
    metrics::gauge!("portcullis_hash_queue_depth").set(app.tenant.hasher.queue_depth() as f64);
    // And the database pool's connections in use and idle.
    if let Some((open, idle)) = app.tenant.store.pool_usage() {
        let busy = open.saturating_sub(idle);
        metrics::gauge!("portcullis_db_pool_connections", "state" => "busy").set(f64::from(busy));
        metrics::gauge!("portcullis_db_pool_connections", "state" => "idle").set(f64::from(idle));
    }
    match metrics_handle() {
        Some(handle) => {
            let mut response = handle.render().into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// `GET /health`: the process serves.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /testall`: Auth0's status endpoint, plain `OK`.
pub async fn testall() -> &'static str {
    "OK"
}

/// `GET /health/ready`: the store answers, so logins can work.
pub async fn ready(State(app): State<AppState>) -> Response {
    match app.tenant.store.setting("readiness").await {
        Ok(_) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "reason": "the database does not answer"})),
            )
                .into_response()
        }
    }
}

/// The OpenAPI document of every endpoint, as kept in the repository (`docs/openapi.json`);
/// a test checks it against the router.
const OPENAPI_DOCUMENT: &str = include_str!("../../../docs/openapi.json");

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_DOCUMENT,
    )
        .into_response()
}
