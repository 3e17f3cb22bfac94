//! What goes back to the application: a code (or tokens) or an error, in the response mode
//! it asked for, with the browser session started on the way.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use portcullis_core::flows::web::{self, Authorization};
use portcullis_core::tokens::SealPurpose;
use portcullis_core::user::UserRecord;
use portcullis_core::{Error, Tenant};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::transaction::{TRANSACTION_COOKIE, TRANSACTION_PATH, script_json};
use super::{Hidden, data, failure, redirect, show};
use crate::AppState;
use crate::cookies::{SESSION_COOKIE, SameSite, cookie_header};
use crate::wire::page_text;
use crate::wire::redirect_error;

/// How long a sealed answer behind `/u/continue` can be followed (the code's own lifetime).
pub(super) const ANSWER_LIFETIME_MILLIS: i64 = 600_000;

/// What goes back to the application, and how (`response_mode`). Sealed, it is the target of
/// a page's "Continue" link when a page must come between the login and the application
/// (the recovery code shown once).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ClientAnswer {
    /// Always `"continue"`: nothing else sealed with the tenant's key opens as an answer.
    purpose: String,
    redirect_uri: String,
    response_mode: String,
    fields: Vec<(String, String)>,
    expires_at: i64,
}

impl ClientAnswer {
    pub(super) fn new(
        tenant: &Tenant,
        redirect_uri: &str,
        response_mode: &str,
        fields: Vec<(&str, String)>,
        state: Option<&str>,
    ) -> Self {
        let mut fields: Vec<(String, String)> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        if let Some(state) = state {
            fields.push(("state".to_owned(), state.to_owned()));
        }
        Self {
            purpose: "continue".to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            response_mode: response_mode.to_owned(),
            fields,
            expires_at: tenant.clock.now_millis() + ANSWER_LIFETIME_MILLIS,
        }
    }

    /// The answer as the application asked for it.
    pub(super) fn respond(&self, app: &AppState) -> Response {
        let fields: Vec<Hidden<'_>> = self
            .fields
            .iter()
            .map(|(name, value)| Hidden { name, value })
            .collect();
        match self.response_mode.as_str() {
            "web_message" => web_message(app, &self.redirect_uri, &self.fields),
            "form_post" => show(
                app,
                StatusCode::OK,
                "form-post.html",
                minijinja::context! { action => &self.redirect_uri, fields => data(fields) },
            ),
            mode => {
                let encoded = serde_urlencoded::to_string(&self.fields).unwrap_or_default();
                let separator = if mode == "fragment" {
                    "#"
                } else if self.redirect_uri.contains('?') {
                    "&"
                } else {
                    "?"
                };
                redirect(&format!("{}{separator}{encoded}", self.redirect_uri))
            }
        }
    }
}

/// `response_mode=web_message`: the page posts the answer to its parent window (the hidden
/// iframe of silent authentication, or the popup's opener), only to the callback's origin, as
/// auth0-spa-js expects.
pub(super) fn web_message(
    app: &AppState,
    redirect_uri: &str,
    fields: &[(String, String)],
) -> Response {
    let response: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    let message = serde_json::json!({"type": "authorization_response", "response": response});
    let mut response = show(
        app,
        StatusCode::OK,
        "web-message.html",
        minijinja::context! {
            target_origin => script_json(web::origin_of(redirect_uri)),
            message => script_json(message),
        },
    );
    // The page must load inside the application's iframe.
    response.headers_mut().remove(header::X_FRAME_OPTIONS);
    response
}

pub(super) fn error_to_client(
    app: &AppState,
    redirect_uri: &str,
    response_mode: &str,
    error: &Error,
    state: Option<&str>,
) -> Response {
    let (code, description) = redirect_error(error);
    ClientAnswer::new(
        &app.tenant,
        redirect_uri,
        response_mode,
        vec![("error", code), ("error_description", description)],
        state,
    )
    .respond(app)
}

pub(super) fn authorization_error(
    app: &AppState,
    authorization: &Authorization,
    error: &Error,
) -> Response {
    error_to_client(
        app,
        &authorization.grant.redirect_uri,
        &authorization.response_mode,
        error,
        authorization.state.as_deref(),
    )
}

/// A code (or, for the legacy implicit types, the tokens) for `user`, as the answer to the
/// application, or the error that stopped it.
pub(super) async fn code_answer(
    tenant: &Tenant,
    user: &UserRecord,
    authorization: &Authorization,
    authenticated_at_millis: i64,
) -> ClientAnswer {
    let fields =
        match web::answer_fields(tenant, user, authorization, authenticated_at_millis).await {
            Ok(fields) => fields,
            Err(e) => {
                let (code, description) = redirect_error(&e);
                vec![("error", code), ("error_description", description)]
            }
        };
    ClientAnswer::new(
        tenant,
        &authorization.grant.redirect_uri,
        &authorization.response_mode,
        fields,
        authorization.state.as_deref(),
    )
}

/// Starts the browser session; the answer for the application and the cookies to set.
pub(super) async fn start_session(
    app: &AppState,
    user: &UserRecord,
    authorization: &Authorization,
    second_factor: bool,
) -> Result<(ClientAnswer, [HeaderValue; 2]), Response> {
    let tenant = &app.tenant;
    let cookie = match web::start_session(tenant, user, second_factor).await {
        Ok(cookie) => cookie,
        Err(e) => return Err(failure(app, page_text::ERROR_TITLE, &e)),
    };
    let now = tenant.clock.now_millis();
    let answer = code_answer(tenant, user, authorization, now).await;
    let cookies = [
        cookie_header(
            tenant,
            SESSION_COOKIE,
            &cookie,
            "/",
            portcullis_core::codes_and_sessions::SESSION_LIFETIME_SECS,
            SameSite::NoneWhenSecure,
        ),
        cookie_header(
            tenant,
            TRANSACTION_COOKIE,
            "",
            TRANSACTION_PATH,
            0,
            SameSite::Lax,
        ),
    ];
    Ok((answer, cookies))
}

pub(super) fn with_cookies(mut response: Response, cookies: [HeaderValue; 2]) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Starts the browser session and answers the application with a code.
pub(super) async fn signed_in(
    app: &AppState,
    user: &UserRecord,
    authorization: &Authorization,
    second_factor: bool,
) -> Response {
    match start_session(app, user, authorization, second_factor).await {
        Ok((answer, cookies)) => with_cookies(answer.respond(app), cookies),
        Err(page) => page,
    }
}

/// Starts the browser session and shows a recovery code once, with a link that continues to
/// the application.
pub(super) async fn signed_in_showing_recovery_code(
    app: &AppState,
    user: &UserRecord,
    authorization: &Authorization,
    recovery_code: &str,
    title: &str,
) -> Response {
    let (answer, cookies) = match start_session(app, user, authorization, true).await {
        Ok(started) => started,
        Err(page) => return page,
    };
    let sealed = match app.tenant.keys.seal(SealPurpose::LoginAnswer, &answer) {
        Ok(s) => s,
        Err(e) => return failure(app, page_text::ERROR_TITLE, &Error::Key(e)),
    };
    let action = format!(
        "/u/continue?{}",
        serde_urlencoded::to_string([("answer", sealed)]).unwrap_or_default()
    );
    let page = show(
        app,
        StatusCode::OK,
        "mfa-recovery-code.html",
        minijinja::context! {
            title,
            recovery_code,
            next_step => minijinja::context! { method => "get", action },
        },
    );
    with_cookies(page, cookies)
}

/// `GET /u/continue?answer=…`: the application's answer behind a page's "Continue" link.
pub(super) async fn continue_to_client(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let sealed = query.get("answer").map(String::as_str).unwrap_or("");
    match app
        .tenant
        .keys
        .open::<ClientAnswer>(SealPurpose::LoginAnswer, sealed)
        .filter(|a| a.purpose == "continue" && a.expires_at > app.tenant.clock.now_millis())
    {
        Some(answer) => answer.respond(&app),
        None => failure(&app, page_text::ERROR_TITLE, &Error::InvalidLoginState),
    }
}
