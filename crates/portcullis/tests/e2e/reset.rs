//! Password reset and e-mail verification: the mailed links, the hosted pages, the Management
//! API's tickets, and delivery over real SMTP.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, DB, REALM, STRONG, SmtpSink, TestApp, link_in, ticket_of, unique};

fn email() -> String {
    format!("{}@example.com", unique("reset-"))
}

async fn request_reset(
    app: &TestApp,
    connection: &str,
    email: &str,
) -> (StatusCode, String, String) {
    let response = app
        .http
        .post(format!("{}/dbconnections/change_password", app.base))
        .json(&json!({"client_id": "my-spa", "connection": connection, "email": email}))
        .send()
        .await
        .expect("send");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ct")
        .to_owned();
    (
        response.status(),
        content_type,
        response.text().await.expect("text"),
    )
}

async fn submit(
    app: &TestApp,
    ticket: &str,
    password: &str,
    confirmation: &str,
) -> (StatusCode, String) {
    let response = app
        .http
        .post(format!("{}/lo/reset", app.base))
        .form(&[
            ("ticket", ticket),
            ("newPassword", password),
            ("confirmNewPassword", confirmation),
        ])
        .send()
        .await
        .expect("send");
    (response.status(), response.text().await.expect("html"))
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_under_the_rules_once() {
    let app = TestApp::spawn().await;
    let user = email();
    assert_eq!(app.signup(DB, &user, STRONG).await.0, StatusCode::OK);
    let sent = "We've just sent you an email to reset your password.";
    let (status, content_type, body) = request_reset(&app, DB, &user.to_uppercase()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, sent));
    assert!(content_type.starts_with("text/html"), "{content_type}");
    // The same answer for nobody; no mail for nobody.
    let (status, _, body) = request_reset(&app, DB, "nobody@example.com").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, sent));

    let mails = app.mails("Reset your password", 1).await;
    assert_eq!(mails.len(), 1);
    let link = link_in(&mails[0], "/lo/reset?ticket=");
    assert!(
        link.starts_with(&format!("{}/lo/reset?ticket=", app.base)) && link.ends_with('#'),
        "{link}"
    );
    let ticket = ticket_of(&link);
    let page = app.http.get(&link).send().await.expect("get");
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.text().await.expect("html").contains(&user));

    let (status, html) = submit(&app, &ticket, "New-Password-77", "Other-Password-77").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Please ensure the password and the confirmation are the same."));
    let (status, html) = submit(&app, &ticket, "weak", "weak").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Password is too weak."), "{html}");
    // A refused password leaves the link working.
    let (status, html) = submit(&app, &ticket, "New-Password-77", "New-Password-77").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Password changed"));
    assert_eq!(app.login(&user, "New-Password-77").await.0, StatusCode::OK);
    assert_eq!(app.login(&user, STRONG).await.0, StatusCode::FORBIDDEN);
    let (status, html) = submit(&app, &ticket, "Third-Password-77", "Third-Password-77").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("invalid, has expired, or was already used"));

    let token = app.management_token().await;
    let (_, logs) = app.get("/api/v2/logs?sort=date:1", Some(&token)).await;
    let types: Vec<&str> = logs
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        types.contains(&"scpr") && types.contains(&"scp") && types.contains(&"fcp"),
        "{types:?}"
    );
}

#[tokio::test]
async fn a_reset_remembers_history_and_lifts_brute_force_blocks() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        "[attack_protection.brute_force_protection]\nmax_attempts = 2\nshields = [\"block\"]\n",
    )
    .await;
    let user = email();
    assert_eq!(
        app.signup("rules", &user, "First-pass-1").await.0,
        StatusCode::OK
    );
    for _ in 0..2 {
        app.post_form(
            "/oauth/token",
            &[
                ("grant_type", REALM),
                ("client_id", "my-spa"),
                ("realm", "rules"),
                ("username", &user),
                ("password", "nope-nope-1"),
            ],
        )
        .await;
    }
    let login = |password: &'static str| {
        let app = &app;
        let user = user.clone();
        async move {
            app.post_form(
                "/oauth/token",
                &[
                    ("grant_type", REALM),
                    ("client_id", "my-spa"),
                    ("realm", "rules"),
                    ("username", &user),
                    ("password", password),
                ],
            )
            .await
            .0
        }
    };
    assert_eq!(login("First-pass-1").await, StatusCode::TOO_MANY_REQUESTS);
    request_reset(&app, "rules", &user).await;
    let ticket = ticket_of(&link_in(
        &app.mails("Reset your password", 1).await[0],
        "/lo/reset?ticket=",
    ));
    let (status, html) = submit(&app, &ticket, "First-pass-1", "First-pass-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Password has previously been used."),
        "{html}"
    );
    let (status, _) = submit(&app, &ticket, "Second-pass-2", "Second-pass-2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        login("Second-pass-2").await,
        StatusCode::OK,
        "the reset lifted the block"
    );
}

#[tokio::test]
async fn management_tickets_and_the_verification_link() {
    let app = TestApp::spawn().await;
    let token = app.management_token().await;
    let user = email();
    let (_, signed_up) = app.signup(DB, &user, STRONG).await;
    let user_id = format!("auth0|{}", signed_up["_id"].as_str().expect("_id"));

    // The sign-up mailed a verification link.
    let link = link_in(
        &app.mails("Verify your email", 1).await[0],
        "/u/email-verification?ticket=",
    );
    let verified = app
        .post_form("/u/email-verification", &[("ticket", &ticket_of(&link))])
        .await;
    assert_eq!(verified.0, StatusCode::OK);
    let (_, profile) = app
        .get(&format!("/api/v2/users/{user_id}"), Some(&token))
        .await;
    assert_eq!(profile["email_verified"], true);
    assert_eq!(
        app.post_form("/u/email-verification", &[("ticket", &ticket_of(&link))])
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // A password-change ticket with a result URL redirects there.
    let (status, body) = app
        .send(Method::POST, "/api/v2/tickets/password-change", &token,
              Some(&json!({"user_id": user_id, "result_url": "http://localhost:8080/done", "ttl_sec": 600})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ticket_url = body["ticket"].as_str().expect("ticket").to_owned();
    assert!(
        ticket_url.starts_with(&format!("{}/lo/reset?ticket=", app.base))
            && ticket_url.ends_with('#')
    );
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/lo/reset", app.base))
        .form(&[
            ("ticket", ticket_of(&ticket_url).as_str()),
            ("newPassword", "Via-Ticket-42"),
            ("confirmNewPassword", "Via-Ticket-42"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "http://localhost:8080/done");
    assert_eq!(app.login(&user, "Via-Ticket-42").await.0, StatusCode::OK);
    // By connection id and e-mail; expired after its ttl.
    let connection_id = app.tenant.config.connection(DB).expect("db").id();
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v2/tickets/password-change",
            &token,
            Some(&json!({"connection_id": connection_id, "email": user, "ttl_sec": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.clock.advance_secs(61);
    let (status, _) = submit(
        &app,
        &ticket_of(body["ticket"].as_str().expect("t")),
        "Later-Pass-42",
        "Later-Pass-42",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "expired");

    let (status, body) = app
        .send(
            Method::POST,
            "/api/v2/tickets/email-verification",
            &token,
            Some(&json!({"user_id": user_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        body["ticket"]
            .as_str()
            .expect("t")
            .contains("/u/email-verification?ticket=")
    );
    let (status, job) = app
        .send(
            Method::POST,
            "/api/v2/jobs/verification-email",
            &token,
            Some(&json!({"user_id": user_id})),
        )
        .await;
    assert_eq!(
        (status, &job["type"], &job["status"]),
        (
            StatusCode::CREATED,
            &json!("verification_email"),
            &json!("completed")
        )
    );
    assert!(job["id"].as_str().expect("id").starts_with("job_"));
    assert_eq!(app.mails("Verify your email", 2).await.len(), 2);
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v2/tickets/password-change",
            &token,
            Some(&json!({"user_id": "auth0|nope"})),
        )
        .await;
    assert_eq!(
        (status, &body["errorCode"]),
        (StatusCode::NOT_FOUND, &json!("inexistent_user"))
    );
}

#[tokio::test]
async fn mail_goes_out_over_smtp_with_configured_templates() {
    let sink = SmtpSink::start().await;
    let top = format!(
        "[email_provider]\nname = \"smtp\"\ndefault_from_address = \"Portcullis <no-reply@example.com>\"\n\
         credentials = {{ smtp_host = \"127.0.0.1\", smtp_port = {}, tls = \"none\" }}\n\
         [email_templates.reset_email]\nsubject = \"Reset for {{{{ user.email }}}}\"\n\
         body = \"Go to {{{{ url }}}} now.\"\n[email_templates.verify_email]\nenabled = false\n",
        sink.port
    );
    let app = TestApp::spawn_with(Backend::Sqlite, &top).await;
    let user = email();
    app.signup(DB, &user, STRONG).await;
    request_reset(&app, DB, &user).await;
    let messages = sink.messages(1).await;
    assert_eq!(
        messages.len(),
        1,
        "verify_email is disabled; only the reset mail: {messages:?}"
    );
    let mail = &messages[0];
    assert!(
        mail.contains(&format!("Subject: Reset for {user}")),
        "{mail}"
    );
    assert!(
        mail.contains("From: Portcullis <no-reply@example.com>"),
        "{mail}"
    );
    let ticket = ticket_of(&link_in(mail, "/lo/reset?ticket="));
    assert_eq!(
        submit(&app, &ticket, "Over-Smtp-42", "Over-Smtp-42")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(app.login(&user, "Over-Smtp-42").await.0, StatusCode::OK);
}
