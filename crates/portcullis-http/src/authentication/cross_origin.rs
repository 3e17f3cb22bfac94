//! `POST /co/authenticate`: cross-origin authentication for auth0.js `login` and Lock. The
//! answer carries the `login_ticket` and a verifier, which also goes into a cookie that
//! `/authorize?login_ticket=…` checks.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use portcullis_core::flows::cross_origin::{self, CrossOriginLogin, LOGIN_TICKET_LIFETIME_SECS};
use serde_json::json;

use crate::AppState;
use crate::cookies::{SameSite, cookie_header};
use crate::extract::{Accepts, read_object, requester, require_string, take_string};
use crate::wire::CrossOriginFailure;

/// The verifier cookie of the ticket issued with `co_id`.
pub(crate) fn verifier_cookie_name(co_id: &str) -> String {
    format!("portcullis_co_{co_id}")
}

pub async fn authenticate(
    State(app): State<AppState>,
    request: Request,
) -> Result<Response, CrossOriginFailure> {
    let tenant = &app.tenant;
    let (parts, body) = request.into_parts();
    let mut o = read_object(&parts.headers, body, Accepts::JsonOrForm, true).await?;
    let login = CrossOriginLogin {
        client_id: require_string(&mut o, "client_id")?,
        origin: parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        username: require_string(&mut o, "username")?,
        password: require_string(&mut o, "password")?,
        realm: take_string(&mut o, "realm")?,
        credential_type: take_string(&mut o, "credential_type")?,
        requester: requester(&parts, &tenant.config.trusted_proxies),
    };
    let ticket = cross_origin::authenticate(tenant, login).await?;
    let mut response = Json(json!({
        "login_ticket": ticket.login_ticket,
        "co_verifier": ticket.co_verifier,
        "co_id": ticket.co_id,
    }))
    .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    headers.append(
        header::SET_COOKIE,
        cookie_header(
            tenant,
            &verifier_cookie_name(&ticket.co_id),
            &ticket.co_verifier,
            "/",
            LOGIN_TICKET_LIFETIME_SECS,
            SameSite::NoneWhenSecure,
        ),
    );
    Ok(response)
}
