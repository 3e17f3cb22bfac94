//! The tenant's error page: where a browser goes when a request cannot go back to its
//! application — Auth0's `/error`, or the tenant's own `error_page.url`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::Error;
use portcullis_core::flows::web::AuthorizeParams;

use super::{redirect, show};
use crate::AppState;
use crate::wire::page::{ERROR_PAGE_TITLE, authorize_refusal};

/// `/authorize` refused before its application is known to be the one asking (unknown client,
/// unregistered `redirect_uri`): never a redirect to the URL given, only to the error page,
/// with Auth0's `error`, `error_description` and a `tracking` id the process log also carries.
pub(crate) fn refused_before_the_client(
    app: &AppState,
    params: &AuthorizeParams,
    error: &Error,
) -> Response {
    let (code, description) = authorize_refusal(
        error,
        params.client_id.as_deref(),
        params.redirect_uri.as_deref(),
    );
    let tracking = {
        let mut bytes = [0u8; 10];
        portcullis_core::secret::fill_random(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    tracing::info!(%tracking, error = code, %description, "an authorization request was refused");
    let base = app
        .tenant
        .config
        .error_page_url
        .clone()
        .unwrap_or_else(|| format!("{}error", app.tenant.config.issuer));
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(client_id) = params.client_id.as_deref() {
        query.push(("client_id", client_id));
    }
    query.extend([
        ("error", code),
        ("error_description", description.as_str()),
        ("tracking", tracking.as_str()),
    ]);
    let separator = if base.contains('?') { '&' } else { '?' };
    redirect(&format!(
        "{base}{separator}{}",
        serde_urlencoded::to_string(&query).unwrap_or_default()
    ))
}

/// `GET /error`: the error, its description and the tracking id, as text.
pub(crate) async fn show_page(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    show(
        &app,
        StatusCode::BAD_REQUEST,
        "error.html",
        minijinja::context! {
            title => ERROR_PAGE_TITLE,
            error => if get("error").is_empty() { "invalid_request" } else { get("error") },
            description => get("error_description"),
            tracking => get("tracking"),
            support_email => app.tenant.config.support_email.clone(),
        },
    )
}
