//! The MFA API: `/mfa/associate`, `/mfa/challenge`, `/mfa/authenticators` — authenticated with
//! the `mfa_token` of a login waiting for its second factor.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use portcullis_core::Error;
use portcullis_core::flows::client_auth::{ClientCredentials, authenticate};
use portcullis_core::flows::mfa;
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::{Accepts, bearer_token, read_object, require_string, take_string};
use crate::wire::{OAuthFailure, RequestError};

type Outcome<T> = Result<T, OAuthFailure>;

fn mfa_bearer(headers: &axum::http::HeaderMap) -> Result<String, OAuthFailure> {
    bearer_token(headers)
        .map(str::to_owned)
        .ok_or_else(|| Error::InvalidMfaToken.into())
}

pub async fn associate(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    let mut o = read_object(&parts.headers, body, Accepts::JsonOrForm, true).await?;
    // The token in the header, or (as some clients send it) in the body.
    let token = match bearer_token(&parts.headers) {
        Some(t) => t.to_owned(),
        None => require_string(&mut o, "mfa_token")?,
    };
    let types: Vec<String> = match o.remove("authenticator_types") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        // auth0-server-python sends a single string.
        Some(Value::String(one)) => vec![one],
        _ => return Err(RequestError::MissingField("authenticator_types").into()),
    };
    let enrollment = mfa::associate(&app.tenant, &token, &types).await?;
    let mut answer = json!({
        "authenticator_type": "otp",
        "secret": enrollment.secret,
        "barcode_uri": enrollment.barcode_uri,
    });
    if !enrollment.recovery_codes.is_empty() {
        answer["recovery_codes"] = enrollment.recovery_codes.into();
    }
    Ok(Json(answer))
}

pub async fn challenge(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    let mut o = read_object(&parts.headers, body, Accepts::JsonOrForm, true).await?;
    let client_id = require_string(&mut o, "client_id")?;
    let client_secret = take_string(&mut o, "client_secret")?;
    let mfa_token = require_string(&mut o, "mfa_token")?;
    let challenge_type = take_string(&mut o, "challenge_type")?.unwrap_or_else(|| "otp".to_owned());
    let presented = ClientCredentials {
        client_id: client_id.clone(),
        client_secret,
    };
    authenticate(&app.tenant, &presented)?;
    mfa::challenge(&app.tenant, &mfa_token, &client_id, &challenge_type).await?;
    Ok(Json(json!({ "challenge_type": "otp" })))
}

pub async fn list(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    let token = mfa_bearer(request.headers())?;
    let authenticators = mfa::authenticators(&app.tenant, &token).await?;
    Ok(Json(Value::Array(
        authenticators
            .iter()
            // A pending enrollment is listed as inactive until its first code confirms it.
            .map(|a| json!({"id": a.id, "authenticator_type": a.kind.as_str(), "active": a.confirmed}))
            .collect(),
    )))
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<StatusCode> {
    let token = mfa_bearer(request.headers())?;
    mfa::delete_authenticator(&app.tenant, &token, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
