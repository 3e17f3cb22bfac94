//! The connection password options beyond strength: dictionary, personal information and
//! history, through sign-up and the Management API.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{STRONG, TestApp, unique};

fn email() -> String {
    format!("{}@example.com", unique("rules-"))
}

fn password_error(name: &str, message: &str, description: &str) -> serde_json::Value {
    json!({"name": name, "message": message, "code": "invalid_password", "description": description, "statusCode": 400})
}

#[tokio::test]
async fn dictionary_passwords_are_refused_at_sign_up() {
    let app = TestApp::spawn().await;
    let expected = password_error(
        "PasswordDictionaryError",
        "Password is too common",
        "Password is not allowed, it might be too common.",
    );
    for common in ["password1", "QWERTY123", "portcullis", "DrawBridge"] {
        assert_eq!(
            app.signup("rules", &email(), common).await,
            (StatusCode::BAD_REQUEST, expected.clone()),
            "{common}"
        );
    }
    // Not enabled on the default connection: only the strength policy applies there.
    assert_eq!(
        app.signup("policy-low", &email(), "password1").await.0,
        StatusCode::OK
    );
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn personal_information_is_refused_at_sign_up() {
    let app = TestApp::spawn().await;
    let expected = password_error(
        "PasswordNoUserInfoError",
        "Password contains user information",
        "Password is based on user information",
    );
    let e = format!("{}@example.com", unique("gwendolyn"));
    let local = e.split('@').next().expect("local").to_owned();
    let (status, body) = app
        .signup("rules", &e, &format!("x{}!", local.to_uppercase()))
        .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, expected.clone()));
    let (status, body) = app
        .post_json(
            "/dbconnections/signup",
            &json!({"client_id": "my-spa", "connection": "rules", "email": email(), "password": "Tristram-2024",
                    "name": "Tristram"}),
        )
        .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, expected));
    assert_eq!(
        app.signup("rules", &e, "Unrelated-9").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_strength_policy_is_checked_before_the_dictionary() {
    let app = TestApp::spawn().await;
    // "12345" is in the dictionary but too short for the low policy: strength wins.
    let (status, body) = app.signup("rules", &email(), "12345").await;
    assert_eq!(
        (status, &body["name"]),
        (StatusCode::BAD_REQUEST, &json!("PasswordStrengthError"))
    );
}

#[tokio::test]
async fn password_history_refuses_the_last_passwords_through_the_management_api() {
    let app = TestApp::spawn().await;
    let token = app.management_token().await;
    let (status, created) = app
        .send(
            Method::POST,
            "/api/v2/users",
            &token,
            Some(&json!({"connection": "rules", "email": email(), "password": "First-pass-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/api/v2/users/{}", created["user_id"].as_str().expect("id"));
    let change = |password: &'static str| {
        let app = &app;
        let token = token.clone();
        let path = path.clone();
        async move {
            app.send(
                Method::PATCH,
                &path,
                &token,
                Some(&json!({"password": password})),
            )
            .await
        }
    };
    let reused = (
        StatusCode::BAD_REQUEST,
        json!({"statusCode": 400, "error": "Bad Request", "message": "PasswordHistoryError: Password has previously been used"}),
    );
    // The current password counts as used.
    assert_eq!(change("First-pass-1").await, reused);
    assert_eq!(change("Second-pass-2").await.0, StatusCode::OK);
    assert_eq!(change("First-pass-1").await, reused);
    assert_eq!(change("Third-pass-3").await.0, StatusCode::OK);
    assert_eq!(change("Fourth-pass-4").await.0, StatusCode::OK);
    // Size 3: the current and the two before it are remembered; the first has dropped out.
    assert_eq!(change("Second-pass-2").await, reused);
    assert_eq!(change("First-pass-1").await.0, StatusCode::OK);

    // The other rules answer on this path too, with the Management API's messages.
    let (status, body) = change("drawbridge").await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("PasswordDictionaryError: Password is too common")
        )
    );
    let email_local = created["email"]
        .as_str()
        .expect("email")
        .split('@')
        .next()
        .expect("local")
        .to_owned();
    let (status, body) = app
        .send(
            Method::PATCH,
            &path,
            &token,
            Some(&json!({"password": format!("{email_local}-9")})),
        )
        .await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("PasswordNoUserInfoError: Password contains user information")
        )
    );
    // A refused change leaves the password as it was.
    assert_eq!(
        app.post_form(
            "/oauth/token",
            &[
                ("grant_type", crate::helpers::REALM),
                ("client_id", "my-spa"),
                ("realm", "rules"),
                ("username", created["email"].as_str().expect("email")),
                ("password", "First-pass-1"),
            ]
        )
        .await
        .0,
        StatusCode::OK
    );
    let _ = STRONG;
}
