//! MFA through the MFA API and grants: enrollment, challenge, TOTP windows and replay (the
//! clock injected), recovery codes, the rate limit, and Auth0's answers for each failure.

use portcullis_core::clock::Clock;
use portcullis_core::mfa::totp::code_at;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, DB, PasswordLogin, STRONG, TestApp, unique};

pub(crate) const GUARDIAN: &str = r#"
[guardian]
policy = "all-applications"
[guardian.factors]
otp = { enabled = true }
recovery-code = { enabled = true }
"#;
const OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
const RECOVERY_GRANT: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";

async fn login(
    app: &TestApp,
    client_id: &str,
    secret: Option<&str>,
    email: &str,
) -> (StatusCode, Value) {
    PasswordLogin::new(email, STRONG)
        .client(client_id, secret)
        .scope(Some("openid email"))
        .send(&app.http, &app.base)
        .await
}

async fn mfa_login(app: &TestApp, email: &str) -> (StatusCode, Value) {
    login(app, "mfa-app", Some("mfa-app-long-secret"), email).await
}

async fn grant(
    app: &TestApp,
    grant_type: &str,
    mfa_token: &str,
    field: &str,
    value: &str,
) -> (StatusCode, Value) {
    app.post_form(
        "/oauth/token",
        &[
            ("grant_type", grant_type),
            ("client_id", "mfa-app"),
            ("client_secret", "mfa-app-long-secret"),
            ("mfa_token", mfa_token),
            (field, value),
        ],
    )
    .await
}

async fn associate(app: &TestApp, mfa_token: &str) -> (StatusCode, Value) {
    let response = app
        .http
        .post(format!("{}/mfa/associate", app.base))
        .bearer_auth(mfa_token)
        .json(&json!({"authenticator_types": ["otp"]}))
        .send()
        .await
        .expect("send");
    (response.status(), response.json().await.expect("json"))
}

pub(crate) async fn enrolled_user(app: &TestApp) -> (String, String, String) {
    let email = format!("{}@example.com", unique("mfa-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let (_, body) = mfa_login(app, &email).await;
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    let (_, enrollment) = associate(app, &token).await;
    let secret = enrollment["secret"].as_str().expect("secret").to_owned();
    let recovery = enrollment["recovery_codes"][0]
        .as_str()
        .expect("recovery")
        .to_owned();
    let code = code_at(&secret, app.clock.now_secs()).expect("code");
    assert_eq!(
        grant(app, OTP_GRANT, &token, "otp", &code).await.0,
        StatusCode::OK
    );
    // Past the enrolling code's step and its neighbours, so later checks are not replays.
    app.clock.advance_secs(90);
    (email, secret, recovery)
}

#[tokio::test]
async fn enrollment_challenge_and_the_otp_grant() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let email = format!("{}@example.com", unique("mfa-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);

    let (status, body) = mfa_login(&app, &email).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert_eq!(
        body,
        json!({"error": "mfa_required", "error_description": "Multifactor authentication required",
               "mfa_token": token, "mfa_requirements": {"enroll": [{"type": "otp"}]}})
    );

    let (status, enrollment) = associate(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{enrollment}");
    assert_eq!(enrollment["authenticator_type"], "otp");
    let secret = enrollment["secret"].as_str().expect("secret").to_owned();
    let uri = enrollment["barcode_uri"].as_str().expect("uri");
    assert!(
        uri.starts_with("otpauth://totp/portcullis:") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    let recovery = enrollment["recovery_codes"].as_array().expect("codes");
    assert_eq!(recovery.len(), 1);
    assert_eq!(recovery[0].as_str().expect("code").len(), 24);

    let (status, body) = app
        .post_json("/mfa/challenge", &json!({"client_id": "mfa-app", "client_secret": "mfa-app-long-secret", "mfa_token": token, "challenge_type": "otp"}))
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"challenge_type": "otp"}))
    );

    let wrong = grant(&app, OTP_GRANT, &token, "otp", "000000").await;
    assert_eq!(
        wrong,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "invalid_grant", "error_description": "Invalid otp_code."})
        )
    );
    let code = code_at(&secret, app.clock.now_secs()).expect("code");
    let (status, tokens) = grant(&app, OTP_GRANT, &token, "otp", &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string() && tokens["access_token"].is_string());
    assert_eq!(tokens["scope"], "openid email");
    // The mfa_token was for one login.
    assert_eq!(
        grant(&app, OTP_GRANT, &token, "otp", &code).await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "invalid_grant", "error_description": "Malformed mfa_token"})
        )
    );

    // Enrolled now: the next login is challenged, and the same code cannot be replayed.
    let (_, body) = mfa_login(&app, &email).await;
    assert_eq!(
        body["mfa_requirements"],
        json!({"challenge": [{"type": "otp"}]})
    );
    let second = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert_eq!(
        grant(&app, OTP_GRANT, &second, "otp", &code).await.1["error_description"],
        "Invalid otp_code."
    );
    assert_eq!(
        associate(&app, &second).await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "User is already enrolled"})
        )
    );
    let response = app
        .http
        .get(format!("{}/mfa/authenticators", app.base))
        .bearer_auth(&second)
        .send()
        .await
        .expect("send");
    let listed: Vec<Value> = response.json().await.expect("json");
    let mut kinds: Vec<(&str, &str)> = listed
        .iter()
        .filter_map(|a| Some((a["authenticator_type"].as_str()?, a["id"].as_str()?)))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        ["otp", "recovery-code"]
    );
    assert!(kinds[0].1.starts_with("totp|dev_") && kinds[1].1.starts_with("recovery-code|dev_"));
    assert!(listed.iter().all(|a| a["active"] == true));
    app.clock.advance_secs(30);
    let next = code_at(&secret, app.clock.now_secs()).expect("code");
    assert_eq!(
        grant(&app, OTP_GRANT, &second, "otp", &next).await.0,
        StatusCode::OK
    );

    let token = app.management_token().await;
    let (_, logs) = app.get("/api/v2/logs?sort=date:1", Some(&token)).await;
    let types: Vec<&str> = logs
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    for expected in ["mfar", "gd_auth_failed", "gd_auth_succeed", "seotpft"] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
}

#[tokio::test]
async fn codes_one_step_either_side_are_accepted_and_no_further() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let (email, secret, _) = enrolled_user(&app).await;
    let check = |offset: i64| {
        let app = &app;
        let email = email.clone();
        let secret = secret.clone();
        async move {
            let (_, body) = mfa_login(app, &email).await;
            let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
            let code = code_at(&secret, app.clock.now_secs() + offset).expect("code");
            let status = grant(app, OTP_GRANT, &token, "otp", &code).await.0;
            app.clock.advance_secs(90);
            status
        }
    };
    assert_eq!(check(-30).await, StatusCode::OK, "previous step");
    assert_eq!(check(30).await, StatusCode::OK, "next step");
    assert_eq!(check(-60).await, StatusCode::FORBIDDEN, "two steps old");
    assert_eq!(check(60).await, StatusCode::FORBIDDEN, "two steps ahead");
}

#[tokio::test]
async fn recovery_codes_are_single_use_and_renewed() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let (email, _, recovery) = enrolled_user(&app).await;
    let (_, body) = mfa_login(&app, &email).await;
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert_eq!(
        grant(
            &app,
            RECOVERY_GRANT,
            &token,
            "recovery_code",
            "AAAABBBBCCCCDDDDEEEEFFFF"
        )
        .await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "invalid_grant", "error_description": "MFA Authorization rejected."})
        )
    );
    let (status, tokens) = grant(
        &app,
        RECOVERY_GRANT,
        &token,
        "recovery_code",
        &recovery.to_lowercase(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let renewed = tokens["recovery_code"]
        .as_str()
        .expect("new code")
        .to_owned();
    assert_ne!(renewed, recovery);
    let (_, body) = mfa_login(&app, &email).await;
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert_eq!(
        grant(&app, RECOVERY_GRANT, &token, "recovery_code", &recovery)
            .await
            .0,
        StatusCode::FORBIDDEN,
        "used"
    );
    assert_eq!(
        grant(&app, RECOVERY_GRANT, &token, "recovery_code", &renewed)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn ten_wrong_codes_lock_the_factor_for_an_hour() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let (email, secret, _) = enrolled_user(&app).await;
    let (_, body) = mfa_login(&app, &email).await;
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    for _ in 0..10 {
        assert_eq!(
            grant(&app, OTP_GRANT, &token, "otp", "111111").await.1["error"],
            "invalid_grant"
        );
    }
    let locked = (
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "too_many_attempts", "error_description": "Too many failed codes. Wait for some minutes before retrying."}),
    );
    assert_eq!(
        grant(&app, OTP_GRANT, &token, "otp", "111111").await,
        locked
    );
    let right = code_at(&secret, app.clock.now_secs()).expect("code");
    assert_eq!(
        grant(&app, OTP_GRANT, &token, "otp", &right).await,
        locked,
        "even the right code"
    );
    let admin = app.management_token().await;
    let (_, logs) = app
        .get(
            "/api/v2/logs?q=type:\"gd_otp_rate_limit_exceed\"",
            Some(&admin),
        )
        .await;
    assert!(!logs.as_array().expect("logs").is_empty());
    app.clock.advance_secs(3_601);
    let (_, body) = mfa_login(&app, &email).await;
    let fresh = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    let right = code_at(&secret, app.clock.now_secs()).expect("code");
    assert_eq!(
        grant(&app, OTP_GRANT, &fresh, "otp", &right).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_tokens_and_clients_that_cannot_enroll() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let email = format!("{}@example.com", unique("mfa-"));
    app.signup(DB, &email, STRONG).await;
    let (_, body) = mfa_login(&app, &email).await;
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    app.clock.advance_secs(601);
    assert_eq!(
        associate(&app, &token).await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "expired_token", "error_description": "mfa_token is expired"})
        )
    );
    assert_eq!(
        associate(&app, "garbage").await.1["error_description"],
        "Malformed mfa_token"
    );
    // A client without the MFA grants cannot enroll the user through the MFA API.
    let (status, body) = login(&app, "my-spa", None, &email).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("mfa_registration_required"))
    );
    assert!(body["mfa_token"].is_string());
    // Not enrolled: a challenge is refused as Auth0 refuses it.
    let (_, body) = mfa_login(&app, &email).await;
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    let (status, body) = app
        .post_json("/mfa/challenge", &json!({"client_id": "mfa-app", "client_secret": "mfa-app-long-secret", "mfa_token": token, "challenge_type": "otp"}))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "unsupported_challenge_type", "error_description": "User is not enrolled with guardian"})
        )
    );
}

#[tokio::test]
async fn the_management_api_sees_and_resets_a_users_factors() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let admin = app.management_token().await;
    let (email, _, _) = enrolled_user(&app).await;
    let (_, users) = app
        .get(
            &format!("/api/v2/users-by-email?email={email}"),
            Some(&admin),
        )
        .await;
    let user_id = users[0]["user_id"].as_str().expect("user_id").to_owned();

    let (_, enrollments) = app
        .get(
            &format!("/api/v2/users/{user_id}/enrollments"),
            Some(&admin),
        )
        .await;
    assert_eq!(enrollments.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (&enrollments[0]["status"], &enrollments[0]["auth_method"]),
        (&json!("confirmed"), &json!("authenticator"))
    );
    let (status, methods) = app
        .get(
            &format!("/api/v2/users/{user_id}/authentication-methods"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut types: Vec<&str> = methods
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["type"].as_str())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["recovery-code", "totp"]);
    let (_, totals) = app
        .get(
            &format!("/api/v2/users/{user_id}/authentication-methods?include_totals=true"),
            Some(&admin),
        )
        .await;
    assert_eq!(totals["total"], 2);
    let totp = methods
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["type"] == "totp")
        .expect("totp")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let encoded = totp.replace('|', "%7C");
    let (status, one) = app
        .get(
            &format!("/api/v2/users/{user_id}/authentication-methods/{encoded}"),
            Some(&admin),
        )
        .await;
    assert_eq!((status, &one["confirmed"]), (StatusCode::OK, &json!(true)));

    // A regenerated recovery code replaces the old one.
    let (status, regenerated) = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v2/users/{user_id}/recovery-code-regeneration"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let code = regenerated["recovery_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let (_, body) = mfa_login(&app, &email).await;
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert_eq!(
        grant(&app, RECOVERY_GRANT, &token, "recovery_code", &code)
            .await
            .0,
        StatusCode::OK
    );

    // Removing the TOTP authenticator sends the user back to enrollment.
    let (status, _) = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v2/users/{user_id}/authentication-methods/{encoded}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = mfa_login(&app, &email).await;
    assert_eq!(
        body["mfa_requirements"],
        json!({"enroll": [{"type": "otp"}]})
    );
    let (status, missing) = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v2/users/{user_id}/authentication-methods/{encoded}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        (status, &missing["errorCode"]),
        (
            StatusCode::NOT_FOUND,
            &json!("inexistent_authentication_method")
        )
    );
    let (status, _) = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v2/users/{user_id}/authentication-methods"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, methods) = app
        .get(
            &format!("/api/v2/users/{user_id}/authentication-methods"),
            Some(&admin),
        )
        .await;
    assert_eq!(methods, json!([]));

    let (_, factors) = app.get("/api/v2/guardian/factors", Some(&admin)).await;
    let enabled: Vec<&str> = factors
        .as_array()
        .expect("array")
        .iter()
        .filter(|f| f["enabled"] == true)
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(enabled, ["otp", "recovery-code"]);
    assert_eq!(
        app.get("/api/v2/guardian/policies", Some(&admin)).await.1,
        json!(["all-applications"])
    );
}

#[tokio::test]
async fn the_guardian_policy_can_be_changed_through_the_management_api() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let admin = app.management_token().await;
    let email = format!("{}@example.com", unique("mfa-"));
    app.signup(DB, &email, STRONG).await;
    assert_eq!(mfa_login(&app, &email).await.0, StatusCode::FORBIDDEN);
    let put = |path: &'static str, body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.send(reqwest::Method::PUT, path, &admin, Some(&body))
                .await
        }
    };
    assert_eq!(
        put("/api/v2/guardian/policies", json!([])).await,
        (StatusCode::OK, json!([]))
    );
    assert_eq!(
        mfa_login(&app, &email).await.0,
        StatusCode::OK,
        "MFA no longer required"
    );
    assert_eq!(
        put("/api/v2/guardian/policies", json!(["all-applications"]))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(mfa_login(&app, &email).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        put(
            "/api/v2/guardian/factors/recovery-code",
            json!({"enabled": false})
        )
        .await,
        (StatusCode::OK, json!({"enabled": false}))
    );
    let (_, body) = mfa_login(&app, &email).await;
    let (_, enrollment) = associate(&app, body["mfa_token"].as_str().expect("token")).await;
    assert!(enrollment.get("recovery_codes").is_none(), "{enrollment}");
    assert_eq!(
        put("/api/v2/guardian/factors/sms", json!({"enabled": true}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put("/api/v2/guardian/policies", json!(["confidence-score"]))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn an_enrollment_ticket_leads_to_a_hosted_enrollment() {
    let app = TestApp::spawn_with(Backend::Sqlite, GUARDIAN).await;
    let admin = app.management_token().await;
    let email = format!("{}@example.com", unique("mfa-"));
    let (_, signed_up) = app.signup(DB, &email, STRONG).await;
    let user_id = format!("auth0|{}", signed_up["_id"].as_str().expect("_id"));
    let (status, ticket) = app
        .send(
            reqwest::Method::POST,
            "/api/v2/guardian/enrollments/ticket",
            &admin,
            Some(&json!({"user_id": user_id, "send_mail": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ticket}");
    let url = ticket["ticket_url"].as_str().expect("url").to_owned();
    assert!(url.starts_with(&format!("{}/guardian-enrollment-ticket?ticket=", app.base)));
    assert_eq!(app.mails("multi-factor", 1).await.len(), 1);

    let html = app
        .http
        .get(&url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(html.contains("<svg"), "a QR code");
    let secret = html
        .split("id=\"secret\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("secret")
        .to_owned();
    let token = ticket["ticket_id"].as_str().expect("id").to_owned();
    let wrong = app
        .http
        .post(format!("{}/guardian-enrollment-ticket", app.base))
        .form(&[("ticket", token.as_str()), ("code", "000000")])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .text()
            .await
            .expect("html")
            .contains("Wrong code. Please try again.")
    );
    let code = code_at(&secret, app.clock.now_secs()).expect("code");
    let done = app
        .http
        .post(format!("{}/guardian-enrollment-ticket", app.base))
        .form(&[("ticket", token.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), StatusCode::OK);
    let html = done.text().await.expect("html");
    assert!(
        html.contains("You are enrolled") && html.contains("recovery code"),
        "{html}"
    );
    // The user is enrolled: the next login is a challenge, and the ticket is used.
    let (_, body) = mfa_login(&app, &email).await;
    assert_eq!(
        body["mfa_requirements"],
        json!({"challenge": [{"type": "otp"}]})
    );
    let again = app.http.get(&url).send().await.expect("get");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}
