//! No user enumeration: login and password-reset answers for an existing and a non-existing
//! user are identical, and so is their cost — each login attempt computes exactly one password
//! hash, known user or not (a dummy hash for the unknown), and a reset request none. Sign-up
//! answers differ by design, as Auth0's (`user_exists` is the error every client library
//! shows), but cost one hash either way.
//!
//! Counting hashes is deterministic where the time they take is not; the timing comparison
//! itself is measured by the benchmark (`portcullis-bench --only-enumeration`, BENCHMARKS.md).

use serde_json::{Value, json};

use crate::helpers::{Backend, DB, STRONG, TestApp, unique};

const TRIES: usize = 25;

/// Every attempt must reach the password hash: brute-force protection off (a block answers
/// alike for both kinds, without a hash), and loopback not throttled.
const PROTECTIONS_OFF: &str = r#"
[attack_protection.brute_force_protection]
enabled = false
[attack_protection.suspicious_ip_throttling]
allowlist = ["127.0.0.1"]
"#;

/// The answer of `request` and how many password hashes it computed.
async fn costed<T>(app: &TestApp, request: impl Future<Output = T>) -> (T, u64) {
    let before = app.tenant.hasher.computed();
    let answer = request.await;
    (answer, app.tenant.hasher.computed() - before)
}

#[tokio::test]
async fn answers_and_their_cost_do_not_tell_who_exists() {
    let app = TestApp::spawn_with(Backend::Sqlite, PROTECTIONS_OFF).await;
    let email = format!("{}@example.com", unique("known-"));
    assert_eq!(
        app.signup(DB, &email, STRONG).await.0,
        reqwest::StatusCode::OK
    );
    let prefix = unique("nobody-");
    let unknown_email = |i: usize| format!("{prefix}-{i}@example.com");
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
    let signup_prefix = unique("fresh-");

    for i in 0..TRIES {
        // Login: a wrong password for an existing user, any password for an unknown one.
        let known = costed(&app, app.login(&email, "Wrong-Password-1")).await;
        let unknown = costed(&app, app.login(&unknown_email(i), "Wrong-Password-1")).await;
        assert_eq!(known, unknown, "login, try {i}");
        assert_eq!(known.1, 1, "one hash per login attempt");

        // Password reset: the same sentence for both, and no hash.
        let known = costed(&app, reset(email.clone())).await;
        let unknown = costed(&app, reset(unknown_email(i))).await;
        assert_eq!(known, unknown, "reset, try {i}");
        assert_eq!(known.1, 0);

        // Sign-up: `user_exists` against a new user; both hash the password once.
        let ((_, taken), taken_cost): ((_, Value), u64) =
            costed(&app, app.signup(DB, &email, STRONG)).await;
        assert_eq!(taken["code"], "user_exists");
        let ((status, _), fresh_cost) = costed(
            &app,
            app.signup(DB, &format!("{signup_prefix}-{i}@example.com"), STRONG),
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::OK);
        assert_eq!((taken_cost, fresh_cost), (1, 1), "sign-up, try {i}");
    }
}
