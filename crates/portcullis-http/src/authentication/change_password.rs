//! `POST /dbconnections/change_password`: mails a reset link; the answer is the same whether
//! or not the e-mail belongs to a user.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::flows::reset::request_reset;

use crate::AppState;
use crate::extract::{Accepts, read_object, requester, require_string, take_string};
use crate::wire::DatabaseFailure;

/// Auth0's answer, as `text/html`.
const SENT: &str = "We've just sent you an email to reset your password.";

pub async fn change_password(
    State(app): State<AppState>,
    request: Request,
) -> Result<Response, DatabaseFailure> {
    let (parts, body) = request.into_parts();
    let mut o = read_object(&parts.headers, body, Accepts::JsonOrForm, true).await?;
    let client_id = require_string(&mut o, "client_id")?;
    let connection = require_string(&mut o, "connection")?;
    let email = require_string(&mut o, "email")?;
    // Older clients send the new password here; Auth0 ignores it (the link sets it).
    take_string(&mut o, "password")?;
    let who = requester(&parts, &app.tenant.config.trusted_proxies);
    request_reset(&app.tenant, &client_id, &connection, &email, &who).await?;
    let mut response = SENT.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(response)
}
