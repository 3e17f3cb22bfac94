//! Logout: Auth0's `/v2/logout` and OpenID Connect's RP-initiated `/oidc/logout`.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use portcullis_core::flows::web;

use super::{failure, message, redirect};
use crate::AppState;
use crate::cookies::{SESSION_COOKIE, SameSite, cookie_header, session_cookie};
use crate::extract::requester;
use crate::wire::page_text;

/// Clears the session cookie and goes to `target`, or says so on a page.
pub(super) fn logged_out(app: &AppState, target: Option<String>) -> Response {
    let mut response = match target {
        Some(url) => redirect(&url),
        None => message(
            app,
            StatusCode::OK,
            page_text::LOGGED_OUT_TITLE,
            page_text::LOGGED_OUT_TEXT,
            false,
        ),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(
            &app.tenant,
            SESSION_COOKIE,
            "",
            "/",
            0,
            SameSite::NoneWhenSecure,
        ),
    );
    response
}

/// `GET /v2/logout?client_id=…&returnTo=…`.
pub(super) async fn logout(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let tenant = &app.tenant;
    let (parts, _) = request.into_parts();
    let cookie = session_cookie(&app.tenant, &parts.headers);
    let who = requester(&parts, &tenant.config.trusted_proxies);
    let return_to = query.get("returnTo").or_else(|| query.get("returnto"));
    match web::logout(
        tenant,
        cookie.as_deref(),
        query.get("client_id").map(String::as_str),
        return_to.map(String::as_str),
        true,
        &who,
    )
    .await
    {
        Ok(target) => logged_out(&app, target),
        Err(e) => failure(&app, page_text::ERROR_TITLE, &e),
    }
}

/// The client an `id_token_hint` was issued to. Its signature need not be checked: it only
/// picks whose `allowed_logout_urls` the redirect must come from.
pub(super) fn audience_of(id_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match &claims["aud"] {
        serde_json::Value::String(aud) => Some(aud.clone()),
        serde_json::Value::Array(auds) => auds.first()?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// `GET /oidc/logout` (OpenID Connect RP-initiated logout, the discovery document's
/// `end_session_endpoint`): `post_logout_redirect_uri` must be one of the client's
/// `allowed_logout_urls`; `state` is passed back.
pub(super) async fn oidc_logout(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let tenant = &app.tenant;
    let (parts, _) = request.into_parts();
    let cookie = session_cookie(&app.tenant, &parts.headers);
    let who = requester(&parts, &tenant.config.trusted_proxies);
    let client_id = query
        .get("client_id")
        .cloned()
        .or_else(|| query.get("id_token_hint").and_then(|t| audience_of(t)));
    let target = query.get("post_logout_redirect_uri").map(String::as_str);
    match web::logout(
        tenant,
        cookie.as_deref(),
        client_id.as_deref(),
        target,
        false,
        &who,
    )
    .await
    {
        Ok(target) => logged_out(
            &app,
            target.map(|url| match query.get("state") {
                Some(state) => {
                    let separator = if url.contains('?') { '&' } else { '?' };
                    let encoded =
                        serde_urlencoded::to_string([("state", state)]).unwrap_or_default();
                    format!("{url}{separator}{encoded}")
                }
                None => url,
            }),
        ),
        Err(e) => failure(&app, page_text::ERROR_TITLE, &e),
    }
}
