//! 8. Scale: login, sign-up and Management API search latency with 1,000 users and with a
//!    million (`--users`), the large database made by `portcullis user seed`.
//! 9. Cold start: from process start to a served `/health`, on a new data folder (schema and
//!    first signing key created) and on an existing one.
//! 10. Soak: mixed load for `--soak-seconds`, the server's memory sampled as it runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::{Args, BenchTenant, LoadResult, PASSWORD, load, login_tokens, wait_until_up};

const SMALL: u64 = 1_000;
const SAMPLES: usize = 300;

fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99))
}

/// Times `samples` requests to each of two servers, made one at a time and alternating
/// between them (after a few to warm up), so that the host's drift falls on both alike:
/// `request(i, server)`.
async fn alternating<F, Fut>(samples: usize, request: F) -> anyhow::Result<[(f64, f64); 2]>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for i in 0..10 {
        request(samples + i, 0).await?;
        request(samples + i, 1).await?;
    }
    let mut times = [Vec::with_capacity(samples), Vec::with_capacity(samples)];
    for i in 0..samples {
        for (server, times) in times.iter_mut().enumerate() {
            let started = Instant::now();
            request(i, server).await?;
            times.push(started.elapsed());
        }
    }
    let [small, large] = times;
    Ok([percentiles(small), percentiles(large)])
}

async fn management_token(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let body: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "bench-admin"),
            ("client_secret", "bench-admin-secret"),
            ("audience", &format!("{base}/api/v2/")),
        ])
        .send()
        .await?
        .json()
        .await?;
    Ok(body["access_token"]
        .as_str()
        .context("no management token")?
        .to_owned())
}

async fn expect_ok(response: reqwest::Response, what: &str) -> anyhow::Result<()> {
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        bail!("{what}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}

type Row = (&'static str, [(f64, f64); 2]);

/// Latencies of each operation on the two servers (`bases[i]` holds `users[i]` users).
async fn latencies(
    http: &reqwest::Client,
    bases: [&str; 2],
    users: [u64; 2],
) -> anyhow::Result<Vec<Row>> {
    let tokens = [
        management_token(http, bases[0]).await?,
        management_token(http, bases[1]).await?,
    ];
    let tokens = &tokens;
    // Spread over the whole database: user numbers drawn across it.
    let pick = |i: usize, server: usize| (i as u64).wrapping_mul(2_654_435_761) % users[server];
    let login = alternating(SAMPLES, |i, server| async move {
        let form = [
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm".to_owned(),
            ),
            ("client_id", "bench".to_owned()),
            ("realm", "db".to_owned()),
            ("username", format!("user{}@example.com", pick(i, server))),
            ("password", PASSWORD.to_owned()),
        ];
        expect_ok(
            http.post(format!("{}/oauth/token", bases[server]))
                .form(&form)
                .send()
                .await?,
            "login",
        )
        .await
    })
    .await?;
    let signup = alternating(SAMPLES, |i, server| async move {
        let body = json!({"client_id": "bench", "connection": "db",
            "email": format!("new-{i}@example.com"), "password": PASSWORD});
        expect_ok(
            http.post(format!("{}/dbconnections/signup", bases[server]))
                .json(&body)
                .send()
                .await?,
            "sign-up",
        )
        .await
    })
    .await?;
    // A Management API read of `path` with `query` on `server`.
    let read = |server: usize, path: &'static str, query: Vec<(&'static str, String)>| async move {
        let request = http
            .get(format!("{}{path}", bases[server]))
            .query(&query)
            .bearer_auth(&tokens[server]);
        expect_ok(request.send().await?, path).await
    };
    let search = alternating(SAMPLES, |i, server| {
        let q = format!("email:\"user{}@example.com\"", pick(i, server));
        read(
            server,
            "/api/v2/users",
            vec![("q", q), ("search_engine", "v3".to_owned())],
        )
    })
    .await?;
    let by_email = alternating(SAMPLES, |i, server| {
        let email = format!("user{}@example.com", pick(i, server));
        read(server, "/api/v2/users-by-email", vec![("email", email)])
    })
    .await?;
    // Auth0 pages through the first 1,000 results: pages 0–19 of 50.
    let page = alternating(SAMPLES, |i, server| {
        let query = vec![
            ("per_page", "50".to_owned()),
            ("page", (i % 20).to_string()),
        ];
        read(server, "/api/v2/users", query)
    })
    .await?;
    Ok(vec![
        ("password login (one argon2id hash)", login),
        ("sign-up (one argon2id hash)", signup),
        ("GET /api/v2/users?q=email:\"…\"", search),
        ("GET /api/v2/users-by-email", by_email),
        ("GET /api/v2/users?per_page=50&page=0…19", page),
    ])
}

pub(super) async fn million_users(args: &Args) -> anyhow::Result<()> {
    let small = BenchTenant::prepare(args, "scale-small", "")?;
    let large = BenchTenant::prepare(args, "scale-large", "")?;
    let http = reqwest::Client::new();
    let seed = |tenant: &BenchTenant, count: u64| {
        tenant.command(&[
            "user",
            "seed",
            "--connection",
            "db",
            "--count",
            &count.to_string(),
            "--email",
            "user{n}@example.com",
            "--password",
            PASSWORD,
        ])
    };
    print!("seeding {SMALL} users: {}", seed(&small, SMALL)?);
    let started = Instant::now();
    print!(
        "seeding {} users: {}",
        args.users,
        seed(&large, args.users)?
    );
    let seeding = started.elapsed();
    let small_server = small.start()?;
    let large_server = large.start()?;
    wait_until_up(&http, &small.base).await?;
    wait_until_up(&http, &large.base).await?;
    let rows = latencies(&http, [&small.base, &large.base], [SMALL, args.users]).await?;
    drop((small_server, large_server));

    println!(
        "seeded {} users in {:.1} s ({:.0} users/s)",
        args.users,
        seeding.as_secs_f64(),
        args.users as f64 / seeding.as_secs_f64()
    );
    println!(
        "| operation ({SAMPLES} requests each, alternating between the servers) | {SMALL} users p50 / p99 | {} users p50 / p99 |",
        args.users
    );
    println!("|---|---|---|");
    for (name, [(s50, s99), (l50, l99)]) in &rows {
        println!("| {name} | {s50:.2} / {s99:.2} ms | {l50:.2} / {l99:.2} ms |");
    }
    Ok(())
}

pub(super) async fn cold_start(args: &Args) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let (mut fresh, mut existing) = (Vec::new(), Vec::new());
    for round in 0..3 {
        let tenant = BenchTenant::prepare(args, &format!("cold-{round}"), "")?;
        for times in [&mut fresh, &mut existing] {
            let started = Instant::now();
            let server = tenant.start()?;
            loop {
                if let Ok(r) = http.get(format!("{}/health", tenant.base)).send().await
                    && r.status().is_success()
                {
                    break;
                }
                if started.elapsed() > Duration::from_secs(30) {
                    bail!("the server did not start");
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            times.push(started.elapsed());
            drop(server);
        }
    }
    let (fresh, _) = percentiles(fresh);
    let (existing, _) = percentiles(existing);
    println!(
        "cold start to a served /health (median of 3): new data folder {fresh:.0} ms (schema and first signing key created), existing data folder {existing:.0} ms"
    );
    Ok(())
}

pub(super) async fn soak(args: &Args) -> anyhow::Result<()> {
    let tenant = BenchTenant::prepare(args, "soak", "")?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;
    print!(
        "seeding {SMALL} users: {}",
        tenant.command(&[
            "user",
            "seed",
            "--connection",
            "db",
            "--count",
            &SMALL.to_string(),
            "--email",
            "user{n}@example.com",
            "--password",
            PASSWORD,
        ])?
    );
    let server = tenant.start()?;
    wait_until_up(&http, &tenant.base).await?;
    let base = tenant.base.clone();
    let (access, refresh) =
        login_tokens(&http, &base, "user0@example.com", "openid offline_access").await?;

    // The mix, per 20 requests: 6 logins (3 right, 2 wrong passwords, 1 unknown user),
    // 1 sign-up, 6 userinfo, 3 JWKS, 2 discovery, 2 refreshes.
    let counter = Arc::new(AtomicU64::new(0));
    let mix = {
        let (http, base, counter) = (http.clone(), base.clone(), counter.clone());
        move || {
            let (http, base) = (http.clone(), base.clone());
            let (access, refresh) = (access.clone(), refresh.clone());
            let n = counter.fetch_add(1, Ordering::Relaxed);
            async move {
                let login = |username: String, password: &str, expect: u16| {
                    let form = [
                        (
                            "grant_type",
                            "http://auth0.com/oauth/grant-type/password-realm".to_owned(),
                        ),
                        ("client_id", "bench".to_owned()),
                        ("realm", "db".to_owned()),
                        ("username", username),
                        ("password", password.to_owned()),
                    ];
                    let request = http.post(format!("{base}/oauth/token")).form(&form);
                    async move {
                        request
                            .send()
                            .await
                            .is_ok_and(|r| r.status().as_u16() == expect)
                    }
                };
                let get = |path: &str, bearer: Option<&str>| {
                    let mut request = http.get(format!("{base}{path}"));
                    if let Some(token) = bearer {
                        request = request.bearer_auth(token);
                    }
                    async move {
                        match request.send().await {
                            Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                            Err(_) => false,
                        }
                    }
                };
                let user = format!("user{}@example.com", n % SMALL);
                match n % 20 {
                    0..=2 => login(user, PASSWORD, 200).await,
                    // Wrong passwords for the user the group of 20 logged in first: brute-force
                    // protection counts two, and that user's next success clears them.
                    3 | 4 => {
                        let user = format!("user{}@example.com", (n - n % 20) % SMALL);
                        login(user, "Wrong-Password-1", 403).await
                    }
                    5 => login(format!("nobody-{n}@example.com"), PASSWORD, 403).await,
                    6 => {
                        let body = json!({"client_id": "bench", "connection": "db",
                            "email": format!("soak-{n}@example.com"), "password": PASSWORD});
                        http.post(format!("{base}/dbconnections/signup"))
                            .json(&body)
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success())
                    }
                    7..=12 => get("/userinfo", Some(&access)).await,
                    13..=15 => get("/.well-known/jwks.json", None).await,
                    16 | 17 => get("/.well-known/openid-configuration", None).await,
                    _ => {
                        let form = [
                            ("grant_type", "refresh_token"),
                            ("client_id", "bench"),
                            ("refresh_token", refresh.as_str()),
                        ];
                        http.post(format!("{base}/oauth/token"))
                            .form(&form)
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success())
                    }
                }
            }
        }
    };
    let total = Duration::from_secs(args.soak_seconds);
    let slice = Duration::from_secs(60).min(total);
    let started = Instant::now();
    let mut slices: Vec<(f64, LoadResult, Option<u64>)> = Vec::new();
    while started.elapsed() < total {
        let result = load(32, slice, mix.clone()).await;
        slices.push((started.elapsed().as_secs_f64(), result, server.rss_kib()));
    }
    drop(server);
    println!("| minute | requests/s | p50 | p99 | errors | server RSS |");
    println!("|---|---|---|---|---|---|");
    let mut errors = 0;
    for (at, result, rss) in &slices {
        errors += result.errors;
        println!(
            "| {:.0} | {:.0} | {:.1} ms | {:.1} ms | {} | {} |",
            at / 60.0,
            result.rate(),
            result.percentile_ms(50.0),
            result.percentile_ms(99.0),
            result.errors,
            rss.map_or("n/a".to_owned(), |k| format!(
                "{:.1} MiB",
                k as f64 / 1024.0
            ))
        );
    }
    println!(
        "soak: {} requests in {:.0} s, {errors} errors",
        counter.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    // Flat memory is judged on the second half, once caches have had time to fill: the
    // least-squares slope of RSS against time, in MiB a minute.
    let second_half: Vec<(f64, f64)> = slices
        .iter()
        .skip(slices.len() / 2)
        .filter_map(|(at, _, rss)| rss.map(|k| (at / 60.0, k as f64 / 1024.0)))
        .collect();
    if let Some(slope) = least_squares_slope(&second_half) {
        println!("soak: RSS slope over the second half {slope:+.3} MiB/min");
    }
    Ok(())
}

/// The slope of the least-squares line through `points`, if there are two distinct x.
fn least_squares_slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (points.len() >= 2 && sxx > 0.0).then(|| sxy / sxx)
}
