//! 4. Endpoints that are not a password hash — the JWKS, discovery, `/userinfo` and the
//!    refresh-token grant — requests/s and latency at each `--connections`.

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::{Args, PASSWORD, Server, load};

/// Measures every endpoint at every concurrency; the server's RSS right after the highest.
pub(super) async fn measure(
    args: &Args,
    http: &reqwest::Client,
    base: &str,
    server: &Server,
    duration: Duration,
) -> anyhow::Result<Option<u64>> {
    let tokens: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm",
            ),
            ("client_id", "bench"),
            ("realm", "db"),
            ("username", "bench@example.com"),
            ("password", PASSWORD),
            ("scope", "openid profile email offline_access"),
        ])
        .send()
        .await?
        .json()
        .await?;
    let access_token = tokens["access_token"]
        .as_str()
        .context("no access token")?
        .to_owned();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .context("no refresh token")?
        .to_owned();

    let mut connections = args.connections.clone();
    connections.sort_unstable();
    let mut loaded_rss = None;
    for &concurrency in &connections {
        for endpoint in [
            "/.well-known/jwks.json",
            "/.well-known/openid-configuration",
        ] {
            let url = format!("{base}{endpoint}");
            let http = http.clone();
            let result = load(concurrency, duration, move || {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    match http.get(url).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    }
                }
            })
            .await;
            report(endpoint, concurrency, &result);
        }
        let result = {
            let url = format!("{base}/userinfo");
            let (http, token) = (http.clone(), access_token.clone());
            load(concurrency, duration, move || {
                let (http, url, token) = (http.clone(), url.clone(), token.clone());
                async move {
                    match http.get(url).bearer_auth(token).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    }
                }
            })
            .await
        };
        report("/userinfo", concurrency, &result);
        // A non-rotating refresh token: each exchange reads the token and the user and signs
        // a new ID token (RS256) and an access token.
        let result = {
            let url = format!("{base}/oauth/token");
            let (http, token) = (http.clone(), refresh_token.clone());
            load(concurrency, duration, move || {
                let (http, url, token) = (http.clone(), url.clone(), token.clone());
                async move {
                    let form = [
                        ("grant_type", "refresh_token"),
                        ("client_id", "bench"),
                        ("refresh_token", token.as_str()),
                    ];
                    match http.post(url).form(&form).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    }
                }
            })
            .await
        };
        report("refresh_token grant", concurrency, &result);
        loaded_rss = server.rss_kib();
    }
    Ok(loaded_rss)
}

fn report(name: &str, concurrency: usize, result: &super::LoadResult) {
    println!(
        "{name} at {concurrency} connections: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        result.rate(),
        result.percentile_ms(50.0),
        result.percentile_ms(99.0),
        result.errors
    );
}
