//! No user enumeration: login and password-reset answers for an existing and a non-existing
//! user are identical, and the time they take is too: over 1,000 tries of each, interleaved
//! one at a time, the medians differ by less than 5 %. Sign-up is compared by time only —
//! its answers differ by design, as Auth0's (`user_exists` is the error every client library
//! shows).
//!
//! A statistical comparison, not a fixed time: both kinds run on the same machine in the
//! same minutes, alternately, so drift and noise fall on both alike.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, DB, STRONG, TestApp, unique};

const TRIES: usize = 1_000;
const TOLERANCE: f64 = 0.05;

/// Every attempt must reach the password hash: brute-force protection off (a block answers
/// alike for both kinds, without a hash), and loopback not throttled.
const PROTECTIONS_OFF: &str = r#"
[attack_protection.brute_force_protection]
enabled = false
[attack_protection.suspicious_ip_throttling]
allowlist = ["127.0.0.1"]
"#;

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64()
}

/// Times `TRIES` of `existing` and of `unknown`, alternating, after a few of each to warm up,
/// each request `settle` after the previous answer (longer than the background work an answer
/// leaves); returns whether the medians are within the tolerance, with a report.
async fn compare<E, U, FE, FU>(
    what: &str,
    settle: Duration,
    existing: E,
    unknown: U,
) -> (bool, String)
where
    E: Fn(usize) -> FE,
    U: Fn(usize) -> FU,
    FE: Future<Output = ()>,
    FU: Future<Output = ()>,
{
    for i in 0..10 {
        existing(TRIES + i).await;
        unknown(TRIES + i).await;
    }
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    for i in 0..TRIES {
        // Which goes first is drawn per pair, and each request starts on a settled server: what
        // one answer leaves to do in the background (a mail, a log entry) is not timed against
        // the next request.
        let existing_first = rand::random::<bool>();
        for existing_turn in [existing_first, !existing_first] {
            tokio::time::sleep(settle).await;
            let started = Instant::now();
            if existing_turn {
                existing(i).await;
                known_times.push(started.elapsed());
            } else {
                unknown(i).await;
                unknown_times.push(started.elapsed());
            }
        }
    }
    let (known, unknown) = (median(known_times), median(unknown_times));
    let difference = (known - unknown).abs() / known.min(unknown);
    let report = format!(
        "{what}: median {:.3} ms for an existing user, {:.3} ms for an unknown one ({:.2} % apart)",
        known * 1e3,
        unknown * 1e3,
        difference * 100.0
    );
    eprintln!("{report}");
    (difference < TOLERANCE, report)
}

// The server runs on a multi-threaded runtime as the binary does, so work it leaves for the
// background runs beside the answer rather than ahead of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_their_timing_do_not_tell_who_exists() {
    let app = TestApp::spawn_with(Backend::Sqlite, PROTECTIONS_OFF).await;
    let email = format!("{}@example.com", unique("known-"));
    assert_eq!(
        app.signup(DB, &email, STRONG).await.0,
        reqwest::StatusCode::OK
    );
    let prefix = unique("nobody-");
    let unknown_email = |i: usize| format!("{prefix}-{i}@example.com");

    // Login: a wrong password for an existing user, any password for an unknown one.
    let known_login = app.login(&email, "Wrong-Password-1").await;
    let unknown_login = app.login(&unknown_email(0), "Wrong-Password-1").await;
    assert_eq!(known_login, unknown_login);
    let login = compare(
        "login",
        Duration::from_millis(1),
        |_| async {
            app.login(&email, "Wrong-Password-1").await;
        },
        |i| {
            let email = unknown_email(i);
            let app = &app;
            async move {
                app.login(&email, "Wrong-Password-1").await;
            }
        },
    )
    .await;

    // Password reset: the same sentence for both; the mail goes out in the background.
    let reset = |email: String| {
        let app = &app;
        async move {
            app.post_json(
                "/dbconnections/change_password",
                &json!({"client_id": "my-spa", "connection": DB, "email": email}),
            )
            .await
        }
    };
    assert_eq!(reset(email.clone()).await, reset(unknown_email(0)).await);
    let reset_times = compare(
        "password reset",
        Duration::from_millis(4),
        |_| {
            let request = reset(email.clone());
            async move {
                request.await;
            }
        },
        |i| {
            let request = reset(unknown_email(i));
            async move {
                request.await;
            }
        },
    )
    .await;

    // Sign-up: an e-mail that exists (`user_exists`) against a new one; both hash the password.
    let sign_up = |email: String| {
        let app = &app;
        async move { app.signup(DB, &email, STRONG).await }
    };
    let signup_prefix = unique("fresh-");
    let signup_times = compare(
        "sign-up",
        Duration::from_millis(2),
        |_| {
            let request = sign_up(email.clone());
            async move {
                let (_, body): (_, Value) = request.await;
                assert_eq!(body["code"], "user_exists");
            }
        },
        |i| {
            let request = sign_up(format!("{signup_prefix}-{i}@example.com"));
            async move {
                assert_eq!(request.await.0, reqwest::StatusCode::OK);
            }
        },
    )
    .await;

    for (within, report) in [login, reset_times, signup_times] {
        assert!(within, "{report}");
    }
}
