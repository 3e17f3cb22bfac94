//! 11. Side by side with `@simulacrum/auth0-simulator` (the npm Auth0 emulator, pinned in
//!     `simulator/`, started by `simulator/start.mjs` over plain HTTP): the same load on the
//!     endpoints both serve, one server at a time on the same machine.
//!
//! The emulator compares passwords as plain strings and keeps everything in memory, so its
//! password grant measures HTTP and token signing, not a password hash; the comparison shows
//! what Portcullis' real work costs next to it, and how the cheap endpoints compare.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use super::{
    Args, LoadResult, PASSWORD, Server, form_load, get_load, start_server_with, wait_until_up,
};

const CONNECTIONS: usize = 64;

fn simulator_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("simulator")
}

/// Installs the pinned emulator (once), starts it on a free port; its base URL.
async fn start_simulator() -> anyhow::Result<(Server, String)> {
    let dir = simulator_dir();
    if !dir.join("node_modules").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .context("npm is needed for the emulator comparison")?;
        if !status.success() {
            bail!("npm ci failed in {}", dir.display());
        }
    }
    let mut child = tokio::process::Command::new("node")
        .args([
            "start.mjs",
            "--port",
            "0",
            "--client-id",
            "bench",
            "--email",
            "bench@example.com",
            "--password",
            PASSWORD,
        ])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("node is needed for the emulator comparison")?;
    let stdout = child.stdout.take().context("emulator output")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("the emulator did not start")??
        .context("the emulator exited")?;
    let base = line
        .strip_prefix("listening ")
        .context("unexpected emulator output")?
        .trim_end_matches('/')
        .to_owned();
    // The output stays open (a closed pipe would stop the emulator at its next line).
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((
        Server::from_tokio(child).context("the emulator exited")?,
        base,
    ))
}

async fn run(
    http: &reqwest::Client,
    base: &str,
    duration: Duration,
) -> anyhow::Result<Vec<(&'static str, LoadResult)>> {
    let tokens: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "bench"),
            ("username", "bench@example.com"),
            ("password", PASSWORD),
            ("scope", "openid profile email"),
        ])
        .send()
        .await?
        .json()
        .await?;
    let access = tokens["access_token"]
        .as_str()
        .context("no access token")?
        .to_owned();
    let mut results = Vec::new();
    for (name, path) in [
        ("GET /.well-known/jwks.json", "/.well-known/jwks.json"),
        (
            "GET /.well-known/openid-configuration",
            "/.well-known/openid-configuration",
        ),
    ] {
        let url = format!("{base}{path}");
        results.push((name, get_load(http, url, None, CONNECTIONS, duration).await));
    }
    let url = format!("{base}/userinfo");
    let userinfo = get_load(http, url, Some(access), CONNECTIONS, duration).await;
    results.push(("GET /userinfo", userinfo));
    let form = vec![
        ("grant_type", "password"),
        ("client_id", "bench"),
        ("username", "bench@example.com"),
        ("password", PASSWORD),
        ("scope", "openid profile email"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    let url = format!("{base}/oauth/token");
    let login = form_load(http, url, form, CONNECTIONS, duration).await;
    results.push(("POST /oauth/token (password grant)", login));
    Ok(results)
}

pub(super) async fn compare(args: &Args, duration: Duration) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;

    let started = Instant::now();
    let (simulator, simulator_base) = start_simulator().await?;
    let simulator_start = started.elapsed();
    let simulator_idle = simulator.rss_kib();
    let theirs = run(&http, &simulator_base, duration).await?;
    let simulator_loaded = simulator.rss_kib();
    drop(simulator);

    // Portcullis with the password grant allowed to the same client, over its default store.
    let started = Instant::now();
    let (server, base) =
        start_server_with(args, "simulator", "[tenant]\ndefault_directory = \"db\"\n")?;
    wait_until_up(&http, &base).await?;
    let server_start = started.elapsed();
    let server_idle = server.rss_kib();
    let signup = http
        .post(format!("{base}/dbconnections/signup"))
        .json(
            &serde_json::json!({"client_id": "bench", "connection": "db",
            "email": "bench@example.com", "password": PASSWORD}),
        )
        .send()
        .await?;
    if !signup.status().is_success() {
        bail!("sign-up failed: {}", signup.text().await?);
    }
    let ours = run(&http, &base, duration).await?;
    let server_loaded = server.rss_kib();
    drop(server);

    let mib = |k: Option<u64>| {
        k.map_or("n/a".to_owned(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    println!(
        "| at {CONNECTIONS} connections | Portcullis req/s (p50 / p99) | auth0-simulator 0.11.4 req/s (p50 / p99) |"
    );
    println!("|---|---|---|");
    for ((name, ours), (_, theirs)) in ours.iter().zip(&theirs) {
        let cell = |r: &LoadResult| {
            format!(
                "{:.0} ({:.2} / {:.2} ms){}",
                r.rate(),
                r.percentile_ms(50.0),
                r.percentile_ms(99.0),
                if r.errors > 0 {
                    format!(", {} errors", r.errors)
                } else {
                    String::new()
                }
            )
        };
        println!("| {name} | {} | {} |", cell(ours), cell(theirs));
    }
    println!(
        "| start to first answer | {:.0} ms | {:.0} ms |",
        server_start.as_secs_f64() * 1e3,
        simulator_start.as_secs_f64() * 1e3
    );
    println!(
        "| resident memory idle / after load | {} / {} | {} / {} |",
        mib(server_idle),
        mib(server_loaded),
        mib(simulator_idle),
        mib(simulator_loaded)
    );
    Ok(())
}
