//! Actions and Rules over HTTP: each trigger, each deny path with Auth0's answers, claims and
//! metadata, MFA asked for by a script, and scripts that fail or never end.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, DB, STRONG, TestApp, claims, unique};

/// Writes each script to a file and returns the TOML deploying them.
pub(crate) fn deploy(
    actions: &[(&str, &str, &str)],
    rules: &[(&str, &str)],
    extra: &str,
) -> String {
    let dir = std::env::temp_dir().join(unique("portcullis-actions-"));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut toml = String::new();
    for (name, trigger, code) in actions {
        let path = dir.join(format!("{name}.js"));
        std::fs::write(&path, code).expect("write action");
        toml.push_str(&format!(
            "[[actions]]\nname = \"{name}\"\ntrigger = \"{trigger}\"\ncode = \"{}\"\nsecrets = {{ GREETING = \"hello\" }}\n\n",
            path.display()
        ));
    }
    for (name, code) in rules {
        let path = dir.join(format!("{name}.js"));
        std::fs::write(&path, code).expect("write rule");
        toml.push_str(&format!(
            "[[rules]]\nname = \"{name}\"\nscript = \"{}\"\n\n",
            path.display()
        ));
    }
    toml.push_str(extra);
    toml
}

const PRE_REGISTRATION: &str = r#"
exports.onExecutePreUserRegistration = async (event, api) => {
  if (event.user.email.endsWith("@denied.example")) {
    api.access.deny("domain_not_allowed", "Sign-ups from this domain are not allowed.");
    return;
  }
  api.user.setUserMetadata("greeting", event.secrets.GREETING);
  api.user.setAppMetadata("plan", "free");
};
"#;

pub(crate) const POST_LOGIN: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.email.startsWith("deny-")) {
    return api.access.deny("Access to this application is not allowed.");
  }
  if (event.user.email.startsWith("throw-")) {
    throw new Error("upstream unavailable");
  }
  if (event.user.email.startsWith("loop-")) {
    for (;;) {}
  }
  if (event.user.email.startsWith("mfa-")) {
    api.multifactor.enable("any");
  }
  if (event.transaction.protocol === "oauth2-refresh-token" && event.user.email.startsWith("norefresh-")) {
    return api.access.deny("Refreshing is not allowed.");
  }
  api.idToken.setCustomClaim("https://example.com/plan", event.user.app_metadata.plan || "none");
  api.idToken.setCustomClaim("iss", "forged");
  api.accessToken.setCustomClaim("https://example.com/logins", event.stats.logins_count);
  api.user.setAppMetadata("last_client", event.client.client_id);
  console.log("post-login of", event.user.email);
};
"#;

pub(crate) const RULE: &str = r#"
function (user, context, callback) {
  if (user.email.startsWith("rule-")) {
    return callback(new UnauthorizedError("Only staff may log in."));
  }
  context.idToken["https://example.com/region"] = configuration.REGION;
  callback(null, user, context);
}
"#;

async fn tenant() -> TestApp {
    let tail = deploy(
        &[
            ("registration", "pre-user-registration", PRE_REGISTRATION),
            ("login", "post-login", POST_LOGIN),
            (
                "welcome",
                "post-user-registration",
                "exports.onExecutePostUserRegistration = async () => { throw new Error('mailer down'); };",
            ),
        ],
        &[("staff-only", RULE)],
        "[rules_configs]\nREGION = \"eu\"\n\n[guardian]\npolicy = \"never\"\n[guardian.factors]\notp = { enabled = true }\n",
    );
    TestApp::spawn_with(Backend::Sqlite, &tail).await
}

fn email(prefix: &str) -> String {
    format!("{}@example.com", unique(prefix))
}

#[tokio::test]
async fn pre_user_registration_denies_or_sets_metadata() {
    let app = tenant().await;
    let (status, body) = app
        .signup(DB, &format!("{}@denied.example", unique("x")), STRONG)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "name": "InternalExtensibilityError",
            "statusCode": 400,
            "code": "extensibility_error",
            "message": "domain_not_allowed",
            "friendly_message": "Sign-ups from this domain are not allowed.",
            "description": "domain_not_allowed",
            "fromSandbox": true
        })
    );

    let address = email("ok-");
    let (status, body) = app.signup(DB, &address, STRONG).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin = app.management_token().await;
    let id = format!("auth0|{}", body["_id"].as_str().expect("id"));
    let (_, user) = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v2/users/{}", id.replace('|', "%7C")),
            &admin,
            None,
        )
        .await;
    assert_eq!(user["user_metadata"], json!({"greeting": "hello"}));
    assert_eq!(user["app_metadata"], json!({"plan": "free"}));
}

#[tokio::test]
async fn post_login_adds_claims_and_metadata_and_rules_run_first() {
    let app = tenant().await;
    let address = email("claims-");
    assert_eq!(app.signup(DB, &address, STRONG).await.0, StatusCode::OK);
    let (status, tokens) = app.login(&address, STRONG).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(id["https://example.com/plan"], "free");
    assert_eq!(id["https://example.com/region"], "eu", "from the Rule");
    assert_ne!(id["iss"], "forged", "reserved claims cannot be set");

    // The access token for an API carries the access-token claims.
    let (status, tokens) = app
        .post_form(
            "/oauth/token",
            &[
                (
                    "grant_type",
                    "http://auth0.com/oauth/grant-type/password-realm",
                ),
                ("client_id", "my-spa"),
                ("realm", DB),
                ("username", &address),
                ("password", STRONG),
                ("audience", "https://api.example.com"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = claims(tokens["access_token"].as_str().expect("access_token"));
    assert_eq!(access["https://example.com/logins"], 2);

    // Metadata set at login is saved; console.log goes nowhere near the answer.
    let admin = app.management_token().await;
    let (_, users) = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v2/users-by-email?email={address}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(users[0]["app_metadata"]["last_client"], "my-spa");

    // What the Action printed is in the login's log event.
    let (_, logs) = app
        .send(
            reqwest::Method::GET,
            "/api/v2/logs?q=type%3A%22sepft%22&per_page=10",
            &admin,
            None,
        )
        .await;
    let printed = format!("post-login of {address}");
    assert!(
        logs.as_array()
            .expect("logs")
            .iter()
            .any(|l| l["details"]["actions"]["logs"][0] == printed.as_str()),
        "{logs}"
    );
}

#[tokio::test]
async fn denies_and_failures_answer_as_auth0_and_are_logged() {
    let app = tenant().await;
    for (prefix, status, expected) in [
        (
            "deny-",
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "Access to this application is not allowed."}),
        ),
        (
            "rule-",
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "error_description": "Only staff may log in."}),
        ),
        (
            "throw-",
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "Error: upstream unavailable"}),
        ),
        (
            "loop-",
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "script execution time exceeded"}),
        ),
    ] {
        let address = email(prefix);
        assert_eq!(app.signup(DB, &address, STRONG).await.0, StatusCode::OK);
        assert_eq!(
            app.login(&address, STRONG).await,
            (status, expected),
            "{prefix}"
        );
    }
    let admin = app.management_token().await;
    let (_, logs) = app
        .send(
            reqwest::Method::GET,
            "/api/v2/logs?q=type%3A%22actions_execution_failed%22&per_page=50",
            &admin,
            None,
        )
        .await;
    let descriptions: Vec<&str> = logs
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(|l| l["description"].as_str())
        .collect();
    assert!(
        descriptions.contains(&"Error: upstream unavailable"),
        "{logs}"
    );
    assert!(descriptions.contains(&"script execution time exceeded"));
    // The post-user-registration failure is logged but did not stop any sign-up.
    assert!(descriptions.contains(&"Error: mailer down"), "{logs}");
}

#[tokio::test]
async fn a_looping_script_does_not_hold_up_other_requests() {
    let app = tenant().await;
    let address = email("loop-");
    assert_eq!(app.signup(DB, &address, STRONG).await.0, StatusCode::OK);
    let looping = {
        let base = app.base.clone();
        let address = address.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/oauth/token"))
                .form(&[
                    (
                        "grant_type",
                        "http://auth0.com/oauth/grant-type/password-realm",
                    ),
                    ("client_id", "my-spa"),
                    ("realm", DB),
                    ("username", address.as_str()),
                    ("password", STRONG),
                ])
                .send()
                .await
                .expect("login")
                .status()
        })
    };
    for _ in 0..20 {
        let (status, _) = app.get("/.well-known/jwks.json", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(looping.await.expect("join"), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_script_can_ask_for_mfa() {
    let app = tenant().await;
    let address = email("mfa-");
    assert_eq!(app.signup(DB, &address, STRONG).await.0, StatusCode::OK);
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                (
                    "grant_type",
                    "http://auth0.com/oauth/grant-type/password-realm",
                ),
                ("client_id", "mfa-app"),
                ("client_secret", "mfa-app-long-secret"),
                ("realm", DB),
                ("username", &address),
                ("password", STRONG),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "mfa_required");
    // Without the MFA grants the client is told to register a factor first.
    let (status, body) = app.login(&address, STRONG).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "mfa_registration_required");
    let _: Value = body;
}

#[tokio::test]
async fn the_web_flow_sends_a_denial_back_to_the_application_and_claims_in_its_tokens() {
    use crate::browser::{Browser, authorize_path, exchange, pkce, query_param};

    let app = tenant().await;
    let log_in = |address: String| {
        let app = &app;
        async move {
            let mut browser = Browser::new(app);
            let (verifier, challenge) = pkce();
            let (_, login_page, _) = browser.get(&authorize_path(&challenge, "")).await;
            let state = query_param(&login_page, "state").expect("state");
            let (status, location, _) = browser.submit_login(&state, &address, STRONG).await;
            assert_eq!(status, StatusCode::FOUND);
            (location, verifier)
        }
    };

    let denied = email("deny-");
    assert_eq!(app.signup(DB, &denied, STRONG).await.0, StatusCode::OK);
    let (location, _) = log_in(denied).await;
    assert!(
        location.starts_with("http://localhost:8080/callback?"),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_param(&location, "error_description").as_deref(),
        Some("Access to this application is not allowed.")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));

    let staff = email("rule-");
    assert_eq!(app.signup(DB, &staff, STRONG).await.0, StatusCode::OK);
    let (location, _) = log_in(staff).await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("unauthorized")
    );

    let allowed = email("web-");
    assert_eq!(app.signup(DB, &allowed, STRONG).await.0, StatusCode::OK);
    let (location, verifier) = log_in(allowed).await;
    let code = query_param(&location, "code").expect("code");
    let (status, tokens) = exchange(&app, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(id["https://example.com/plan"], "free");
    assert_eq!(id["https://example.com/region"], "eu");
}

#[tokio::test]
async fn actions_deployed_and_bound_through_the_management_api_run_at_login() {
    use reqwest::Method;

    let app = TestApp::spawn().await;
    let admin = app.management_token().await;
    let call = |method: Method, path: &str, body: Option<Value>| {
        let (app, admin, path) = (&app, admin.clone(), path.to_owned());
        async move { app.send(method, &path, &admin, body.as_ref()).await }
    };
    let code = |reason: &str| {
        format!(
            "exports.onExecutePostLogin = async (event, api) => {{ \
               if (event.user.email.startsWith('api-deny-')) api.access.deny('{reason} ' + event.secrets.SUFFIX); }};"
        )
    };
    let (status, action) = call(
        Method::POST,
        "/api/v2/actions/actions",
        Some(json!({
            "name": "deny-by-api",
            "supported_triggers": [{"id": "post-login", "version": "v3"}],
            "code": code("first"),
            "secrets": [{"name": "SUFFIX", "value": "(secret)"}],
            "runtime": "node18",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{action}");
    let id = action["id"].as_str().expect("id").to_owned();
    assert_eq!(
        action["supported_triggers"],
        json!([{"id": "post-login", "version": "v3"}])
    );
    assert_eq!(action["secrets"][0]["name"], "SUFFIX");
    assert!(
        action["secrets"][0].get("value").is_none(),
        "secret values are never returned"
    );
    assert_eq!(action["all_changes_deployed"], false);

    // Only a deployed action can be bound.
    let bind = json!({"bindings": [{"ref": {"type": "action_name", "value": "deny-by-api"}, "display_name": "Deny"}]});
    let (status, _) = call(
        Method::PATCH,
        "/api/v2/actions/triggers/post-login/bindings",
        Some(bind.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, version) = call(
        Method::POST,
        &format!("/api/v2/actions/actions/{id}/deploy"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{version}");
    assert_eq!(version["number"], 1);
    let (status, bound) = call(
        Method::PATCH,
        "/api/v2/actions/triggers/post-login/bindings",
        Some(bind),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bound}");
    assert_eq!(bound["bindings"][0]["display_name"], "Deny");
    assert_eq!(bound["bindings"][0]["action"]["id"], id.as_str());

    let denied = email("api-deny-");
    assert_eq!(app.signup(DB, &denied, STRONG).await.0, StatusCode::OK);
    assert_eq!(
        app.login(&denied, STRONG).await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "first (secret)"})
        )
    );
    let allowed = email("api-ok-");
    assert_eq!(app.signup(DB, &allowed, STRONG).await.0, StatusCode::OK);
    assert_eq!(app.login(&allowed, STRONG).await.0, StatusCode::OK);

    // A changed draft does not run until it is deployed.
    let (status, draft) = call(
        Method::PATCH,
        &format!("/api/v2/actions/actions/{id}"),
        Some(json!({"code": code("second")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["all_changes_deployed"], false);
    assert_eq!(
        app.login(&denied, STRONG).await.1["error_description"],
        "first (secret)"
    );
    call(
        Method::POST,
        &format!("/api/v2/actions/actions/{id}/deploy"),
        None,
    )
    .await;
    assert_eq!(
        app.login(&denied, STRONG).await.1["error_description"],
        "second (secret)"
    );

    let (_, listed) = call(
        Method::GET,
        "/api/v2/actions/triggers/post-login/bindings",
        None,
    )
    .await;
    assert_eq!(listed["total"], 1);
    let (_, triggers) = call(Method::GET, "/api/v2/actions/triggers", None).await;
    assert!(
        triggers["triggers"]
            .as_array()
            .expect("triggers")
            .iter()
            .any(|t| t["id"] == "pre-user-registration")
    );

    // Deleting the action unbinds it.
    let (status, _) = call(
        Method::DELETE,
        &format!("/api/v2/actions/actions/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.login(&denied, STRONG).await.0, StatusCode::OK);
    let (status, body) = call(Method::GET, &format!("/api/v2/actions/actions/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = call(Method::GET, "/api/v2/actions/actions", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn post_login_runs_for_refresh_tokens_too() {
    let app = tenant().await;
    let refresh = |address: String| {
        let app = &app;
        async move {
            let (status, tokens) = app
                .post_form(
                    "/oauth/token",
                    &[
                        (
                            "grant_type",
                            "http://auth0.com/oauth/grant-type/password-realm",
                        ),
                        ("client_id", "rotating"),
                        ("realm", DB),
                        ("username", &address),
                        ("password", STRONG),
                        ("scope", "openid offline_access"),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{tokens}");
            let token = tokens["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned();
            app.post_form(
                "/oauth/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "rotating"),
                    ("refresh_token", &token),
                ],
            )
            .await
        }
    };
    let allowed = email("refresh-");
    assert_eq!(app.signup(DB, &allowed, STRONG).await.0, StatusCode::OK);
    let (status, tokens) = refresh(allowed).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(
        id["https://example.com/region"], "eu",
        "claims on refreshed tokens too"
    );

    let refused = email("norefresh-");
    assert_eq!(app.signup(DB, &refused, STRONG).await.0, StatusCode::OK);
    assert_eq!(
        refresh(refused).await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "Refreshing is not allowed."})
        )
    );
}

#[tokio::test]
async fn the_hosted_sign_up_page_shows_the_actions_user_message() {
    use crate::browser::{Browser, authorize_path, pkce, query_param};

    let app = tenant().await;
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let (_, signup_page, _) = browser
        .get(&authorize_path(&challenge, "&screen_hint=signup"))
        .await;
    assert!(signup_page.starts_with("/u/signup?"), "{signup_page}");
    let state = query_param(&signup_page, "state").expect("state");
    let address = format!("{}@denied.example", unique("page-"));
    let (status, _, page) = browser
        .post(
            "/u/signup",
            &[("state", &state), ("email", &address), ("password", STRONG)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("Sign-ups from this domain are not allowed."),
        "{page}"
    );
    assert!(page.contains(&address), "the form keeps the e-mail");
}

#[tokio::test]
async fn bad_input_to_the_actions_api_is_refused_and_changes_nothing() {
    use reqwest::Method;

    let app = TestApp::spawn().await;
    let admin = app.management_token().await;
    let trigger = json!([{"id": "post-login", "version": "v3"}]);
    for body in [
        json!({"supported_triggers": trigger, "code": ""}),
        json!({"name": "x", "supported_triggers": [{"id": "on-everything"}]}),
        json!({"name": "x", "supported_triggers": "post-login"}),
        json!({"name": "x", "supported_triggers": trigger, "secrets": "not-a-list"}),
        json!({"name": "x", "supported_triggers": trigger, "secrets": [{"name": "A"}]}),
        json!({"name": "x", "supported_triggers": trigger, "code": 42}),
        json!({"name": "x", "supported_triggers": trigger, "surprise": true}),
        json!("not an object"),
    ] {
        let (status, answer) = app
            .send(Method::POST, "/api/v2/actions/actions", &admin, Some(&body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert_eq!(answer["statusCode"], 400, "{answer}");
    }
    for body in [
        json!({"bindings": [{"ref": {"type": "action_id"}}]}),
        json!({"bindings": [{"ref": {"type": "nonsense", "value": "x"}}]}),
        json!({"bindings": "x"}),
        json!({}),
    ] {
        let (status, _) = app
            .send(
                Method::PATCH,
                "/api/v2/actions/triggers/post-login/bindings",
                &admin,
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, _) = app
        .send(
            Method::GET,
            "/api/v2/actions/triggers/on-everything/bindings",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A binding to an action that does not exist.
    let (status, _) = app
        .send(
            Method::PATCH,
            "/api/v2/actions/triggers/post-login/bindings",
            &admin,
            Some(&json!({"bindings": [{"ref": {"type": "action_id", "value": "nope"}}]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, listed) = app
        .send(Method::GET, "/api/v2/actions/actions", &admin, None)
        .await;
    assert_eq!(listed["total"], 0, "nothing was stored: {listed}");
    assert!(app.store.bindings().await.expect("bindings").is_empty());
    // Without the scopes, nothing at all.
    let (status, _) = app
        .send(Method::GET, "/api/v2/actions/actions", "not-a-token", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
