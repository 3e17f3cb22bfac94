//! 4. Endpoints that are not a password hash — the JWKS, discovery, `/userinfo` and the
//!    refresh-token grant — requests/s and latency at each `--connections`.

use std::time::Duration;

use super::{Args, Server, form_load, get_load, login_tokens};

/// Measures every endpoint at every concurrency; the server's RSS right after the highest.
pub(super) async fn measure(
    args: &Args,
    http: &reqwest::Client,
    base: &str,
    server: &Server,
    duration: Duration,
) -> anyhow::Result<Option<u64>> {
    let (access_token, refresh_token) = login_tokens(
        http,
        base,
        "bench@example.com",
        "openid profile email offline_access",
    )
    .await?;

    let mut connections = args.connections.clone();
    connections.sort_unstable();
    let mut loaded_rss = None;
    for &concurrency in &connections {
        for endpoint in [
            "/.well-known/jwks.json",
            "/.well-known/openid-configuration",
        ] {
            let url = format!("{base}{endpoint}");
            let result = get_load(http, url, None, concurrency, duration).await;
            report(endpoint, concurrency, &result);
        }
        let url = format!("{base}/userinfo");
        let bearer = Some(access_token.clone());
        let result = get_load(http, url, bearer, concurrency, duration).await;
        report("/userinfo", concurrency, &result);
        // A non-rotating refresh token: each exchange reads the token and the user and signs
        // a new ID token (RS256) and an access token.
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", "bench".to_owned()),
            ("refresh_token", refresh_token.clone()),
        ];
        let url = format!("{base}/oauth/token");
        let result = form_load(http, url, form, concurrency, duration).await;
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
