//! Web login: `/authorize` with PKCE, the hosted login and sign-up pages, the session cookie,
//! the authorization-code grant, `prompt=none` and logout.

use reqwest::StatusCode;
use reqwest::header::LOCATION;

use crate::browser::{Browser, CALLBACK, authorize_path, code_for, exchange, pkce, query_param};
use crate::helpers::{DB, STRONG, TestApp, claims, unique};

#[tokio::test]
async fn unknown_clients_and_unregistered_callbacks_go_to_the_error_page_never_elsewhere() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let cases = [
        (
            authorize_path(&challenge, "").replace("client_id=my-spa", "client_id=nobody"),
            "invalid_request",
            "Unknown client: nobody".to_owned(),
        ),
        (
            authorize_path(&challenge, "").replace("8080%2Fcallback", "8080%2Fcallback%2Fevil"),
            "unauthorized_client",
            format!("Callback URL mismatch. {CALLBACK}/evil is not in the list of allowed callback URLs."),
        ),
        (
            authorize_path(&challenge, "").replace(
                "redirect_uri=",
                "redirect_uri=https%3A%2F%2Fevil.example%2F&x=",
            ),
            "unauthorized_client",
            "Callback URL mismatch. https://evil.example/ is not in the list of allowed callback URLs."
                .to_owned(),
        ),
    ];
    for (path, error, description) in cases {
        let (status, location, _) = browser.get(&path).await;
        assert_eq!(status, StatusCode::FOUND, "{path}");
        assert!(
            location.starts_with(&format!("{}error?", app.issuer())),
            "only to the tenant's error page: {location}"
        );
        assert_eq!(query_param(&location, "error").as_deref(), Some(error));
        assert_eq!(
            query_param(&location, "error_description").as_deref(),
            Some(description.as_str())
        );
        let tracking = query_param(&location, "tracking").expect("tracking");
        assert_eq!(tracking.len(), 20);
        // The page shows the error as text.
        let page_path = location.trim_start_matches(app.base.as_str());
        let (status, _, page) = browser.get(page_path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains(&tracking) && page.contains(error), "{page}");
    }
    // Whatever the query says, the page only prints it.
    let (_, _, page) = browser
        .get(
            "/error?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%3Cb%3Ex%3C%2Fb%3E",
        )
        .await;
    assert!(
        !page.contains("<script>alert") && !page.contains("<b>x</b>"),
        "{page}"
    );

    // A tenant's own error page receives the same parameters.
    let app = TestApp::spawn_with_tenant_keys(
        crate::helpers::Backend::Sqlite,
        "error_page = { url = \"https://support.example.com/oops?from=auth\" }",
        "",
    )
    .await;
    let mut browser = Browser::new(&app);
    let (status, location, _) = browser
        .get(&authorize_path(&challenge, "").replace("client_id=my-spa", "client_id=nobody"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location.starts_with(
            "https://support.example.com/oops?from=auth&client_id=nobody&error=invalid_request"
        ),
        "{location}"
    );
}

#[tokio::test]
async fn public_clients_must_use_s256_pkce() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    let path = authorize_path("", "").replace("&code_challenge=&code_challenge_method=S256", "");
    let (status, location, _) = browser.get(&path).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn login_page_session_code_exchange_and_logout() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("web-"));
    let (status, created) = app.signup(DB, &email, STRONG).await;
    assert_eq!(status, StatusCode::OK);
    let user_id = format!("auth0|{}", created["_id"].as_str().expect("_id"));
    let mut browser = Browser::new(&app);

    // No session: prompt=none answers login_required.
    let (verifier, challenge) = pkce();
    let (_, location, _) = browser
        .get(&authorize_path(&challenge, "&prompt=none"))
        .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );

    // The login page: a wrong password shows Auth0's message and no redirect.
    let (status, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(login_page.starts_with("/u/login?state="), "{login_page}");
    let (status, _, form) = browser.get(&login_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"password\""));
    let state = query_param(&login_page, "state").expect("state");
    let (status, location, body) = browser
        .submit_login(&state, &email, "wrong-password-1A!")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_empty());
    assert!(body.contains("Wrong email or password."), "{body}");
    assert!(browser.session().is_none());

    let (status, location, _) = browser.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    assert!(browser.session().is_some(), "a session cookie");
    let code = query_param(&location, "code").expect("code");

    // A wrong verifier fails, and the code is spent.
    let (status, body) = exchange(&app, &code, "not-the-verifier").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid_grant"))
    );
    assert_eq!(
        exchange(&app, &code, &verifier).await.0,
        StatusCode::FORBIDDEN
    );

    // The session answers prompt=none with a fresh code.
    let (verifier, challenge) = pkce();
    let (_, location, _) = browser
        .get(&authorize_path(&challenge, "&prompt=none"))
        .await;
    let code = query_param(&location, "code").expect("code from the session");
    let (status, tokens) = exchange(&app, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id_token = claims(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(id_token["email"], email.as_str());
    assert_eq!(id_token["nonce"], "n-1");
    assert_eq!(
        exchange(&app, &code, &verifier).await.0,
        StatusCode::FORBIDDEN,
        "codes work once"
    );

    // Logout: only a registered returnTo, and the session ends.
    let (status, location, _) = browser
        .get("/v2/logout?client_id=my-spa&returnTo=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_empty());
    let (status, location, _) = browser
        .get("/v2/logout?client_id=my-spa&returnTo=http%3A%2F%2Flocalhost%3A8080%2F")
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location, "http://localhost:8080/");
    assert!(browser.session().is_none());
    let (_, challenge) = pkce();
    let (_, location, _) = browser
        .get(&authorize_path(&challenge, "&prompt=none"))
        .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );

    // The operator's view: a web login, the exchange and the logout, newest first.
    let token = app.management_token().await;
    let (_, events) = app
        .get(&format!("/api/v2/users/{user_id}/logs"), Some(&token))
        .await;
    let types: Vec<&str> = events
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, ["slo", "seacft", "s", "fp", "ss"]);
}

#[tokio::test]
async fn silent_authentication_by_web_message_and_oidc_logout() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("silent-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let mut browser = Browser::new(&app);
    let silent = "&prompt=none&response_mode=web_message";

    // Without a session the iframe is told login_required, posted to the app's origin only.
    let (_, challenge) = pkce();
    let (status, _, page) = browser.get(&authorize_path(&challenge, silent)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("\"authorization_response\""), "{page}");
    assert!(page.contains("\"error\":\"login_required\""), "{page}");
    assert!(
        page.contains("var targetOrigin = \"http://localhost:8080\""),
        "{page}"
    );

    // Log in through the page, then the iframe gets a code for the session.
    let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    let state = query_param(&login_page, "state").expect("state");
    let (status, _, _) = browser.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::FOUND);
    let (verifier, challenge) = pkce();
    let (_, _, page) = browser.get(&authorize_path(&challenge, silent)).await;
    let code = page
        .split("\"code\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("code in the message")
        .to_owned();
    assert!(page.contains("\"state\":\"xyz\""));
    let (status, tokens) = exchange(&app, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // An origin that is not an Allowed Web Origin gets nothing posted.
    let foreign = authorize_path(&challenge, silent).replace("my-spa", "rotating");
    let (status, location, page) = browser.get(&foreign).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location.starts_with(&format!("{}error?", app.issuer())),
        "{location}"
    );
    assert!(!page.contains("authorization_response"));

    // RP-initiated logout: the registered URL, with state, and the session is gone.
    let id_token = tokens["id_token"].as_str().expect("id_token");
    let (status, location, _) = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={id_token}&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F&state=s1"
        ))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location, "http://localhost:8080/?state=s1");
    let (_, _, page) = browser.get(&authorize_path(&challenge, silent)).await;
    assert!(page.contains("\"error\":\"login_required\""), "{page}");
}

#[tokio::test]
async fn hosted_sign_up_shows_each_error_keeps_the_email_and_signs_in() {
    let app = TestApp::spawn().await;
    let taken = format!("{}@example.com", unique("taken-"));
    assert_eq!(app.signup(DB, &taken, STRONG).await.0, StatusCode::OK);
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (status, signup_page, _) = browser
        .get(&authorize_path(&challenge, "&screen_hint=signup"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(signup_page.starts_with("/u/signup?state="), "{signup_page}");
    let (status, _, form) = browser.get(&signup_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"email\""));
    let state = query_param(&signup_page, "state").expect("state");

    let email = format!("{}@example.com", unique("new-"));
    let (status, location, body) = browser
        .post(
            "/u/signup",
            &[("state", &state), ("email", &email), ("password", "short")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_empty());
    assert!(body.contains("Password is too weak"), "{body}");
    assert!(body.contains(&email), "the form keeps the e-mail");
    assert!(!body.contains("short"), "never the password");

    let (_, _, body) = browser
        .post(
            "/u/signup",
            &[("state", &state), ("email", &taken), ("password", STRONG)],
        )
        .await;
    assert!(body.contains("The user already exists."), "{body}");

    let (status, location, _) = browser
        .post(
            "/u/signup",
            &[("state", &state), ("email", &email), ("password", STRONG)],
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with(CALLBACK), "{location}");
    assert!(query_param(&location, "code").is_some());
    assert!(browser.session().is_some(), "signed in");
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_login_form_answers_only_the_browser_that_opened_it() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("csrf-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let mut victim = Browser::new(&app);
    let mut attacker = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, login_page, _) = attacker.get(&authorize_path(&challenge, "")).await;
    let state = query_param(&login_page, "state").expect("state");
    // The attacker's transaction, submitted from another browser, signs no one in.
    let (status, location, _) = victim.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_empty());
    assert!(victim.session().is_none());
    // A tampered transaction is refused too.
    let (status, _, _) = attacker
        .post(
            "/u/login",
            &[
                ("state", &format!("x{state}")),
                ("username", &email),
                ("password", STRONG),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = attacker.submit_login(&state, &email, STRONG).await;
    assert_eq!(status, StatusCode::FOUND);
}

#[tokio::test]
async fn forgot_password_from_the_login_page_mails_a_link_and_tells_nobody_who_exists() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("forgot-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    let (_, _, form) = browser.get(&login_page).await;
    assert!(
        form.contains("/u/reset-password?state="),
        "the login page links to it"
    );
    let state = query_param(&login_page, "state").expect("state");
    let (status, _, page) = browser
        .get(&format!("/u/reset-password?state={state}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"email\""));

    let nobody = format!("{}@example.com", unique("nobody-"));
    let (status, _, unknown) = browser
        .post(
            "/u/reset-password",
            &[("state", &state), ("email", &nobody)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, known) = browser
        .post("/u/reset-password", &[("state", &state), ("email", &email)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        unknown.replace(&nobody, "ADDRESS"),
        known.replace(&email, "ADDRESS"),
        "the same answer for both"
    );
    let mails = app.mails("Reset your password", 1).await;
    assert!(mails.iter().any(|m| m.contains(&email)));
    assert!(!mails.iter().any(|m| m.contains(&nobody)));
}

#[tokio::test]
async fn max_age_asks_for_the_password_again_once_the_login_is_older() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("max-age-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let mut browser = Browser::new(&app);
    let (verifier, challenge) = pkce();
    let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    let state = query_param(&login_page, "state").expect("state");
    browser.submit_login(&state, &email, STRONG).await;
    assert!(browser.session().is_some());
    app.clock.advance_secs(120);
    let (_, location, _) = browser
        .get(&authorize_path(&challenge, "&prompt=none&max_age=300"))
        .await;
    let code = query_param(&location, "code").expect("code");
    let (status, tokens) = exchange(&app, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id_token = claims(tokens["id_token"].as_str().expect("id_token"));
    let auth_time = id_token["auth_time"].as_i64().expect("auth_time");
    assert_eq!(
        id_token["iat"].as_i64().expect("iat") - auth_time,
        120,
        "the login's time, not the token's"
    );
    let (_, location, _) = browser
        .get(&authorize_path(&challenge, "&prompt=none&max_age=60"))
        .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn logout_checks_the_applications_logout_urls_or_without_one_the_tenants() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    let bye = "returnTo=http%3A%2F%2Flocalhost%3A9090%2Fbye";
    // Without a client_id, the tenant's list.
    let (status, location, _) = browser.get(&format!("/v2/logout?{bye}")).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::FOUND, "http://localhost:9090/bye")
    );
    // With one, the application's list only, as Auth0 checks it; the refusal quotes the URL.
    for client in ["my-spa", "backend"] {
        let (status, location, page) = browser
            .get(&format!("/v2/logout?client_id={client}&{bye}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{client}");
        assert!(location.is_empty());
        assert!(
            page.contains("is not defined as a valid URL in") && page.contains("localhost:9090"),
            "{page}"
        );
    }
    // Without returnTo, the application's first allowed logout URL.
    let (status, location, _) = browser.get("/v2/logout?client_id=my-spa").await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::FOUND, "http://localhost:8080/")
    );
}

#[tokio::test]
async fn pages_carry_the_tenants_branding_and_template_files_replace_pages() {
    let dir = std::env::temp_dir().join(unique("portcullis-templates-"));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("signup.html"),
        "{% extends \"layout.html\" %}{% block content %}<h1>Join {{ application }}</h1>\
         <form method=\"post\" action=\"/u/signup\"><input type=\"hidden\" name=\"state\" value=\"{{ state }}\"></form>{% endblock %}",
    )
    .expect("template");
    let tail = format!(
        "[branding]\npage_title = \"Acme <Corp>\"\nlogo_url = \"https://cdn.example.com/logo.png\"\n\
         templates_dir = \"{}\"\ncolors = {{ primary = \"#0a7c42\", page_background = \"#101820\" }}\n",
        dir.display()
    );
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, &tail).await;
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
    let (status, page) = {
        let (status, _, page) = browser.get(&login_page).await;
        (status, page)
    };
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("--primary: #0a7c42"), "{page}");
    assert!(page.contains("--page: #101820"));
    assert!(
        page.replace("&#x2f;", "/")
            .contains("<img src=\"https://cdn.example.com/logo.png\"")
    );
    assert!(
        page.contains("Acme &lt;Corp&gt;"),
        "the title is escaped: {page}"
    );
    assert!(page.contains("<label>Email address or username"));
    let (_, _, signup) = browser
        .get(&login_page.replacen("/u/login", "/u/signup", 1))
        .await;
    assert!(signup.contains("<h1>Join My SPA</h1>"), "{signup}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn browsers_may_call_the_token_endpoint_only_from_registered_origins() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(
            reqwest::Method::OPTIONS,
            format!("{}/oauth/token", app.base),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type,auth0-client",
        )
        .send()
    };
    let allowed = preflight("http://localhost:8080").await.expect("preflight");
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .expect("methods");
    assert!(methods.contains("POST"), "{methods}");
    let foreign = preflight("https://evil.example").await.expect("preflight");
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_and_redirect_uri_and_pkce_cannot_be_downgraded() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("bound-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let mut browser = Browser::new(&app);
    let (verifier, challenge) = pkce();

    // Another redirect_uri than the one the code was issued for: refused, and the code spent.
    let code = code_for(&mut browser, &email, &challenge).await;
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "my-spa"),
                ("code", &code),
                ("code_verifier", &verifier),
                ("redirect_uri", "http://localhost:8080/other"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        exchange(&app, &code, &verifier).await.0,
        StatusCode::FORBIDDEN
    );

    // Another client cannot redeem it.
    let code = code_for(&mut browser, &email, &challenge).await;
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "embedded"),
                ("client_secret", "embedded-login-long-secret"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    // Without the verifier (a PKCE downgrade) a public client's code is refused.
    let code = code_for(&mut browser, &email, &challenge).await;
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "my-spa"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Without the redirect_uri its /authorize named (RFC 6749 §4.1.3): refused.
    let code = code_for(&mut browser, &email, &challenge).await;
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "my-spa"),
                ("code", &code),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": "invalid_grant", "error_description": "redirect_uri is required if it was included in the authorization request."})
        )
    );
    // … and a plain challenge is not accepted from a public client at all.
    let (status, location, _) = browser
        .get(
            &authorize_path("plain-challenge-0123456789-0123456789-0123", "")
                .replace("code_challenge_method=S256", "code_challenge_method=plain"),
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn bad_input_to_the_browser_endpoints_is_a_4xx_and_signs_nobody_in() {
    let app = TestApp::spawn().await;
    let users = app.user_count().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let post = |path: &'static str, body: &'static str, content_type: &'static str| {
        let (http, base) = (http.clone(), app.base.clone());
        async move {
            http.post(format!("{base}{path}"))
                .header("Origin", "http://localhost:8080")
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .expect("post")
                .status()
        }
    };
    for (path, body, content_type) in [
        ("/co/authenticate", "{not json", "application/json"),
        (
            "/co/authenticate",
            "{\"client_id\": \"embedded\"}",
            "application/json",
        ),
        (
            "/co/authenticate",
            "{\"client_id\": 7, \"username\": \"a\", \"password\": \"b\"}",
            "application/json",
        ),
        ("/co/authenticate", "x", "text/plain"),
        (
            "/u/login",
            "state=forged&username=a&password=b",
            "application/x-www-form-urlencoded",
        ),
        (
            "/u/signup",
            "state=forged&email=a%40example.com&password=Correct-Horse-9",
            "application/x-www-form-urlencoded",
        ),
        (
            "/u/mfa-otp-challenge",
            "state=forged&mfa_token=x&code=123456",
            "application/x-www-form-urlencoded",
        ),
        (
            "/u/mfa-otp-enrollment",
            "state=forged&enrollment=x&code=1",
            "application/x-www-form-urlencoded",
        ),
        (
            "/u/mfa-recovery-code",
            "state=forged&code=x",
            "application/x-www-form-urlencoded",
        ),
        (
            "/u/co-verify",
            "state=forged&login_ticket=x&co_verifier=y",
            "application/x-www-form-urlencoded",
        ),
        (
            "/u/reset-password",
            "\u{1}\u{2}",
            "application/x-www-form-urlencoded",
        ),
    ] {
        let status = post(path, body, content_type).await;
        assert!(status.is_client_error(), "{path} {body} -> {status}");
    }
    for path in [
        "/u/continue?answer=forged",
        "/u/login?state=%00",
        "/authorize?client_id=my-spa&response_type=code&redirect_uri=%FF",
        "/authorize?client_id=embedded&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&login_ticket=forged",
    ] {
        let response = http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().expect("location").to_owned())
            .unwrap_or_default();
        assert!(
            status.is_client_error() || query_param(&location, "error").is_some(),
            "{path} -> {status} {location}"
        );
        assert!(query_param(&location, "code").is_none());
    }
    assert_eq!(app.user_count().await, users, "nothing was created");
}
