//! The second factor on the hosted pages: a challenge for an enrolled user, a first
//! enrollment with its recovery code, and a session that predates the MFA policy.

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{
    Browser, CALLBACK, authorize_path, between, continue_to_callback, exchange, hidden, pkce,
    query_param,
};
use crate::helpers::{DB, STRONG, TestApp, unique};

#[tokio::test]
async fn the_hosted_login_asks_an_enrolled_user_for_the_code() {
    use portcullis_core::clock::Clock;
    use portcullis_core::mfa::totp::code_at;

    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, crate::mfa::GUARDIAN).await;
    let (email, secret, _) = crate::mfa::enrolled_user(&app).await;
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    let state = query_param(&login_page, "state").expect("state");
    let (status, _, page) = browser.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Verify your identity"), "{page}");
    assert!(
        browser.session().is_none(),
        "no session before the second factor"
    );
    let mfa_token = page
        .split("name=\"mfa_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("mfa_token")
        .to_owned();

    let good = code_at(&secret, app.clock.now_secs()).expect("code");
    let wrong: String = good
        .chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect();
    let (status, _, page) = browser
        .post(
            "/u/mfa-otp-challenge",
            &[
                ("state", &state),
                ("mfa_token", &mfa_token),
                ("code", &wrong),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Wrong code. Please try again."), "{page}");

    let (status, location, _) = browser
        .post(
            "/u/mfa-otp-challenge",
            &[
                ("state", &state),
                ("mfa_token", &mfa_token),
                ("code", &good),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with(CALLBACK), "{location}");
    assert!(query_param(&location, "code").is_some());
    assert!(browser.session().is_some());
}

#[tokio::test]
async fn the_hosted_login_enrolls_a_user_without_a_factor_and_takes_recovery_codes() {
    use portcullis_core::clock::Clock;
    use portcullis_core::mfa::totp::code_at;

    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, crate::mfa::GUARDIAN).await;
    let email = format!("{}@example.com", unique("enroll-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);

    // The password is right and MFA is required, but the user has no factor yet.
    let mut browser = Browser::new(&app);
    let (verifier, challenge) = pkce();
    let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    let state = query_param(&login_page, "state").expect("state");
    let login = [
        ("state", state.as_str()),
        ("username", email.as_str()),
        ("password", STRONG),
    ];
    let (status, _, page) = browser.post("/u/login", &login).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Secure your account"), "{page}");
    assert!(page.contains("<svg"), "a QR code of the otpauth URI");
    let secret = between(&page, "id=\"secret\">", "</code>").expect("secret");
    assert!(browser.session().is_none(), "no session before enrolling");
    let mfa_token = hidden(&page, "mfa_token");
    let enrollment = hidden(&page, "enrollment");

    // A wrong code shows the same secret again, with the error.
    let good = code_at(&secret, app.clock.now_secs()).expect("code");
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let answer = |code: &str| {
        vec![
            ("state".to_owned(), state.clone()),
            ("mfa_token".to_owned(), mfa_token.clone()),
            ("enrollment".to_owned(), enrollment.clone()),
            ("code".to_owned(), code.to_owned()),
        ]
    };
    let fields = answer(wrong);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, page) = browser.post("/u/mfa-otp-enrollment", &pairs).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Wrong code. Please try again."), "{page}");
    assert_eq!(
        between(&page, "id=\"secret\">", "</code>").as_deref(),
        Some(secret.as_str())
    );

    // The right code enrolls, signs in, and shows the recovery code once before going on.
    let fields = answer(&good);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, page) = browser.post("/u/mfa-otp-enrollment", &pairs).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let recovery = between(&page, "id=\"recovery-code\">", "</code>").expect("recovery code");
    assert_eq!(recovery.len(), 24, "{recovery}");
    assert!(browser.session().is_some());
    let code = continue_to_callback(&mut browser, &page).await;
    assert_eq!(exchange(&app, &code, &verifier).await.0, StatusCode::OK);

    // Another browser: the enrolled user may use the recovery code instead of the app.
    let mut other = Browser::new(&app);
    let (verifier, challenge) = pkce();
    let (_, login_page, _) = other.get(&authorize_path(&challenge, "")).await;
    let state = query_param(&login_page, "state").expect("state");
    let login = [
        ("state", state.as_str()),
        ("username", email.as_str()),
        ("password", STRONG),
    ];
    let (_, _, page) = other.post("/u/login", &login).await;
    assert!(page.contains("Use a recovery code"), "{page}");
    let mfa_token = hidden(&page, "mfa_token");
    let (status, _, page) = other
        .post(
            "/u/mfa-recovery-code",
            &[("state", &state), ("mfa_token", &mfa_token), ("show", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Recovery code"), "{page}");
    let (status, _, page) = other
        .post(
            "/u/mfa-recovery-code",
            &[
                ("state", &state),
                ("mfa_token", &mfa_token),
                ("code", "WRONGWRONGWRONGWRONGWRON"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("The recovery code is not valid."), "{page}");
    let (status, _, page) = other
        .post(
            "/u/mfa-recovery-code",
            &[
                ("state", &state),
                ("mfa_token", &mfa_token),
                ("code", &recovery),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let next = between(&page, "id=\"recovery-code\">", "</code>").expect("next code");
    assert_ne!(next, recovery, "a recovery code works once and is replaced");
    let code = continue_to_callback(&mut other, &page).await;
    assert_eq!(exchange(&app, &code, &verifier).await.0, StatusCode::OK);

    // A continue link that was tampered with goes nowhere.
    let (status, location, _) = other.get("/u/continue?answer=forged.link").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_empty());
}

#[tokio::test]
async fn a_session_without_a_second_factor_is_asked_for_one_once_mfa_is_required() {
    use serde_json::json;

    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, crate::mfa::GUARDIAN).await;
    let admin = app.management_token().await;
    let policy = |policies: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.send(
                reqwest::Method::PUT,
                "/api/v2/guardian/policies",
                &admin,
                Some(&policies),
            )
            .await
            .0
        }
    };
    assert_eq!(policy(json!([])).await, StatusCode::OK);
    let email = format!("{}@example.com", unique("later-mfa-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);

    // A session from a login without MFA.
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    let state = query_param(&login_page, "state").expect("state");
    let (status, location, _) = browser.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(query_param(&location, "code").is_some(), "{location}");

    // MFA becomes required: silent authentication says so instead of answering with a code …
    assert_eq!(policy(json!(["all-applications"])).await, StatusCode::OK);
    let (status, location, _) = browser
        .get(&authorize_path(&challenge, "&prompt=none"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("mfa_required")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    // … and an interactive request asks for the second factor, not the password again.
    let (status, _, page) = browser.get(&authorize_path(&challenge, "")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Secure your account"), "{page}");
    assert!(!page.contains("name=\"password\""));
}
