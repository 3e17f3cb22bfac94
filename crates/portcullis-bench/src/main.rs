//! Load benchmarks against a real Portcullis process (see BENCHMARKS.md).
//!
//! Measures, in one run on one machine: the raw argon2id rate of all cores (the ceiling for
//! password logins), password-login throughput through `/oauth/token`, requests/s and latency
//! percentiles of `/.well-known/jwks.json` and `/userinfo` at a given concurrency, and the
//! server's resident memory idle and after load.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod endpoints;
mod scale;
mod simulator;

use anyhow::{Context, bail};
use clap::Parser;
use portcullis_core::password::hasher::HashMemory;
use serde_json::json;

#[derive(Parser)]
#[command(about = "Portcullis load benchmarks")]
struct Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections for the measurements of endpoints that are not a hash
    /// (comma-separated: each is measured).
    #[arg(long, value_delimiter = ',', default_values_t = [64, 512])]
    connections: Vec<usize>,
    /// Alternating raw-hash / login rounds for the login measurement.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// PostgreSQL URL; the embedded SQLite store when absent.
    #[arg(long)]
    database_url: Option<String>,
    /// The server binary; by default `portcullis` next to this one.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Only the Actions measurement (section 6).
    #[arg(long)]
    only_actions: bool,
    /// Only the user-enumeration timing comparison (section 7).
    #[arg(long)]
    only_enumeration: bool,
    /// Logins of each kind in the enumeration comparison.
    #[arg(long, default_value_t = 1000)]
    tries: usize,
    /// Only sign-ups with breached-password detection off and on (section 5).
    #[arg(long)]
    only_signup: bool,
    /// Only the scale comparison: latencies with 1,000 users and with `--users` (section 8).
    #[arg(long)]
    only_scale: bool,
    /// Users in the large database of the scale comparison.
    #[arg(long, default_value_t = 1_000_000)]
    users: u64,
    /// Only the start-up time (section 9).
    #[arg(long)]
    only_cold_start: bool,
    /// Only the soak: mixed load for `--soak-seconds`, memory sampled (section 10).
    #[arg(long)]
    only_soak: bool,
    #[arg(long, default_value_t = 600)]
    soak_seconds: u64,
    /// Only the side-by-side run against @simulacrum/auth0-simulator (section 11).
    #[arg(long)]
    only_simulator: bool,
}

/// A server process under measurement, killed and reaped when dropped.
struct Server {
    pid: u32,
    process: Process,
}

enum Process {
    Std(Child),
    Tokio(tokio::process::Child),
}

impl Drop for Server {
    fn drop(&mut self) {
        match &mut self.process {
            Process::Std(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            // Started with `kill_on_drop`: tokio reaps it.
            Process::Tokio(child) => {
                let _ = child.start_kill();
            }
        }
    }
}

/// User + system CPU seconds consumed so far by process `pid` (from `/proc/<pid>/stat`).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

impl Server {
    fn new(child: Child) -> Self {
        Self {
            pid: child.id(),
            process: Process::Std(child),
        }
    }

    fn from_tokio(child: tokio::process::Child) -> Option<Self> {
        Some(Self {
            pid: child.id()?,
            process: Process::Tokio(child),
        })
    }

    fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.pid)
    }

    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}

const PASSWORD: &str = "Bench-Password-42";

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

/// 7. No user enumeration by timing: a wrong password for an existing user and any password
///    for an unknown one, one request at a time, interleaved, `--tries` of each; the medians
///    must differ by less than 5 %. Brute-force protection is off here so that every attempt
///    reaches the hash (a blocked identifier answers without one, alike for both kinds).
async fn enumeration(args: &Args) -> anyhow::Result<()> {
    let (server, base) = start_server_with(
        args,
        "enumeration",
        "[attack_protection.brute_force_protection]\nenabled = false\n",
    )?;
    let http = reqwest::Client::new();
    wait_until_up(&http, &base).await?;
    let signup = http
        .post(format!("{base}/dbconnections/signup"))
        .json(&json!({"client_id": "bench", "connection": "db", "email": "known@example.com", "password": PASSWORD}))
        .send()
        .await?;
    if !signup.status().is_success() {
        bail!("sign-up failed: {}", signup.text().await?);
    }
    let attempt = |username: String| {
        let http = http.clone();
        let url = format!("{base}/oauth/token");
        async move {
            let form = [
                (
                    "grant_type",
                    "http://auth0.com/oauth/grant-type/password-realm".to_owned(),
                ),
                ("client_id", "bench".to_owned()),
                ("realm", "db".to_owned()),
                ("username", username),
                ("password", "Wrong-Password-42".to_owned()),
            ];
            let started = Instant::now();
            let response = http.post(url).form(&form).send().await?;
            let status = response.status();
            let body = response.text().await?;
            anyhow::Ok((started.elapsed(), status, body))
        }
    };
    // Warm-up, and the answers must be the same.
    let (_, known_status, known_body) = attempt("known@example.com".to_owned()).await?;
    let (_, unknown_status, unknown_body) = attempt("nobody-0@example.com".to_owned()).await?;
    if (known_status, &known_body) != (unknown_status, &unknown_body) {
        bail!("the answers differ: {known_status} {known_body} / {unknown_status} {unknown_body}");
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for n in 0..args.tries {
        known.push(attempt("known@example.com".to_owned()).await?.0);
        unknown.push(attempt(format!("nobody-{n}@example.com")).await?.0);
    }
    drop(server);
    let percentile = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() - 1) as f64 * p / 100.0).round() as usize].as_secs_f64() * 1e3
    };
    let (k50, u50) = (percentile(&mut known, 50.0), percentile(&mut unknown, 50.0));
    println!(
        "user enumeration by timing, {} logins of each kind, interleaved: existing user with a wrong password p10 {:.2} / p50 {k50:.2} / p90 {:.2} ms; unknown user p10 {:.2} / p50 {u50:.2} / p90 {:.2} ms; medians differ by {:.2} % (target < 5 %)",
        args.tries,
        percentile(&mut known, 10.0),
        percentile(&mut known, 90.0),
        percentile(&mut unknown, 10.0),
        percentile(&mut unknown, 90.0),
        (k50 - u50).abs() / u50.min(k50) * 100.0
    );
    Ok(())
}

/// 5. Sign-up with breached-password detection off and on (the compiled-in corpus), in
///    alternating rounds on two servers: the lookup must cost < 2 % of a sign-up.
async fn breach_signups(
    args: &Args,
    http: &reqwest::Client,
    cores: usize,
    round: Duration,
) -> anyhow::Result<()> {
    let (plain, plain_base) = start_server_with(args, "signup-off", "")?;
    let (guarded, guarded_base) = start_server_with(
        args,
        "signup-on",
        "[attack_protection.breached_password_detection]\nenabled = true\nshields = [\"block\"]\n\
         [attack_protection.breached_password_detection.stage.pre-user-registration]\nshields = [\"block\"]\n",
    )?;
    wait_until_up(http, &plain_base).await?;
    wait_until_up(http, &guarded_base).await?;
    // Warm the guarded server's corpus (built on first use) outside the measurement.
    signups(http, &guarded_base, 1, Duration::from_millis(300)).await;
    // Throughput per round, and the server's own CPU per sign-up (steadier than throughput on
    // a shared host: it does not count the other server's or the load generator's time).
    let (mut ratios, mut cpu_off, mut cpu_on, mut n_off, mut n_on) =
        (Vec::new(), 0.0, 0.0, 0.0, 0.0);
    for _ in 0..args.rounds {
        let before = plain.cpu_seconds().unwrap_or(0.0);
        let off = signups(http, &plain_base, cores * 4, round).await;
        cpu_off += plain.cpu_seconds().unwrap_or(0.0) - before;
        n_off += off.latencies.len() as f64;
        let before = guarded.cpu_seconds().unwrap_or(0.0);
        let on = signups(http, &guarded_base, cores * 4, round).await;
        cpu_on += guarded.cpu_seconds().unwrap_or(0.0) - before;
        n_on += on.latencies.len() as f64;
        println!(
            "  round: sign-up off {:.1}/s, on {:.1}/s",
            off.rate(),
            on.rate()
        );
        ratios.push(on.rate() / off.rate());
    }
    drop((plain, guarded));
    ratios.sort_by(f64::total_cmp);
    let (per_off, per_on) = (cpu_off * 1000.0 / n_off, cpu_on * 1000.0 / n_on);
    println!(
        "sign-up: server CPU per sign-up {per_off:.2} ms with detection off, {per_on:.2} ms on ({:+.2}%); \
         throughput on/off median of {} rounds = {:.3}",
        (per_on - per_off) / per_off * 100.0,
        args.rounds,
        ratios[ratios.len() / 2]
    );
    Ok(())
}

/// The trivial post-login Action of the Actions measurement.
const TRIVIAL_ACTION: &str = "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://bench/x', 1); };";

/// 6. What an Action costs: one execution in the sandbox on its own, then password logins on
///    a server without Actions and one with a trivial post-login Action, in alternating
///    rounds, compared by the servers' own CPU per login.
async fn actions(args: &Args, cores: usize, duration: Duration) -> anyhow::Result<()> {
    use portcullis_core::actions::{Script, ScriptKind, ScriptLimits, Trigger};

    let script = Script {
        name: "bench".to_owned(),
        kind: ScriptKind::Action(Trigger::PostLogin),
        code: Arc::from(TRIVIAL_ACTION),
        secrets: serde_json::Map::new(),
    };
    let event = json!({"user": {"email": "bench@example.com", "app_metadata": {}, "user_metadata": {}},
                       "stats": {"logins_count": 1}});
    let sandbox = portcullis_actions::QuickJsRunner::new();
    for _ in 0..20 {
        sandbox
            .execute(&script, &event, ScriptLimits::default())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed() < duration / 4 {
        sandbox
            .execute(&script, &event, ScriptLimits::default())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        runs += 1;
    }
    let per_execution = started.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    println!(
        "one post-login Action execution in the sandbox (fresh runtime and context, compiled bytecode): {per_execution:.0} µs ({runs} runs, one core)"
    );

    let dir = std::env::temp_dir().join(format!("portcullis-bench-{}-action", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let code = dir.join("trivial.js");
    std::fs::write(&code, TRIVIAL_ACTION)?;
    let (plain, plain_base) = start_server_with(args, "actions-off", "")?;
    let (scripted, scripted_base) = start_server_with(
        args,
        "actions-on",
        &format!(
            "[[actions]]\nname = \"trivial\"\ntrigger = \"post-login\"\ncode = \"{}\"\n",
            code.display()
        ),
    )?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;
    wait_until_up(&http, &plain_base).await?;
    wait_until_up(&http, &scripted_base).await?;
    for base in [&plain_base, &scripted_base] {
        let signup = http
            .post(format!("{base}/dbconnections/signup"))
            .json(&json!({"client_id": "bench", "connection": "db", "email": "bench@example.com", "password": PASSWORD}))
            .send()
            .await?;
        if !signup.status().is_success() {
            bail!("sign-up failed: {}", signup.text().await?);
        }
    }
    let logins = |base: String| {
        let http = http.clone();
        async move {
            let url = format!("{base}/oauth/token");
            load(cores * 4, duration / 2, move || {
                let http = http.clone();
                let url = url.clone();
                async move {
                    let form = [
                        (
                            "grant_type",
                            "http://auth0.com/oauth/grant-type/password-realm",
                        ),
                        ("client_id", "bench"),
                        ("realm", "db"),
                        ("username", "bench@example.com"),
                        ("password", PASSWORD),
                        ("scope", "openid"),
                    ];
                    http.post(url)
                        .form(&form)
                        .send()
                        .await
                        .map(|r| r.status().is_success())
                        .unwrap_or(false)
                }
            })
            .await
        }
    };
    let (mut cpu_off, mut cpu_on, mut n_off, mut n_on, mut ratios) =
        (0.0, 0.0, 0.0, 0.0, Vec::new());
    for _ in 0..args.rounds {
        let before = plain.cpu_seconds().unwrap_or(0.0);
        let off = logins(plain_base.clone()).await;
        cpu_off += plain.cpu_seconds().unwrap_or(0.0) - before;
        n_off += off.latencies.len() as f64;
        let before = scripted.cpu_seconds().unwrap_or(0.0);
        let on = logins(scripted_base.clone()).await;
        cpu_on += scripted.cpu_seconds().unwrap_or(0.0) - before;
        n_on += on.latencies.len() as f64;
        println!(
            "  round: logins without Actions {:.1}/s, with one Action {:.1}/s (errors {} / {})",
            off.rate(),
            on.rate(),
            off.errors,
            on.errors
        );
        ratios.push(on.rate() / off.rate());
    }
    drop((plain, scripted));
    ratios.sort_by(f64::total_cmp);
    let (per_off, per_on) = (cpu_off * 1e3 / n_off, cpu_on * 1e3 / n_on);
    println!(
        "password login with one trivial post-login Action: server CPU per login {per_on:.2} ms vs {per_off:.2} ms without          ({:+.0} µs per execution); throughput with/without median of {} rounds = {:.3}",
        (per_on - per_off) * 1e3,
        args.rounds,
        ratios[ratios.len() / 2]
    );
    Ok(())
}

fn raw_hash_rate(cores: usize, duration: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // The same reusable-memory hash the server's hashing threads run.
                let Ok(mut memory) = HashMemory::new() else {
                    return 0;
                };
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if memory.hash(PASSWORD.as_bytes()).is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

fn start_server(args: &Args) -> anyhow::Result<(Server, String)> {
    start_server_with(args, "plain", "")
}

/// Starts the server with `tail` appended to its configuration, in a data folder named `tag`.
fn start_server_with(args: &Args, tag: &str, tail: &str) -> anyhow::Result<(Server, String)> {
    let tenant = BenchTenant::prepare(args, tag, tail)?;
    Ok((tenant.start()?, tenant.base.clone()))
}

/// A configured tenant in its own folder: the server can be started (and restarted) on it,
/// and operator commands run against it.
struct BenchTenant {
    binary: PathBuf,
    config: PathBuf,
    base: String,
}

impl BenchTenant {
    fn prepare(args: &Args, tag: &str, tail: &str) -> anyhow::Result<Self> {
        let binary = match &args.server {
            Some(p) => p.clone(),
            None => std::env::current_exe()?.with_file_name("portcullis"),
        };
        if !binary.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p portcullis`",
                binary.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir =
            std::env::temp_dir().join(format!("portcullis-bench-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let database = args
            .database_url
            .as_ref()
            .map_or(String::new(), |u| format!("database_url = \"{u}\""));
        let config = format!(
            r#"listen = "127.0.0.1:{port}"
data_dir = "{data}"
{database}
[[clients]]
name = "Bench"
client_id = "bench"
grant_types = ["http://auth0.com/oauth/grant-type/password-realm", "password", "refresh_token"]
[[clients]]
name = "Bench administrator"
client_id = "bench-admin"
client_secret = "bench-admin-secret"
grant_types = ["client_credentials"]
[[client_grants]]
client_id = "bench-admin"
audience = "http://127.0.0.1:{port}/api/v2/"
scope = ["read:users", "create:users"]
[[connections]]
name = "db"
[connections.options]
passwordPolicy = "good"
[attack_protection.suspicious_ip_throttling]
allowlist = ["127.0.0.1"]
{tail}
"#,
            data = dir.join("data").display()
        );
        let path = dir.join("bench.toml");
        std::fs::write(&path, config)?;
        Ok(Self {
            binary,
            config: path,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    fn start(&self) -> anyhow::Result<Server> {
        let child = Command::new(&self.binary)
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        Ok(Server::new(child))
    }

    /// Runs an operator command (`portcullis <args> --config …`); its standard output.
    fn command(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new(&self.binary)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .output()?;
        if !output.status.success() {
            bail!(
                "portcullis {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

async fn wait_until_up(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if http
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not start")
}

/// Sign-ups with fresh e-mails from `concurrency` clients for `duration`.
async fn signups(
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
async fn login_tokens(
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
async fn get_load(
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
async fn form_load(
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

struct LoadResult {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: Duration,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile_ms(&self, p: f64) -> f64 {
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
async fn load<F, Fut>(concurrency: usize, duration: Duration, request: F) -> LoadResult
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
