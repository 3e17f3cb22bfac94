//! Sections 5 to 7 of the run: breached-password detection at sign-up, what an Action costs,
//! and user enumeration by timing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use portcullis_core::password::hasher::HashMemory;
use serde_json::json;

use crate::load::*;
use crate::server::*;
use crate::{Args, PASSWORD};

/// 7. No user enumeration by timing: a wrong password for an existing user and any password
///    for an unknown one, one request at a time, interleaved, `--tries` of each; the medians
///    must differ by less than 5 %. Brute-force protection is off here so that every attempt
///    reaches the hash (a blocked identifier answers without one, alike for both kinds).
pub(crate) async fn enumeration(args: &Args) -> anyhow::Result<()> {
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
pub(crate) async fn breach_signups(
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
pub(crate) const TRIVIAL_ACTION: &str = "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://bench/x', 1); };";

/// 6. What an Action costs: one execution in the sandbox on its own, then password logins on
///    a server without Actions and one with a trivial post-login Action, in alternating
///    rounds, compared by the servers' own CPU per login.
pub(crate) async fn actions(args: &Args, cores: usize, duration: Duration) -> anyhow::Result<()> {
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

pub(crate) fn raw_hash_rate(cores: usize, duration: Duration) -> f64 {
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
