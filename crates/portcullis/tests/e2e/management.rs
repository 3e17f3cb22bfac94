//! The Management API's users endpoints.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, DB, STRONG, TestApp, unique};

fn email() -> String {
    format!("{}@example.com", unique("mgmt-"))
}

#[tokio::test]
async fn authentication_errors_are_auth0s() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/api/v2/users", None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "error": "Unauthorized", "message": "Missing authentication"})
        )
    );
    let (status, body) = app.get("/api/v2/users", Some("garbage")).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"})
        )
    );
    let reader = app
        .management_token_for("reader", "another-long-secret")
        .await;
    assert_eq!(
        app.get("/api/v2/users", Some(&reader)).await.0,
        StatusCode::OK
    );
    let (status, body) = app
        .send(Method::DELETE, "/api/v2/users/auth0|abc", &reader, None)
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope, expected any of: delete:users", "errorCode": "insufficient_scope"})
        )
    );
    // A user's token is not a Management API token.
    let e = email();
    app.signup(DB, &e, STRONG).await;
    let (_, login) = app.login(&e, STRONG).await;
    assert_eq!(
        app.get("/api/v2/users", login["access_token"].as_str())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn user_lifecycle_on_sqlite() {
    user_lifecycle(TestApp::spawn_on(Backend::Sqlite).await).await;
}

#[tokio::test]
async fn user_lifecycle_on_postgres() {
    user_lifecycle(TestApp::spawn_on(Backend::Postgres).await).await;
}

async fn user_lifecycle(app: TestApp) {
    let token = app.management_token().await;
    let email = email();
    let (status, created) = app
        .send(
            Method::POST,
            "/api/v2/users",
            &token,
            Some(&json!({"connection": DB, "email": email, "password": STRONG, "given_name": "Ada",
                         "user_metadata": {"a": 1}, "app_metadata": {"plan": "pro"}, "email_verified": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let user_id = created["user_id"].as_str().expect("user_id").to_owned();
    let bare = user_id.strip_prefix("auth0|").expect("prefix");
    assert_eq!(
        created["identities"],
        json!([{"connection": DB, "user_id": bare, "provider": "auth0", "isSocial": false}])
    );
    assert_eq!(created["email"], json!(email));
    assert_eq!(created["email_verified"], true);
    assert_eq!(created["name"], json!(email));
    assert_eq!(created["app_metadata"], json!({"plan": "pro"}));
    assert!(
        created["created_at"]
            .as_str()
            .expect("created_at")
            .ends_with('Z')
    );
    assert!(created.get("blocked").is_none() && created.get("logins_count").is_none());

    // The user logs in with the password set by the administrator.
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::OK);

    let encoded = user_id.replace('|', "%7C");
    let (status, got) = app
        .get(&format!("/api/v2/users/{encoded}"), Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["logins_count"], 1);
    let (_, projected) = app
        .get(
            &format!("/api/v2/users/{encoded}?fields=email,user_id"),
            Some(&token),
        )
        .await;
    assert_eq!(projected, json!({"email": email, "user_id": user_id}));

    let (status, conflict) = app
        .send(
            Method::POST,
            "/api/v2/users",
            &token,
            Some(&json!({"connection": DB, "email": email, "password": STRONG})),
        )
        .await;
    assert_eq!(
        (status, conflict),
        (
            StatusCode::CONFLICT,
            json!({"statusCode": 409, "error": "Conflict", "message": "The user already exists.", "errorCode": "auth0_idp_error"})
        )
    );

    // PATCH: metadata merges, null removes, password under the policy.
    let (status, patched) = app
        .send(
            Method::PATCH,
            &format!("/api/v2/users/{encoded}"),
            &token,
            Some(
                &json!({"user_metadata": {"b": 2, "a": null}, "given_name": null, "blocked": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["user_metadata"], json!({"b": 2}));
    assert!(patched.get("given_name").is_none());
    assert_eq!(patched["blocked"], true);
    let (status, weak) = app
        .send(
            Method::PATCH,
            &format!("/api/v2/users/{encoded}"),
            &token,
            Some(&json!({"password": "weak"})),
        )
        .await;
    assert_eq!(
        (status, weak),
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "error": "Bad Request", "message": "PasswordStrengthError: Password is too weak"})
        )
    );
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v2/users/{encoded}"),
            &token,
            Some(&json!({"password": "New-Password-42", "blocked": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.login(&email, STRONG).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.login(&email, "New-Password-42").await.0, StatusCode::OK);

    let (status, body) = app
        .send(
            Method::DELETE,
            &format!("/api/v2/users/{encoded}"),
            &token,
            None,
        )
        .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, json!("")));
    let (status, body) = app
        .get(&format!("/api/v2/users/{encoded}"), Some(&token))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"statusCode": 404, "error": "Not Found", "message": "The user does not exist.", "errorCode": "inexistent_user"})
        )
    );
}

#[tokio::test]
async fn listing_searching_and_paging() {
    let app = TestApp::spawn().await;
    let token = app.management_token().await;
    let mut emails = Vec::new();
    for _ in 0..3 {
        let e = email();
        app.signup(DB, &e, STRONG).await;
        emails.push(e);
    }
    let (status, all) = app.get("/api/v2/users", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all.as_array().expect("array").len(), 3);

    let (_, page) = app
        .get(
            "/api/v2/users?page=1&per_page=2&include_totals=true",
            Some(&token),
        )
        .await;
    assert_eq!(
        (
            &page["start"],
            &page["limit"],
            &page["length"],
            &page["total"]
        ),
        (&json!(2), &json!(2), &json!(1), &json!(3))
    );
    assert_eq!(page["users"].as_array().expect("users").len(), 1);

    let q = format!("email:\"{}\"", emails[1].to_uppercase());
    let response = app
        .http
        .get(format!("{}/api/v2/users", app.base))
        .bearer_auth(&token)
        .query(&[("q", q.as_str()), ("search_engine", "v3")])
        .send()
        .await
        .expect("send");
    let found: Value = response.json().await.expect("json");
    assert_eq!(found.as_array().expect("array").len(), 1);
    assert_eq!(found[0]["email"], json!(emails[1]));

    let response = app
        .http
        .get(format!("{}/api/v2/users-by-email", app.base))
        .bearer_auth(&token)
        .query(&[("email", emails[2].as_str())])
        .send()
        .await
        .expect("send");
    let by_email: Value = response.json().await.expect("json");
    assert_eq!(by_email[0]["email"], json!(emails[2]));

    let (status, body) = app.get("/api/v2/users?per_page=101", Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "invalid_query_string");
    let (status, body) = app.get("/api/v2/users?colour=blue", Some(&token)).await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("Query validation error: Additional properties not allowed")
        )
    );
}

#[tokio::test]
async fn payload_validation_errors_change_nothing() {
    let app = TestApp::spawn().await;
    let token = app.management_token().await;
    let cases = [
        (
            json!({"email": email(), "password": STRONG}),
            "Payload validation error: 'Missing required property: connection'.",
        ),
        (
            json!({"connection": DB, "email": email(), "password": STRONG, "logins_count": 5}),
            "Payload validation error: 'Additional properties not allowed: logins_count'.",
        ),
        (
            json!({"connection": DB, "email": "nope", "password": STRONG}),
            "Payload validation error: 'Object didn't pass validation for format email: nope' on property email (The user's email).",
        ),
        (
            json!({"connection": DB, "email": email(), "password": STRONG, "blocked": "yes"}),
            "Payload validation error: 'Expected type boolean but found type string' on property blocked.",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = app
            .send(Method::POST, "/api/v2/users", &token, Some(&body))
            .await;
        assert_eq!(
            (status, answer),
            (
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "error": "Bad Request", "message": message, "errorCode": "invalid_body"})
            ),
            "{body}"
        );
    }
    let (status, answer) = app
        .send(
            Method::POST,
            "/api/v2/users",
            &token,
            Some(&json!({"connection": "nope", "email": email(), "password": STRONG})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "error": "Bad Request", "message": "The connection does not exist.", "errorCode": "inexistent_connection"})
        )
    );
    assert_eq!(app.user_count().await, 0);
}
