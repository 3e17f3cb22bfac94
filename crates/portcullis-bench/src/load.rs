//! The load generator: concurrent clients for a duration, with latency percentiles.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::PASSWORD;

/// Sign-ups with fresh e-mails from `concurrency` clients for `duration`.
pub(crate) async fn signups(
    http: &reqwest::Client,
    base: &str,
    concurrency: usize,
    duration: Duration,
) -> LoadResult {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let http = http.clone();
    let url = format!("{base}/dbconnections/signup");
    let run = std::process::id();
    load(concurrency, duration, move || {
        let http = http.clone();
        let url = url.clone();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        async move {
            let body = json!({"client_id": "bench", "connection": "db",
                              "email": format!("signup-{run}-{n}@example.com"), "password": "Sign-Up-Password-42"});
            http.post(url).json(&body).send().await.map(|r| r.status().is_success()).unwrap_or(false)
        }
    })
    .await
}

/// The access and refresh tokens of `username` (password `PASSWORD`) from the bench client's
/// password-realm grant; `scope` must hold `offline_access`.
pub(crate) async fn login_tokens(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    scope: &str,
) -> anyhow::Result<(String, String)> {
    let tokens: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm",
            ),
            ("client_id", "bench"),
            ("realm", "db"),
            ("username", username),
            ("password", PASSWORD),
            ("scope", scope),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = |name: &str| {
        tokens[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no {name} in {tokens}"))
    };
    Ok((token("access_token")?, token("refresh_token")?))
}

/// `GET url` (with a bearer token when given) from `concurrency` clients for `duration`; a
/// request counts when it answers 2xx with its whole body.
pub(crate) async fn get_load(
    http: &reqwest::Client,
    url: String,
    bearer: Option<String>,
    concurrency: usize,
    duration: Duration,
) -> LoadResult {
    let http = http.clone();
    load(concurrency, duration, move || {
        let mut request = http.get(url.clone());
        if let Some(token) = &bearer {
            request = request.bearer_auth(token);
        }
        async move {
            match request.send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await
}

/// `POST url` with the same form from `concurrency` clients for `duration`; a request counts
/// when it answers 2xx with its whole body.
pub(crate) async fn form_load(
    http: &reqwest::Client,
    url: String,
    form: Vec<(&'static str, String)>,
    concurrency: usize,
    duration: Duration,
) -> LoadResult {
    let http = http.clone();
    load(concurrency, duration, move || {
        let request = http.post(url.clone()).form(&form);
        async move {
            match request.send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await
}

pub(crate) struct LoadResult {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
}

impl LoadResult {
    pub(crate) fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
    }
}

/// Runs `request` from `concurrency` tasks for `duration`; successful requests are timed.
pub(crate) async fn load<F, Fut>(concurrency: usize, duration: Duration, request: F) -> LoadResult
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if request().await {
                        latencies.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut result = LoadResult {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        if let Ok((latencies, errors)) = task.await {
            result.latencies.extend(latencies);
            result.errors += errors;
        }
    }
    result.elapsed = started.elapsed();
    result
}
