//! Hostile input: random bodies on every write endpoint never produce a 5xx, and a refused
//! request never changes what is stored.

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use reqwest::StatusCode;
use serde_json::{Map, Value};

use crate::helpers::TestApp;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}".prop_map(Value::String),
        Just(Value::String("x".repeat(5000))),
        Just(Value::String("Username-Password-Authentication".into())),
        Just(Value::String("my-spa".into())),
        Just(Value::String("Correct-Horse-9".into())),
        Just(Value::String(
            "http://auth0.com/oauth/grant-type/password-realm".into()
        )),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const KEYS: &[&str] = &[
    "client_id",
    "connection",
    "email",
    "password",
    "username",
    "user_metadata",
    "app_metadata",
    "name",
    "given_name",
    "blocked",
    "grant_type",
    "realm",
    "scope",
    "audience",
    "client_secret",
    "email_verified",
];

fn body() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((prop::sample::select(KEYS), value()), 0..8)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[test]
fn random_bodies_never_fail_the_server() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(TestApp::spawn());
    let token = runtime.block_on(app.management_token());
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 96,
        ..RunnerConfig::default()
    });
    runner
        .run(&body(), |body| {
            runtime.block_on(async {
                let before = app.user_count().await;
                let json = Value::Object(body.clone());
                let mut created = 0;
                for (method, path) in [
                    (reqwest::Method::POST, "/dbconnections/signup"),
                    (reqwest::Method::POST, "/oauth/token"),
                    (reqwest::Method::POST, "/api/v2/users"),
                    (
                        reqwest::Method::PATCH,
                        "/api/v2/users/auth0|000000000000000000000000",
                    ),
                ] {
                    let (status, answer) = app.send(method, path, &token, Some(&json)).await;
                    prop_assert!(
                        !status.is_server_error(),
                        "{path} {json} -> {status} {answer}"
                    );
                    if status == StatusCode::OK || status == StatusCode::CREATED {
                        if path != "/oauth/token" {
                            created += 1;
                        }
                    } else {
                        prop_assert!(status.is_client_error(), "{path} {json} -> {status}");
                    }
                }
                // Form-encoded, every value as text.
                let form: Vec<(String, String)> = body
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect();
                for path in ["/dbconnections/signup", "/oauth/token"] {
                    let response = app
                        .http
                        .post(format!("{}{path}", app.base))
                        .form(&form)
                        .send()
                        .await
                        .expect("send");
                    let status = response.status();
                    prop_assert!(
                        !status.is_server_error(),
                        "{path} form {form:?} -> {status}"
                    );
                    if status == StatusCode::OK && path == "/dbconnections/signup" {
                        created += 1;
                    }
                }
                prop_assert_eq!(app.user_count().await, before + created);
                Ok(())
            })
        })
        .expect("no input fails the server");
}
