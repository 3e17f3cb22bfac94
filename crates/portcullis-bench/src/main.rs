//! Load benchmarks against a real Portcullis process (see BENCHMARKS.md).
//!
//! Measures, in one run on one machine: the raw argon2id rate of all cores (the ceiling for
//! password logins), password-login throughput through `/oauth/token`, requests/s and latency
//! percentiles of `/.well-known/jwks.json` and `/userinfo` at a given concurrency, and the
//! server's resident memory idle and after load.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

mod endpoints;
mod load;
mod scale;
mod sections;
mod server;
mod simulator;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;

use load::*;
use sections::*;
use server::*;

#[derive(Parser)]
#[command(about = "Portcullis load benchmarks")]
pub(crate) struct Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u64,
    /// Concurrent connections for the measurements of endpoints that are not a hash
    /// (comma-separated: each is measured).
    #[arg(long, value_delimiter = ',', default_values_t = [64, 512])]
    pub(crate) connections: Vec<usize>,
    /// Alternating raw-hash / login rounds for the login measurement.
    #[arg(long, default_value_t = 5)]
    pub(crate) rounds: usize,
    /// PostgreSQL URL; the embedded SQLite store when absent.
    #[arg(long)]
    pub(crate) database_url: Option<String>,
    /// The server binary; by default `portcullis` next to this one.
    #[arg(long)]
    pub(crate) server: Option<PathBuf>,
    /// Only the Actions measurement (section 6).
    #[arg(long)]
    pub(crate) only_actions: bool,
    /// Only the user-enumeration timing comparison (section 7).
    #[arg(long)]
    pub(crate) only_enumeration: bool,
    /// Logins of each kind in the enumeration comparison.
    #[arg(long, default_value_t = 1000)]
    pub(crate) tries: usize,
    /// Only sign-ups with breached-password detection off and on (section 5).
    #[arg(long)]
    pub(crate) only_signup: bool,
    /// Only the scale comparison: latencies with 1,000 users and with `--users` (section 8).
    #[arg(long)]
    pub(crate) only_scale: bool,
    /// Users in the large database of the scale comparison.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) users: u64,
    /// Only the start-up time (section 9).
    #[arg(long)]
    pub(crate) only_cold_start: bool,
    /// Only the soak: mixed load for `--soak-seconds`, memory sampled (section 10).
    #[arg(long)]
    pub(crate) only_soak: bool,
    #[arg(long, default_value_t = 600)]
    pub(crate) soak_seconds: u64,
    /// Only the side-by-side run against @simulacrum/auth0-simulator (section 11).
    #[arg(long)]
    pub(crate) only_simulator: bool,
}

pub(crate) const PASSWORD: &str = "Bench-Password-42";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let duration = Duration::from_secs(args.seconds);

    println!("machine: {cores} cores; {} s per measurement", args.seconds);
    if args.only_actions {
        return actions(&args, cores, duration).await;
    }
    if args.only_enumeration {
        return enumeration(&args).await;
    }
    if args.only_signup {
        let http = reqwest::Client::new();
        return breach_signups(&args, &http, cores, duration / 2).await;
    }
    if args.only_scale {
        return scale::million_users(&args).await;
    }
    if args.only_cold_start {
        return scale::cold_start(&args).await;
    }
    if args.only_soak {
        return scale::soak(&args).await;
    }
    if args.only_simulator {
        return simulator::compare(&args, duration).await;
    }

    // 1. The ceiling: argon2id (the server's parameters) on every core at once.
    let raw_rate = raw_hash_rate(cores, duration);
    println!("raw argon2id rate (all cores): {raw_rate:.1} hashes/s");

    // 2. The server, as an operator runs it.
    let (server, base) = start_server(&args)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;
    wait_until_up(&http, &base).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = server.rss_kib();

    let email = "bench@example.com";
    let signup = http
        .post(format!("{base}/dbconnections/signup"))
        .json(&json!({"client_id": "bench", "connection": "db", "email": email, "password": PASSWORD}))
        .send()
        .await?;
    if !signup.status().is_success() {
        bail!("sign-up failed: {}", signup.text().await?);
    }

    // 3. Password logins, with enough concurrency to keep every core hashing. Shared hosts
    //    drift by 10% and more within a minute, so raw and login runs alternate in rounds and
    //    each login run is compared with the mean of the raw runs around it.
    let login_form = vec![
        (
            "grant_type",
            "http://auth0.com/oauth/grant-type/password-realm".to_owned(),
        ),
        ("client_id", "bench".to_owned()),
        ("realm", "db".to_owned()),
        ("username", email.to_owned()),
        ("password", PASSWORD.to_owned()),
        ("scope", "openid profile email".to_owned()),
    ];
    let round = duration / 2;
    let mut raw_runs = vec![raw_rate];
    let mut ratios = Vec::new();
    let mut last_login = None;
    let (mut server_cpu, mut client_cpu, mut logins) = (0.0, 0.0, 0.0);
    for _ in 0..args.rounds {
        let server_before = server.cpu_seconds().unwrap_or(0.0);
        let client_before = cpu_seconds(std::process::id()).unwrap_or(0.0);
        let login = {
            let http = http.clone();
            let url = format!("{base}/oauth/token");
            let form = login_form.clone();
            load(cores * 4, round, move || {
                let http = http.clone();
                let url = url.clone();
                let form = form.clone();
                async move {
                    http.post(url)
                        .form(&form)
                        .send()
                        .await
                        .map(|r| r.status().is_success())
                        .unwrap_or(false)
                }
            })
            .await
        };
        server_cpu += server.cpu_seconds().unwrap_or(0.0) - server_before;
        client_cpu += cpu_seconds(std::process::id()).unwrap_or(0.0) - client_before;
        logins += login.latencies.len() as f64;
        let raw_after = raw_hash_rate(cores, round);
        let around = (raw_runs[raw_runs.len() - 1] + raw_after) / 2.0;
        raw_runs.push(raw_after);
        println!(
            "  round: login {:.1}/s, raw around it {:.1}/s -> {:.3}",
            login.rate(),
            around,
            login.rate() / around
        );
        ratios.push(login.rate() / around);
        last_login = Some(login);
    }
    let login = last_login.context("no login round ran")?;
    ratios.sort_by(f64::total_cmp);
    let median_ratio = ratios[ratios.len() / 2];
    let mean_raw = raw_runs.iter().sum::<f64>() / raw_runs.len() as f64;
    println!(
        "CPU per login: server {:.2} ms (one hash alone: {:.2} ms), load generator {:.2} ms",
        server_cpu * 1000.0 / logins,
        cores as f64 * 1000.0 / mean_raw,
        client_cpu * 1000.0 / logins
    );
    println!(
        "password login: {:.1} logins/s (last round p50 {:.1} ms, p99 {:.1} ms, errors {}); median of {} rounds = {:.2} of the raw hash rate",
        logins / (round.as_secs_f64() * args.rounds as f64),
        login.percentile_ms(50.0),
        login.percentile_ms(99.0),
        login.errors,
        args.rounds,
        median_ratio
    );

    // 3b. Failed logins with brute-force protection on (the default): every failure is an
    //     unknown identifier (the dummy hash), an atomic counter upsert and a log event. It
    //     must stay hash-bound. (The bench tenant allowlists loopback for suspicious-IP
    //     throttling, which would otherwise stop one address after 100 failures.)
    let failed = {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let http = http.clone();
        let url = format!("{base}/oauth/token");
        load(cores * 4, duration, move || {
            let http = http.clone();
            let url = url.clone();
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            async move {
                let form = [
                    (
                        "grant_type",
                        "http://auth0.com/oauth/grant-type/password-realm".to_owned(),
                    ),
                    ("client_id", "bench".to_owned()),
                    ("realm", "db".to_owned()),
                    ("username", format!("nobody-{n}@example.com")),
                    ("password", "Wrong-Password-1".to_owned()),
                ];
                http.post(url)
                    .form(&form)
                    .send()
                    .await
                    .map(|r| r.status() == reqwest::StatusCode::FORBIDDEN)
                    .unwrap_or(false)
            }
        })
        .await
    };
    let raw_now = raw_hash_rate(cores, round);
    println!(
        "failed logins (brute-force protection on): {:.1}/s, p50 {:.1} ms, p99 {:.1} ms, errors {} = {:.2} of the raw hash rate ({raw_now:.1}/s right after)",
        failed.rate(),
        failed.percentile_ms(50.0),
        failed.percentile_ms(99.0),
        failed.errors,
        failed.rate() / raw_now
    );

    // 4. Endpoints that are not a password hash, at each concurrency: they must be cheap.
    let loaded_rss = endpoints::measure(&args, &http, &base, &server, duration).await?;
    let mib = |k: Option<u64>| {
        k.map_or("n/a".to_owned(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    println!(
        "server memory (RSS): idle {}, under load at {} connections {}",
        mib(idle_rss),
        args.connections.iter().max().copied().unwrap_or(0),
        mib(loaded_rss)
    );
    drop(server);

    breach_signups(&args, &http, cores, round).await?;
    actions(&args, cores, duration).await?;
    scale::cold_start(&args).await?;
    enumeration(&args).await
}
