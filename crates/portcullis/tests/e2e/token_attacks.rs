//! Forged and misused tokens are refused: `alg: none`, HS256 keyed with the public key, a
//! foreign `kid`, a tampered payload, another API's token, an expired token, a tampered
//! opaque token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{DB, STRONG, TestApp, unique};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn part(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).expect("segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64")).expect("json")
}

/// HMAC-SHA256 (RFC 2104), for forging an HS256 signature.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::digest([pad(0x36).as_slice(), message].concat());
    Sha256::digest([pad(0x5c).as_slice(), inner.as_slice()].concat()).to_vec()
}

fn forge(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(signature)
    )
}

async fn users_with(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v2/users", Some(token)).await.0
}

#[tokio::test]
async fn forged_and_misused_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.management_token().await;
    assert_eq!(users_with(&app, &admin).await, StatusCode::OK);
    let header = part(&admin, 0);
    let payload = part(&admin, 1);
    let signature = URL_SAFE_NO_PAD
        .decode(admin.split('.').nth(2).expect("signature"))
        .expect("base64");

    // alg: none, with and without a signature.
    let none = json!({"alg": "none", "typ": "JWT", "kid": header["kid"]});
    assert_eq!(
        users_with(&app, &forge(&none, &payload, &[])).await,
        StatusCode::UNAUTHORIZED
    );
    let unsigned = format!(
        "{}.{}.",
        b64(none.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    assert_eq!(users_with(&app, &unsigned).await, StatusCode::UNAUTHORIZED);

    // HS256 keyed with what the server publishes (the JWKS), the classic key-confusion attack.
    let (_, jwks) = app.get("/.well-known/jwks.json", None).await;
    let public = jwks.to_string();
    let hs = json!({"alg": "HS256", "typ": "JWT", "kid": header["kid"]});
    let input = format!(
        "{}.{}",
        b64(hs.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    for key in [
        public.as_bytes(),
        jwks["keys"][0]["n"].as_str().expect("n").as_bytes(),
    ] {
        let forged = format!("{input}.{}", b64(&hmac_sha256(key, input.as_bytes())));
        assert_eq!(users_with(&app, &forged).await, StatusCode::UNAUTHORIZED);
    }

    // A key id that is not ours, and a payload changed under the original signature.
    let foreign = json!({"alg": "RS256", "typ": "JWT", "kid": "not-our-key"});
    assert_eq!(
        users_with(&app, &forge(&foreign, &payload, &signature)).await,
        StatusCode::UNAUTHORIZED
    );
    let mut widened = payload.clone();
    widened["scope"] = json!(format!(
        "{} delete:everything",
        payload["scope"].as_str().unwrap_or("")
    ));
    assert_eq!(
        users_with(&app, &forge(&header, &widened, &signature)).await,
        StatusCode::UNAUTHORIZED
    );
    let mut other_issuer = payload.clone();
    other_issuer["iss"] = json!("https://evil.example/");
    assert_eq!(
        users_with(&app, &forge(&header, &other_issuer, &signature)).await,
        StatusCode::UNAUTHORIZED
    );

    // A genuine token for another API is not a Management API token.
    let email = format!("{}@example.com", unique("attack-"));
    assert_eq!(app.signup(DB, &email, STRONG).await.0, StatusCode::OK);
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
                ("username", &email),
                ("password", STRONG),
                ("audience", "https://api.example.com"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let api_token = tokens["access_token"].as_str().expect("access token");
    assert_eq!(users_with(&app, api_token).await, StatusCode::UNAUTHORIZED);

    // An opaque /userinfo token changed by one character is refused.
    let (_, tokens) = app.login(&email, STRONG).await;
    let opaque = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    assert_eq!(app.get("/userinfo", Some(&opaque)).await.0, StatusCode::OK);
    let mut tampered = opaque.into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("utf-8");
    assert_eq!(
        app.get("/userinfo", Some(&tampered)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Past its expiry the genuine Management API token is refused too.
    app.clock.advance_secs(2 * 86_400);
    let (status, body) = app.get("/api/v2/users", Some(&admin)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "Expired token received for JSON Web Token validation"
    );
}
