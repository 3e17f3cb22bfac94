//! `POST /dbconnections/signup`: every answer pinned whole.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DB, STRONG, TestApp, unique};

fn email() -> String {
    format!("{}@example.com", unique("signup-"))
}

#[tokio::test]
async fn sign_up_returns_the_new_user() {
    let app = TestApp::spawn().await;
    let email = email();
    let (status, body) = app
        .post_json(
            "/dbconnections/signup",
            &json!({"client_id": "my-spa", "connection": DB, "email": email.to_uppercase(), "password": STRONG,
                    "given_name": "Jane", "user_metadata": {"plan": "free"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["_id"].as_str().expect("_id");
    assert_eq!(id.len(), 24);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        body,
        json!({"_id": id, "email_verified": false, "email": email, "given_name": "Jane", "user_metadata": {"plan": "free"}})
    );
}

#[tokio::test]
async fn form_encoded_sign_up_works() {
    let app = TestApp::spawn().await;
    let email = email();
    let (status, body) = app
        .post_form(
            "/dbconnections/signup",
            &[
                ("client_id", "my-spa"),
                ("connection", DB),
                ("email", &email),
                ("password", STRONG),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], json!(email));
}

#[tokio::test]
async fn existing_email_is_user_exists() {
    let app = TestApp::spawn().await;
    let email = email();
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
    let (status, body) = app.signup(DB, &email.to_uppercase(), STRONG).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"name": "BadRequestError", "code": "user_exists", "description": "The user already exists.", "statusCode": 400})
    );
}

#[tokio::test]
async fn taken_username_is_username_exists() {
    let app = TestApp::spawn().await;
    let signup = |email: String| json!({"client_id": "my-spa", "connection": "with-username", "email": email, "password": STRONG, "username": "Jane_Doe"});
    assert_eq!(
        app.post_json("/dbconnections/signup", &signup(email()))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = app
        .post_json("/dbconnections/signup", &signup(email()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"name": "BadRequestError", "code": "username_exists", "description": "The username already exists.", "statusCode": 400})
    );
}

#[tokio::test]
async fn disabled_sign_up_is_unauthorized() {
    let app = TestApp::spawn().await;
    let (status, body) = app.signup("closed", &email(), STRONG).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"name": "BadRequestError", "code": "unauthorized", "description": "public signup is disabled", "statusCode": 400})
    );
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn weak_password_is_password_strength_error() {
    let app = TestApp::spawn().await;
    let (status, body) = app.signup(DB, &email(), "hello").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "name": "PasswordStrengthError",
            "message": "Password is too weak",
            "code": "invalid_password",
            "description": {
                "rules": [
                    {"message": "At least %d characters in length", "format": [8], "code": "lengthAtLeast", "verified": false},
                    {"message": "Contain at least %d of the following %d types of characters:", "format": [3, 4], "code": "containsAtLeast",
                     "items": [
                        {"message": "lower case letters (a-z)", "code": "lowerCase", "verified": true},
                        {"message": "upper case letters (A-Z)", "code": "upperCase", "verified": false},
                        {"message": "numbers (i.e. 0-9)", "code": "numbers", "verified": false},
                        {"message": "special characters (e.g. !@#$%^&*)", "code": "specialCharacters", "verified": false}],
                     "verified": false}],
                "verified": false
            },
            "policy": "* At least 8 characters in length\n* Contain at least 3 of the following 4 types of characters:\n * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)\n * special characters (e.g. !@#$%^&*)",
            "statusCode": 400
        })
    );
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn each_policy_level_refuses_and_accepts_as_auth0() {
    let app = TestApp::spawn().await;
    let cases = [
        ("policy-none", "", "* Non-empty password required", "x"),
        (
            "policy-low",
            "abcde",
            "* At least 6 characters in length",
            "abcdef",
        ),
        (
            "policy-fair",
            "abcdefgh",
            "* At least 8 characters in length\n* Should contain:\n * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)",
            "Abcdefg1",
        ),
        (
            "policy-excellent",
            "Abcdefff1!",
            "* At least 10 characters in length\n* Contain at least 3 of the following 4 types of characters:\n * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)\n * special characters (e.g. !@#$%^&*)\n* No more than 2 identical characters in a row (e.g., \"aaa\" not allowed)",
            "Abcdefgh1!",
        ),
    ];
    for (connection, weak, policy, strong) in cases {
        // An empty password fails password-sheriff's `nonEmpty` rule like any other rule.
        let (status, body) = app.signup(connection, &email(), weak).await;
        assert_eq!(
            (status, &body["name"], &body["policy"]),
            (
                StatusCode::BAD_REQUEST,
                &json!("PasswordStrengthError"),
                &json!(policy)
            ),
            "{connection}"
        );
        assert_eq!(body["description"]["verified"], json!(false));
        let (status, body) = app.signup(connection, &email(), strong).await;
        assert_eq!(status, StatusCode::OK, "{connection}: {body}");
    }
}

#[tokio::test]
async fn malformed_sign_ups_are_invalid_signup_and_store_nothing() {
    let app = TestApp::spawn().await;
    let good = email();
    let cases = [
        (
            json!({"client_id": "my-spa", "connection": DB, "password": STRONG}),
            "Missing required parameter: email",
        ),
        (
            json!({"client_id": "my-spa", "connection": DB, "email": good}),
            "Missing required parameter: password",
        ),
        (
            json!({"client_id": "my-spa", "email": good, "password": STRONG}),
            "Missing required parameter: connection",
        ),
        (
            json!({"connection": DB, "email": good, "password": STRONG}),
            "Missing required parameter: client_id",
        ),
        (
            json!({"client_id": "my-spa", "connection": DB, "email": "not-an-email", "password": STRONG}),
            "error in email - email format validation failed: not-an-email",
        ),
        (
            json!({"client_id": "my-spa", "connection": "nope", "email": good, "password": STRONG}),
            "Connection does not exist",
        ),
        (
            json!({"client_id": "nobody", "connection": DB, "email": good, "password": STRONG}),
            "Unknown client",
        ),
        (
            json!({"client_id": "my-spa", "connection": "spa-excluded", "email": good, "password": STRONG}),
            "Connection is disabled",
        ),
        (
            json!({"client_id": "my-spa", "connection": DB, "email": good, "password": STRONG, "username": "jane"}),
            "Cannot set username for connection without requires_username",
        ),
        (
            json!({"client_id": "my-spa", "connection": "with-username", "email": good, "password": STRONG}),
            "Missing required property: username",
        ),
        (
            json!({"client_id": "my-spa", "connection": "with-username", "email": good, "password": STRONG, "username": "a-very-long-username-indeed"}),
            "error in username - username length must be between 3 and 15 characters",
        ),
        (
            json!({"client_id": "my-spa", "connection": DB, "email": good, "password": STRONG, "admin": true}),
            "the following properties are not allowed: admin",
        ),
        (
            json!({"client_id": "my-spa", "connection": DB, "email": good, "password": 12345678}),
            "Invalid parameter password: Expected type string but found type number",
        ),
        (
            json!({"client_id": "my-spa", "connection": DB, "email": format!("{}@example.com", "a".repeat(300)), "password": STRONG}),
            &*format!(
                "error in email - email format validation failed: {}@example.com",
                "a".repeat(300)
            ),
        ),
    ];
    for (body, description) in cases {
        let (status, answer) = app.post_json("/dbconnections/signup", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer,
            json!({"name": "BadRequestError", "code": "invalid_signup", "description": description, "statusCode": 400}),
            "{body}"
        );
    }
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn unreadable_bodies_are_4xx_and_store_nothing() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        (
            "application/json",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            b"[1,2]".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            vec![0xff, 0xfe, 0x7b],
            StatusCode::BAD_REQUEST,
        ),
        (
            "text/plain",
            b"email=a@b.c".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/json",
            vec![b' '; 200 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "application/x-www-form-urlencoded",
            b"email=%ff%fe&password=x".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (content_type, body, expected) in cases {
        let (status, answer) = app
            .post_raw("/dbconnections/signup", content_type, body)
            .await;
        assert_eq!(status, expected, "{content_type}: {answer}");
        let name = match expected {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaTypeError",
            StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLargeError",
            _ => "BadRequestError",
        };
        assert_eq!(
            (&answer["name"], &answer["code"]),
            (&json!(name), &json!("invalid_signup")),
            "{answer}"
        );
        assert_eq!(answer["statusCode"], json!(expected.as_u16()));
    }
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_4xx() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/nope", None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "invalid_request", "error_description": "Not Found"})
        )
    );
    let (status, body) = app.get("/dbconnections/signup", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = app.get("/api/v2/nope", None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"statusCode": 404, "error": "Not Found", "message": "Not Found"})
        )
    );
}
