//! OpenID Connect discovery and the JWKS (public keys only).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;

pub async fn openid_configuration(State(app): State<AppState>) -> Json<Value> {
    let issuer = &app.tenant.config.issuer;
    // Only endpoints that are served are advertised: Auth0 also lists the device authorization
    // and dynamic registration endpoints, which Portcullis does not offer.
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}authorize"),
        "token_endpoint": format!("{issuer}oauth/token"),
        "userinfo_endpoint": format!("{issuer}userinfo"),
        "mfa_challenge_endpoint": format!("{issuer}mfa/challenge"),
        "jwks_uri": format!("{issuer}.well-known/jwks.json"),
        "revocation_endpoint": format!("{issuer}oauth/revoke"),
        "end_session_endpoint": format!("{issuer}oidc/logout"),
        "scopes_supported": ["openid", "profile", "offline_access", "name", "given_name", "family_name",
            "nickname", "email", "email_verified", "picture", "created_at", "identities", "phone", "address"],
        // Auth0 also lists the hybrid types (code with tokens), which are not offered here.
        "response_types_supported": ["code", "token", "id_token", "token id_token"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "response_modes_supported": ["query", "fragment", "form_post", "web_message"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["aud", "auth_time", "created_at", "email", "email_verified", "exp",
            "family_name", "given_name", "iat", "identities", "iss", "name", "nickname",
            "phone_number", "picture", "sub"],
        "request_uri_parameter_supported": false,
        "request_parameter_supported": false,
        "grant_types_supported": ["authorization_code", "implicit", "client_credentials", "password",
            "refresh_token", "http://auth0.com/oauth/grant-type/password-realm"]
    }))
}

pub async fn jwks(State(app): State<AppState>) -> Response {
    let mut response = Json(app.tenant.keys.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=15, stale-while-revalidate=15"),
    );
    response
}
