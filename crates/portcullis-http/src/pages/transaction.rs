//! The hosted pages' transaction: the `/authorize` request a login page answers, sealed into
//! the pages' `state` so any node can take the form's answer without shared memory, and bound
//! to the browser that started it by a cookie (no login CSRF). [`HostedForm`] is what every
//! posted hosted form shares: its fields, its live transaction, and the transaction's client.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::HeaderValue;
use axum::response::Response;
use portcullis_core::config::Client;
use portcullis_core::flows::login::hosted_page_connection;
use portcullis_core::flows::web::{self, Authorization};
use portcullis_core::logs::Requester;
use portcullis_core::tokens::SealPurpose;
use portcullis_core::{Error, Tenant};
use serde_json::{Map, Value};

use super::failure;
use crate::AppState;
use crate::cookies::{SameSite, cookie, cookie_header};
use crate::extract::{Accepts, read_object, requester, take_string};
use crate::wire::page_text;

/// Binds a login page's form to the browser that opened it; sent to the hosted pages only.
pub(super) const TRANSACTION_COOKIE: &str = "portcullis_transaction";

pub(super) const TRANSACTION_PATH: &str = "/u/";

/// A hosted-page transaction for `authorization`, bound to this browser: the sealed `state`
/// the pages carry, and the transaction cookie to set with the first of them.
pub(super) fn new_transaction(
    tenant: &Tenant,
    mut authorization: Authorization,
) -> Result<(String, HeaderValue), Error> {
    let transaction = web::bind_to_browser(&mut authorization);
    let sealed = tenant
        .keys
        .seal(SealPurpose::LoginTransaction, &authorization)
        .map_err(Error::Key)?;
    let cookie = cookie_header(
        tenant,
        TRANSACTION_COOKIE,
        &transaction,
        TRANSACTION_PATH,
        600,
        SameSite::Lax,
    );
    Ok((sealed, cookie))
}

pub(super) fn open_transaction(tenant: &Tenant, sealed: &str) -> Result<Authorization, Error> {
    let authorization: Authorization = tenant
        .keys
        .open(SealPurpose::LoginTransaction, sealed)
        .ok_or(Error::InvalidLoginState)?;
    if authorization.expires_at <= tenant.clock.now_millis() {
        return Err(Error::InvalidLoginState);
    }
    Ok(authorization)
}

/// The application's name, as the pages greet the user with it.
pub(super) fn application_name(tenant: &Tenant, authorization: &Authorization) -> String {
    tenant
        .config
        .client(&authorization.client_id)
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

/// A hosted page for the transaction in `?state=`, or the error page.
pub(super) fn transaction_page(
    app: &AppState,
    query: &HashMap<String, String>,
    render: impl FnOnce(&str, &Authorization) -> Result<Response, Error>,
) -> Response {
    let sealed = query.get("state").map(String::as_str).unwrap_or("");
    match open_transaction(&app.tenant, sealed).and_then(|a| render(sealed, &a)) {
        Ok(response) => response,
        Err(e) => failure(app, page_text::ERROR_TITLE, &e),
    }
}

/// A JSON value to write inside a `<script>`: `<` escaped so no value can close the element.
pub(super) fn script_json(value: impl Into<Value>) -> String {
    value.into().to_string().replace('<', "\\u003c")
}

/// The database connection the hosted sign-up and password-reset pages work on.
pub(super) fn hosted_connection<'t>(
    tenant: &'t Tenant,
    authorization: &Authorization,
) -> Result<&'t portcullis_core::config::Connection, Error> {
    let name = match &authorization.connection {
        Some(name) => name.as_str(),
        None => hosted_page_connection(tenant, &authorization.client_id)?,
    };
    tenant
        .config
        .connection(name)
        .ok_or(Error::UnknownConnection)
}

/// A posted hosted form: its fields, the live transaction of its `state` (posted from the
/// browser that started it), that transaction's client, and who posted it. A form without all
/// of these gets the error page and goes no further.
pub(super) struct HostedForm {
    /// The sealed transaction, as the next page carries it on.
    pub sealed: String,
    pub authorization: Authorization,
    pub client: Client,
    pub requester: Requester,
    fields: Map<String, Value>,
}

impl HostedForm {
    /// A posted field, empty when missing or not text.
    pub fn field(&mut self, name: &'static str) -> String {
        take_string(&mut self.fields, name)
            .ok()
            .flatten()
            .unwrap_or_default()
    }
}

impl FromRequest<AppState> for HostedForm {
    type Rejection = Response;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, Response> {
        let tenant = &app.tenant;
        let (parts, body) = request.into_parts();
        // An unreadable body reads as an empty form, refused below for its missing state.
        let mut fields = read_object(&parts.headers, body, Accepts::JsonOrForm, true)
            .await
            .unwrap_or_default();
        let sealed = take_string(&mut fields, "state")
            .ok()
            .flatten()
            .unwrap_or_default();
        let authorization = open_transaction(tenant, &sealed)
            .and_then(|a| {
                let transaction = cookie(tenant, &parts.headers, TRANSACTION_COOKIE);
                if web::is_same_browser(&a, transaction.as_deref()) {
                    Ok(a)
                } else {
                    Err(Error::InvalidLoginState)
                }
            })
            .map_err(|e| failure(app, page_text::ERROR_TITLE, &e))?;
        let client = tenant
            .config
            .client(&authorization.client_id)
            .cloned()
            .ok_or_else(|| failure(app, page_text::ERROR_TITLE, &Error::UnknownClient))?;
        Ok(Self {
            sealed,
            authorization,
            client,
            requester: requester(&parts, &tenant.config.trusted_proxies),
            fields,
        })
    }
}
