//! `POST /oauth/revoke`: revokes a refresh token (and its family). Unknown tokens answer 200
//! too (RFC 7009 §2.2); a failed client authentication does not.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use portcullis_core::flows::client_auth::{ClientCredentials, authenticate};
use portcullis_core::flows::refresh;

use crate::AppState;
use crate::extract::{
    Accepts, basic_credentials, read_object, requester, require_string, take_string,
};
use crate::wire::{RequestError, RevocationFailure};

pub async fn revoke(
    State(app): State<AppState>,
    request: Request,
) -> Result<StatusCode, RevocationFailure> {
    let (parts, body) = request.into_parts();
    let mut o = read_object(&parts.headers, body, Accepts::JsonOrForm, true).await?;
    let token = require_string(&mut o, "token")?;
    let presented = match basic_credentials(&parts.headers) {
        Some((id, secret)) => ClientCredentials {
            client_id: id,
            client_secret: Some(secret),
        },
        None => ClientCredentials {
            client_id: take_string(&mut o, "client_id")?
                .ok_or(RequestError::MissingField("client_id"))?,
            client_secret: take_string(&mut o, "client_secret")?,
        },
    };
    let client = authenticate(&app.tenant, &presented)?;
    refresh::revoke(
        &app.tenant,
        client,
        &token,
        &requester(&parts, &app.tenant.config.trusted_proxies),
    )
    .await?;
    Ok(StatusCode::OK)
}
