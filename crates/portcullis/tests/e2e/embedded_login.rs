//! Logins that do not start on the hosted page: cross-origin authentication (auth0.js
//! `login`, Lock) with its verifier cookie or verification page, and the legacy implicit grant.

use reqwest::StatusCode;

use crate::browser::{
    Browser, CALLBACK, co_authenticate, fragment_param, hidden, query_param, ticket_authorize_path,
};
use crate::helpers::{DB, STRONG, TestApp, claims, unique};

#[tokio::test]
async fn cross_origin_authentication_gives_a_ticket_that_only_its_browser_can_use_once() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("embedded-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let origin = "http://localhost:8080";

    // Wrong password: access_denied, which Lock shows as "Wrong email or password.".
    let mut browser = Browser::new(&app);
    let (status, body) = co_authenticate(&mut browser, origin, "embedded", &email, "Wrong-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        serde_json::json!({"error": "access_denied", "error_description": "Wrong email or password."})
    );

    // Not from an allowed origin, or for a client that does not allow it.
    let (status, body) = co_authenticate(
        &mut browser,
        "https://evil.example",
        "embedded",
        &email,
        STRONG,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        serde_json::json!({"error": "unauthorized_client", "error_description": "Cross origin login not allowed."})
    );
    let (status, _) = co_authenticate(&mut browser, origin, "my-spa", &email, STRONG).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The right password: a ticket, its verifier, and the verifier cookie.
    let (status, body) = co_authenticate(&mut browser, origin, "embedded", &email, STRONG).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ticket = body["login_ticket"]
        .as_str()
        .expect("login_ticket")
        .to_owned();
    let co_id = body["co_id"].as_str().expect("co_id");
    let verifier = body["co_verifier"].as_str().expect("co_verifier");
    assert_eq!(
        browser
            .cookies
            .get(&format!("portcullis_co_{co_id}"))
            .map(String::as_str),
        Some(verifier)
    );

    // Another browser (no verifier cookie) cannot use the ticket …
    let mut thief = Browser::new(&app);
    let (status, location, _) = thief.get(&ticket_authorize_path(&ticket)).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    // … and the attempt burnt it: the ticket is single-use.
    let (_, location, _) = browser.get(&ticket_authorize_path(&ticket)).await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );

    // A fresh ticket in its own browser signs in and answers with a code.
    let (_, body) = co_authenticate(&mut browser, origin, "embedded", &email, STRONG).await;
    let ticket = body["login_ticket"]
        .as_str()
        .expect("login_ticket")
        .to_owned();
    let (status, location, _) = browser.get(&ticket_authorize_path(&ticket)).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    let code = query_param(&location, "code").expect("code");
    assert!(browser.session().is_some(), "a session for SSO");
    let (status, tokens) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "embedded"),
                ("client_secret", "embedded-login-long-secret"),
                ("code", &code),
                ("redirect_uri", "http://localhost:8080/callback"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        claims(tokens["id_token"].as_str().expect("id_token"))["email"],
        email.as_str()
    );
}

#[tokio::test]
async fn legacy_clients_get_tokens_in_the_fragment_with_the_implicit_grant() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("implicit-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let mut browser = Browser::new(&app);
    let path = |client: &str, response_type: &str, extra: &str| {
        format!(
            "/authorize?client_id={client}&response_type={response_type}&redirect_uri={}&scope=openid%20email&state=xyz{extra}",
            "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
        )
    };

    // An ID token needs a nonce; errors of implicit requests come back in the fragment.
    let (status, location, _) = browser.get(&path("legacy", "id_token", "")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        fragment_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        fragment_param(&location, "error_description").as_deref(),
        Some("Missing required parameter: nonce")
    );
    assert_eq!(fragment_param(&location, "state").as_deref(), Some("xyz"));
    // Only clients allowed the implicit grant; no hybrid types; never tokens in a query.
    let (_, location, _) = browser.get(&path("my-spa", "token", "&nonce=n")).await;
    assert_eq!(
        fragment_param(&location, "error").as_deref(),
        Some("unauthorized_client")
    );
    let (_, location, _) = browser
        .get(&path("legacy", "code%20token", "&nonce=n"))
        .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("unsupported_response_type")
    );
    let (_, location, _) = browser
        .get(&path("legacy", "token", "&response_mode=query"))
        .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("unsupported_response_type")
    );

    // `id_token token`: the login page, then both tokens in the fragment.
    let (status, login_page, _) = browser
        .get(&path("legacy", "id_token%20token", "&nonce=n-42"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let state = query_param(&login_page, "state").expect("state");
    let (status, location, _) = browser.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location.starts_with("http://localhost:8080/callback#"),
        "{location}"
    );
    assert_eq!(fragment_param(&location, "state").as_deref(), Some("xyz"));
    assert_eq!(
        fragment_param(&location, "token_type").as_deref(),
        Some("Bearer")
    );
    assert_eq!(
        fragment_param(&location, "expires_in").as_deref(),
        Some("86400")
    );
    let id_token = fragment_param(&location, "id_token").expect("id_token");
    let id = claims(&id_token);
    assert_eq!(id["nonce"], "n-42");
    assert_eq!(id["aud"], "legacy");
    assert_eq!(id["email"], email.as_str());
    let access_token = fragment_param(&location, "access_token").expect("access_token");
    let userinfo = reqwest::Client::new()
        .get(format!("{}/userinfo", app.base))
        .bearer_auth(&access_token)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(userinfo.status(), StatusCode::OK);

    // With the session, `id_token` alone comes without the login page and no access token.
    let (_, location, _) = browser
        .get(&path("legacy", "id_token", "&nonce=n-43"))
        .await;
    assert!(
        fragment_param(&location, "id_token").is_some(),
        "{location}"
    );
    assert!(fragment_param(&location, "access_token").is_none());
}

#[tokio::test]
async fn without_the_verifier_cookie_the_applications_verification_page_supplies_the_verifier() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("co-loc-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let origin = "http://localhost:8080";
    let path = |ticket: &str| ticket_authorize_path(ticket).replace("=embedded&", "=embedded-loc&");

    for (verifier_is_right, expect_code) in [(false, false), (true, true)] {
        let mut browser = Browser::new(&app);
        let (status, body) =
            co_authenticate(&mut browser, origin, "embedded-loc", &email, STRONG).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ticket = body["login_ticket"].as_str().expect("ticket").to_owned();
        let verifier = body["co_verifier"].as_str().expect("verifier").to_owned();
        // The browser withheld the cookie (third-party cookies blocked).
        browser.cookies.clear();
        let (status, _, page) = browser.get(&path(&ticket)).await;
        assert_eq!(status, StatusCode::OK);
        let page = page.replace("&#x2f;", "/");
        assert!(
            page.contains(&format!(
                "src=\"http://localhost:8080/co-verify#origin={}\"",
                app.base.replace(':', "%3A").replace('/', "%2F")
            )),
            "{page}"
        );
        let state = hidden(&page, "state");
        let presented = if verifier_is_right {
            verifier.clone()
        } else {
            "not-the-verifier".to_owned()
        };
        let (status, location, _) = browser
            .post(
                "/u/co-verify",
                &[
                    ("state", &state),
                    ("login_ticket", &ticket),
                    ("co_verifier", &presented),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(
            query_param(&location, "code").is_some(),
            expect_code,
            "{location}"
        );
        if !expect_code {
            assert_eq!(
                query_param(&location, "error").as_deref(),
                Some("access_denied")
            );
        }
    }
}
