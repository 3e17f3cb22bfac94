//! Attacks on the ways into an account, each performed through the real server: a second
//! factor removed with the password alone, a metadata scope stretched over the whole user,
//! parallel bursts against brute-force protection and suspicious-IP throttling, single sign-on
//! into an application the user's connection is not enabled for, and a hosted sign-up that
//! skipped the post-login checks.

use portcullis_core::clock::Clock;
use portcullis_core::mfa::totp::code_at;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::actions::{POST_LOGIN, RULE, deploy};
use crate::browser::{Browser, CALLBACK, authorize_path, hidden, pkce, query_param};
use crate::helpers::{Backend, DB, PasswordLogin, REALM, STRONG, TestApp, unique};
use crate::mfa::{GUARDIAN, enrolled_user};

const OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/mfa-otp";

/// A password-realm login of the MFA application, for `audience` and `scope`.
async fn password_login(
    app: &TestApp,
    email: &str,
    audience: Option<&str>,
    scope: &str,
) -> (StatusCode, Value) {
    PasswordLogin::new(email, STRONG)
        .client("mfa-app", Some("mfa-app-long-secret"))
        .scope(Some(scope))
        .audience(audience)
        .send(&app.http, &app.base)
        .await
}

async fn otp_grant(app: &TestApp, mfa_token: &str, otp: &str) -> (StatusCode, Value) {
    app.post_form(
        "/oauth/token",
        &[
            ("grant_type", OTP_GRANT),
            ("client_id", "mfa-app"),
            ("client_secret", "mfa-app-long-secret"),
            ("mfa_token", mfa_token),
            ("otp", otp),
        ],
    )
    .await
}

async fn mfa_api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("send");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_password_alone_can_neither_remove_a_second_factor_nor_enroll_another() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let (email, secret, _) = enrolled_user(&app).await;

    // The attacker has the password: a login gives an mfa_token, which may list the factors…
    let (status, body) = password_login(&app, &email, None, "openid").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let mfa_token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    let (status, listed) = mfa_api(
        &app,
        reqwest::Method::GET,
        "/mfa/authenticators",
        &mfa_token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<String> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");

    // … but removes none of them, and cannot enroll one of its own.
    for id in &ids {
        let (status, body) = mfa_api(
            &app,
            reqwest::Method::DELETE,
            &format!("/mfa/authenticators/{}", id.replace('|', "%7C")),
            &mfa_token,
            None,
        )
        .await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_token", "error_description": "Invalid token"})
            )
        );
    }
    let (status, body) = mfa_api(
        &app,
        reqwest::Method::POST,
        "/mfa/associate",
        &mfa_token,
        Some(json!({"authenticator_types": ["otp"]})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "User is already enrolled"})
        )
    );
    let (_, still) = mfa_api(
        &app,
        reqwest::Method::GET,
        "/mfa/authenticators",
        &mfa_token,
        None,
    )
    .await;
    assert_eq!(still.as_array().expect("list").len(), 2);

    // A token for the MFA API needs the second factor, whatever the scope asked: a login for
    // it is challenged, and only then may the user remove a factor.
    let mfa_audience = format!("{}mfa/", app.issuer());
    let (status, body) = password_login(
        &app,
        &email,
        Some(&mfa_audience),
        "read:authenticators remove:authenticators read:users",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "mfa_required");
    let challenged = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    let code = code_at(&secret, app.clock.now_secs()).expect("code");
    let (status, tokens) = otp_grant(&app, &challenged, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        tokens["scope"], "read:authenticators remove:authenticators",
        "an MFA API token carries the MFA API's scopes only"
    );
    let access = tokens["access_token"].as_str().expect("access_token");
    let (status, _) = mfa_api(
        &app,
        reqwest::Method::DELETE,
        &format!("/mfa/authenticators/{}", ids[0].replace('|', "%7C")),
        access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // A token for another API, or one without the scope, removes nothing.
    let management = app.management_token().await;
    let (status, _) = mfa_api(
        &app,
        reqwest::Method::DELETE,
        &format!("/mfa/authenticators/{}", ids[1].replace('|', "%7C")),
        &management,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.clock.advance_secs(90);
    let (_, body) = password_login(&app, &email, Some(&mfa_audience), "read:authenticators").await;
    let challenged = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    let code = code_at(&secret, app.clock.now_secs()).expect("code");
    let (status, tokens) = otp_grant(&app, &challenged, &code).await;
    // The TOTP authenticator was removed above: the challenge is now an enrollment, whose
    // code no longer matches anything.
    if status == StatusCode::OK {
        let reader = tokens["access_token"].as_str().expect("access_token");
        let (status, body) = mfa_api(
            &app,
            reqwest::Method::DELETE,
            &format!("/mfa/authenticators/{}", ids[1].replace('|', "%7C")),
            reader,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"], "insufficient_scope");
    }
    // No machine-to-machine token is ever issued for the MFA API.
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "backend"),
                ("client_secret", "a-long-random-secret"),
                ("audience", &mfa_audience),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": format!("Service not enabled within domain: {mfa_audience}")})
        )
    );
}

#[tokio::test]
async fn a_copy_of_the_database_yields_no_second_factor_and_no_signing_key() {
    use portcullis_core::store::SealedColumn;
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let (_, secret, _) = enrolled_user(&app).await;
    let stored = app
        .store
        .sealed_values(SealedColumn::OtpSecret)
        .await
        .expect("secrets");
    assert_eq!(stored.len(), 1);
    for (_, value) in &stored {
        assert!(value.starts_with("v1.") && !value.contains(&secret));
    }
    for (_, value) in app
        .store
        .sealed_values(SealedColumn::SigningKey)
        .await
        .expect("keys")
    {
        assert!(value.starts_with("v1.") && !value.contains("PRIVATE KEY"));
    }
    // The database file itself holds neither in any form an attacker could read off.
    let mut raw = Vec::new();
    for file in ["portcullis.sqlite3", "portcullis.sqlite3-wal"] {
        raw.extend(std::fs::read(app.data_dir.join(file)).unwrap_or_default());
    }
    let raw = String::from_utf8_lossy(&raw);
    assert!(!raw.contains(&secret) && !raw.contains("PRIVATE KEY"));
    // A sealed secret moved to another authenticator's row opens nowhere: no code passes.
    let (id, value) = &stored[0];
    assert!(
        app.tenant
            .at_rest
            .open(
                portcullis_core::at_rest::Purpose::TotpSecret,
                "totp|dev_other",
                value
            )
            .is_err()
    );
    assert!(
        app.tenant
            .at_rest
            .open(portcullis_core::at_rest::Purpose::TotpSecret, id, value)
            .is_ok()
    );
}

#[tokio::test]
async fn over_https_a_sibling_subdomain_cannot_plant_a_session_or_transaction_cookie() {
    // Behind a TLS-terminating proxy: the issuer is HTTPS, the listener plain.
    let app = TestApp::spawn_behind_proxy("https://auth.example.com/").await;
    let email = format!("{}@example.com", unique("host-cookie-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let mut victim = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, login_page, _) = victim.get(&authorize_path(&challenge, "")).await;
    let transaction = victim
        .last_set_cookies()
        .iter()
        .find(|c| c.contains("portcullis_transaction"))
        .expect("transaction cookie")
        .clone();
    assert!(
        transaction.starts_with("__Host-portcullis_transaction=")
            && transaction.contains("; Path=/;")
            && transaction.contains("Secure")
            && !transaction.contains("Domain"),
        "{transaction}"
    );
    let state = query_param(&login_page, "state").expect("state");
    let (_, location, _) = victim.submit_login(&state, &email, STRONG).await;
    assert!(location.starts_with(CALLBACK), "{location}");
    let session = victim
        .cookies
        .get("__Host-portcullis_session")
        .expect("the session cookie carries the prefix")
        .clone();

    // A cookie without the prefix (all a sibling subdomain can set) is not ours.
    let mut attacker = Browser::new(&app);
    attacker
        .cookies
        .insert("portcullis_session".to_owned(), session.clone());
    let (_, location, _) = attacker
        .get(&authorize_path(&challenge, "&prompt=none"))
        .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );
    // The same value under the prefixed name (only this host can set it) is.
    let mut same = Browser::new(&app);
    same.cookies
        .insert("__Host-portcullis_session".to_owned(), session);
    let (_, location, _) = same.get(&authorize_path(&challenge, "&prompt=none")).await;
    assert!(query_param(&location, "code").is_some(), "{location}");
}

#[tokio::test]
async fn a_metadata_scope_changes_the_metadata_and_nothing_else() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("meta-"));
    let (_, created) = app.signup(DB, &email, STRONG).await;
    let id = format!("auth0|{}", created["_id"].as_str().expect("id")).replace('|', "%7C");
    let token = app
        .management_token_for("metadata-editor", "metadata-editor-long-secret")
        .await;
    let patch = |body: Value| {
        let (app, token, path) = (&app, token.clone(), format!("/api/v2/users/{id}"));
        async move {
            app.send(reqwest::Method::PATCH, &path, &token, Some(&body))
                .await
        }
    };
    let (status, user) =
        patch(json!({"app_metadata": {"plan": "gold"}, "user_metadata": {"theme": "dark"}})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["app_metadata"]["plan"], "gold");

    for (body, fields) in [
        (json!({"email": "attacker@example.com"}), "email"),
        (json!({"email_verified": true}), "email_verified"),
        (json!({"blocked": true}), "blocked"),
        (
            json!({"password": "Attacker-Chosen-1", "app_metadata": {"plan": "free"}}),
            "password",
        ),
        (
            json!({"name": "Mallory", "email": "attacker@example.com"}),
            "email, name",
        ),
    ] {
        let (status, answer) = patch(body.clone()).await;
        assert_eq!(
            (status, answer),
            (
                StatusCode::FORBIDDEN,
                json!({"statusCode": 403, "error": "Forbidden",
                       "message": format!("You cannot update the following fields: {fields}"),
                       "errorCode": "insufficient_scope"})
            ),
            "{body}"
        );
    }
    // Nothing of the refused patches was stored: same e-mail, password and metadata.
    let admin = app.management_token().await;
    let (_, user) = app.get(&format!("/api/v2/users/{id}"), Some(&admin)).await;
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["app_metadata"]["plan"], "gold");
    assert!(user.get("blocked").is_none_or(|b| b == false));
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);
    assert_eq!(
        app.login(&email, "Attacker-Chosen-1").await.0,
        StatusCode::FORBIDDEN
    );
}

const BURST_LIMITS: &str = r#"
[attack_protection.brute_force_protection]
enabled = true
shields = ["block"]
max_attempts = 10
[attack_protection.suspicious_ip_throttling]
enabled = true
shields = ["block"]
[attack_protection.suspicious_ip_throttling.stage.pre-login]
max_attempts = 20
rate = 600000
"#;

/// Sends every form at once to `/oauth/token`; the answers in order.
async fn token_burst(
    app: &TestApp,
    forms: Vec<Vec<(&'static str, String)>>,
) -> Vec<(StatusCode, Value)> {
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|form| {
            let (http, url) = (app.http.clone(), format!("{}/oauth/token", app.base));
            tokio::spawn(async move {
                let response = http.post(url).form(&form).send().await.expect("send");
                let status = response.status();
                (status, response.json::<Value>().await.expect("json"))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    answers
}

fn realm_login(username: &str, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", REALM.to_owned()),
        ("client_id", "my-spa".to_owned()),
        ("realm", DB.to_owned()),
        ("username", username.to_owned()),
        ("password", password.to_owned()),
        ("scope", "openid".to_owned()),
    ]
}

fn count(answers: &[(StatusCode, Value)], status: StatusCode, error: Option<&str>) -> usize {
    answers
        .iter()
        .filter(|(s, b)| *s == status && error.is_none_or(|e| b["error"] == e))
        .count()
}

#[tokio::test]
async fn a_parallel_burst_gets_exactly_max_attempts_verdicts_and_no_token_after_the_limit() {
    let app = TestApp::spawn_with(Backend::Sqlite, BURST_LIMITS).await;
    let email = format!("{}@example.com", unique("burst-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);

    // 40 wrong passwords at once: exactly 10 are checked, the rest refused before any hash.
    let answers = token_burst(
        &app,
        (0..40)
            .map(|_| realm_login(&email, "Wrong-Password-1"))
            .collect(),
    )
    .await;
    assert_eq!(
        count(&answers, StatusCode::FORBIDDEN, Some("invalid_grant")),
        10,
        "{answers:?}"
    );
    assert_eq!(
        count(
            &answers,
            StatusCode::TOO_MANY_REQUESTS,
            Some("too_many_attempts")
        ),
        30,
        "{answers:?}"
    );
    // The right password after the limit: refused, no token.
    let (status, body) = app.login(&email, STRONG).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    // The reviewer's burst on another account: 59 wrong and the right one, all at once.
    let other = format!("{}@example.com", unique("burst-"));
    assert_eq!(app.signup(DB, &other, STRONG).await.0, StatusCode::OK);
    let mut forms: Vec<_> = (0..59)
        .map(|_| realm_login(&other, "Wrong-Password-1"))
        .collect();
    forms.insert(29, realm_login(&other, STRONG));
    let answers = token_burst(&app, forms).await;
    let verdicts = count(&answers, StatusCode::FORBIDDEN, Some("invalid_grant"));
    let tokens = count(&answers, StatusCode::OK, None);
    assert!(tokens <= 1);
    assert!(
        if tokens == 0 {
            verdicts == 10
        } else {
            (9..=10).contains(&verdicts)
        },
        "{verdicts} verdicts, {tokens} tokens: {answers:?}"
    );
    assert_eq!(
        verdicts + tokens + count(&answers, StatusCode::TOO_MANY_REQUESTS, None),
        60
    );
}

#[tokio::test]
async fn a_parallel_burst_across_accounts_passes_no_more_than_the_address_bucket() {
    let app = TestApp::spawn_with(Backend::Sqlite, BURST_LIMITS).await;
    let answers = token_burst(
        &app,
        (0..60)
            .map(|i| realm_login(&format!("guess{i}@example.com"), "Wrong-Password-1"))
            .collect(),
    )
    .await;
    assert_eq!(
        count(&answers, StatusCode::FORBIDDEN, Some("invalid_grant")),
        20,
        "{answers:?}"
    );
    assert_eq!(
        count(
            &answers,
            StatusCode::TOO_MANY_REQUESTS,
            Some("too_many_attempts")
        ),
        40,
        "{answers:?}"
    );
}

#[tokio::test]
async fn single_sign_on_never_reaches_an_application_the_users_connection_is_not_enabled_for() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("sso-"));
    assert_eq!(
        app.signup("spa-only", &email, STRONG).await.0,
        StatusCode::OK
    );

    // A session through "spa-only", for the SPA it is enabled for.
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, login_page, _) = browser
        .get(&authorize_path(&challenge, "&connection=spa-only"))
        .await;
    let state = query_param(&login_page, "state").expect("state");
    let (status, location, _) = browser.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(query_param(&location, "code").is_some(), "{location}");
    assert!(browser.session().is_some());

    // Another application: the session is not good there; the user is asked to log in, and a
    // silent request gets login_required — never a code.
    let other = |extra: &str| {
        format!(
            "/authorize?client_id=embedded&response_type=code&redirect_uri={}&scope=openid&state=s{extra}",
            "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
        )
    };
    let (status, location, _) = browser.get(&other("")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with("/u/login?state="), "{location}");
    let (status, location, _) = browser.get(&other("&prompt=none")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );
    assert!(query_param(&location, "code").is_none());
}

#[tokio::test]
async fn a_hosted_sign_up_runs_the_post_login_actions_rules_and_mfa() {
    let tail = deploy(
        &[("login", "post-login", POST_LOGIN)],
        &[("staff-only", RULE)],
        "[rules_configs]\nREGION = \"eu\"\n",
    );
    let app = TestApp::spawn_with(Backend::Sqlite, &tail).await;
    let sign_up = |prefix: &'static str| {
        let app = &app;
        async move {
            let mut browser = Browser::new(app);
            let (_, challenge) = pkce();
            let (_, page, _) = browser
                .get(&authorize_path(&challenge, "&screen_hint=signup"))
                .await;
            let state = query_param(&page, "state").expect("state");
            let email = format!("{}@example.com", unique(prefix));
            browser
                .post(
                    "/u/signup",
                    &[("state", &state), ("email", &email), ("password", STRONG)],
                )
                .await
        }
    };
    let (status, location, _) = sign_up("deny-").await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied"),
        "{location}"
    );
    assert!(query_param(&location, "code").is_none());
    let (_, location, _) = sign_up("rule-").await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("unauthorized"),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "error_description").as_deref(),
        Some("Only staff may log in.")
    );
    assert!(query_param(&location, "code").is_none());
    let (_, location, _) = sign_up("fine-").await;
    assert!(query_param(&location, "code").is_some(), "{location}");

    // With MFA required for every application, the new user enrolls before any code.
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, page, _) = browser
        .get(&authorize_path(&challenge, "&screen_hint=signup"))
        .await;
    let state = query_param(&page, "state").expect("state");
    let email = format!("{}@example.com", unique("mfa-signup-"));
    let (status, location, page) = browser
        .post(
            "/u/signup",
            &[("state", &state), ("email", &email), ("password", STRONG)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{location}");
    assert!(location.is_empty());
    assert!(page.contains("Secure your account"), "the enrollment page");
    assert!(!hidden(&page, "mfa_token").is_empty());
    assert!(
        browser.session().is_none(),
        "no session before the second factor"
    );
}

async fn submit_reset(app: &TestApp, ticket: &str, password: &str) -> StatusCode {
    app.http
        .post(format!("{}/lo/reset", app.base))
        .form(&[
            ("ticket", ticket),
            ("newPassword", password),
            ("confirmNewPassword", password),
        ])
        .send()
        .await
        .expect("send")
        .status()
}

#[tokio::test]
async fn mailed_links_work_only_for_the_address_and_password_they_were_issued_for() {
    use crate::helpers::{link_in, ticket_of};
    let app = TestApp::spawn().await;
    let admin = app.management_token().await;
    let mine = format!("{}@example.com", unique("attacker-"));
    let (_, created) = app.signup(DB, &mine, STRONG).await;
    let id = format!("auth0|{}", created["_id"].as_str().expect("id")).replace('|', "%7C");
    let link = link_in(
        &app.mails("Verify your email", 1).await[0],
        "/u/email-verification?ticket=",
    );
    // The account's address changes to the victim's; the link mailed to the old address must
    // not verify the new one.
    let victim = format!("{}@example.com", unique("victim-"));
    let (status, _) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v2/users/{id}"),
            &admin,
            Some(&json!({"email": victim})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post_form("/u/email-verification", &[("ticket", &ticket_of(&link))])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, user) = app.get(&format!("/api/v2/users/{id}"), Some(&admin)).await;
    assert_eq!(
        (user["email"].as_str(), user["email_verified"].as_bool()),
        (Some(victim.as_str()), Some(false))
    );

    // A reset link is used once, even by three submissions at the same moment.
    let email = format!("{}@example.com", unique("reset-race-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let reset = |email: String| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/dbconnections/change_password", app.base))
                .json(&json!({"client_id": "my-spa", "connection": DB, "email": email}))
                .send()
                .await
                .expect("send")
                .status()
        }
    };
    assert_eq!(reset(email.clone()).await, StatusCode::OK);
    let ticket = ticket_of(&link_in(
        &app.mails("Reset your password", 1).await[0],
        "/lo/reset?ticket=",
    ));
    let (a, b, c) = tokio::join!(
        submit_reset(&app, &ticket, "Parallel-Password-1"),
        submit_reset(&app, &ticket, "Parallel-Password-2"),
        submit_reset(&app, &ticket, "Parallel-Password-3"),
    );
    let mut statuses = [a, b, c];
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST
        ]
    );

    // A newer link replaces an older one, and a password changed otherwise ends a link.
    assert_eq!(reset(email.clone()).await, StatusCode::OK);
    assert_eq!(app.mails("Reset your password", 2).await.len(), 2);
    assert_eq!(reset(email.clone()).await, StatusCode::OK);
    let mails = app.mails("Reset your password", 3).await;
    let older = ticket_of(&link_in(&mails[1], "/lo/reset?ticket="));
    let newer = ticket_of(&link_in(&mails[2], "/lo/reset?ticket="));
    assert_ne!(older, newer);
    assert_eq!(
        submit_reset(&app, &older, "Older-Link-Password-1").await,
        StatusCode::BAD_REQUEST
    );
    let user_id = {
        let (_, found) = app
            .get(
                &format!("/api/v2/users-by-email?email={email}"),
                Some(&admin),
            )
            .await;
        found[0]["user_id"]
            .as_str()
            .expect("user_id")
            .replace('|', "%7C")
    };
    let (status, _) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v2/users/{user_id}"),
            &admin,
            Some(&json!({"password": "Changed-By-Admin-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        submit_reset(&app, &newer, "Newer-Link-Password-1").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.login(&email, "Changed-By-Admin-1").await.0,
        StatusCode::OK
    );

    // A connection the application is not enabled for mails nobody.
    let outside = format!("{}@example.com", unique("outside-"));
    assert_eq!(
        app.signup("spa-excluded", &outside, STRONG).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, body) = app
        .post_json(
            "/dbconnections/change_password",
            &json!({"client_id": "my-spa", "connection": "spa-excluded", "email": outside}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // One address gets at most five reset mails an hour, whoever asks; the answer never changes.
    let flooded = format!("{}@example.com", unique("flooded-"));
    assert_eq!(app.signup(DB, &flooded, STRONG).await.0, StatusCode::OK);
    for _ in 0..8 {
        assert_eq!(reset(flooded.clone()).await, StatusCode::OK);
    }
    // The mails go out after the answers; `mails` waits for that work to end.
    let to_flooded = app
        .mails("Reset your password", 0)
        .await
        .into_iter()
        .filter(|m| m.contains(&flooded))
        .count();
    assert_eq!(to_flooded, 5);
    // One client address may ask 50 times an hour; then it is refused.
    let mut refused = None;
    for i in 0..60 {
        let status = reset(format!("nobody{i}@example.com")).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(i);
            break;
        }
    }
    assert!(refused.is_some(), "the address bucket refuses");
}
