//! `GET /authorize`: an existing session answers at once (after the post-login checks), a
//! cross-origin login ticket is redeemed, and everything else goes to the hosted login page.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use portcullis_core::Error;
use portcullis_core::flows::cross_origin;
use portcullis_core::flows::web::{self, Authorization, AuthorizeParams, SessionAnswer};
use portcullis_core::logs::Requester;

use super::answer::{authorization_error, code_answer, error_to_client, signed_in};
use super::mfa::{otp_form, start_enrollment};
use super::transaction::{HostedForm, new_transaction, script_json};
use super::{failure, redirect, show};
use crate::AppState;
use crate::authentication::cross_origin::verifier_cookie_name;
use crate::cookies::{cookie, session_cookie};
use crate::extract::requester;
use crate::wire::page_text;

/// `GET /authorize` (response_type=code with PKCE for public clients; `token`/`id_token`
/// for clients allowed the implicit grant).
pub(super) async fn authorize(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let tenant = &app.tenant;
    let (parts, _) = request.into_parts();
    let headers = &parts.headers;
    let who = requester(&parts, &tenant.config.trusted_proxies);
    let get = |k: &str| query.get(k).filter(|v| !v.is_empty()).cloned();
    let params = AuthorizeParams {
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        response_type: get("response_type"),
        response_mode: get("response_mode"),
        scope: get("scope"),
        audience: get("audience"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
        connection: get("connection"),
        login_hint: get("login_hint"),
        max_age: get("max_age"),
    };
    let (client, redirect_uri) = match web::redirect_target(tenant, &params) {
        Ok(target) => target,
        Err(e) => return super::error::refused_before_the_client(&app, &params, &e),
    };
    let state = params.state.clone();
    // Errors of a refused request go back the way its answer would have.
    let implicit = params
        .response_type
        .as_deref()
        .and_then(web::ResponseType::parse)
        .is_some_and(web::ResponseType::is_implicit);
    let mode = params
        .response_mode
        .clone()
        .unwrap_or_else(|| if implicit { "fragment" } else { "query" }.to_owned());
    let authorization = match web::check(tenant, client, redirect_uri.clone(), params) {
        Ok(a) => a,
        Err(e) => return error_to_client(&app, &redirect_uri, &mode, &e, state.as_deref()),
    };
    if let Some(ticket) = get("login_ticket") {
        return ticket_login(&app, headers, &ticket, authorization).await;
    }
    let prompt = authorization.prompt.as_deref();
    if prompt != Some("login") {
        let user = match session_cookie(&app.tenant, headers) {
            Some(cookie) => web::session_user(tenant, &cookie, authorization.max_age).await,
            None => Ok(None),
        };
        match user {
            // A session through a connection this application does not use is no session
            // here: the user logs in (or, with prompt=none, login is required).
            Ok(Some(session))
                if tenant
                    .config
                    .client(&authorization.client_id)
                    .is_some_and(|c| web::connection_enabled_for(tenant, c, &session.user)) =>
            {
                return session_answer(&app, session, authorization, &who).await;
            }
            Ok(_) => {}
            Err(e) => return failure(&app, page_text::ERROR_TITLE, &e),
        }
    }
    if prompt == Some("none") {
        return authorization_error(&app, &authorization, &Error::LoginRequired);
    }
    let screen = if get("screen_hint").as_deref() == Some("signup") {
        "/u/signup"
    } else {
        "/u/login"
    };
    match new_transaction(tenant, authorization) {
        Ok((sealed, transaction_cookie)) => {
            let query = serde_urlencoded::to_string([("state", sealed)]).unwrap_or_default();
            let mut response = redirect(&format!("{screen}?{query}"));
            response
                .headers_mut()
                .append(header::SET_COOKIE, transaction_cookie);
            response
        }
        Err(e) => failure(&app, page_text::ERROR_TITLE, &e),
    }
}

/// `/authorize` for a browser with a session: core decides ([`web::answer_with_session`]);
/// errors (`mfa_required` with `prompt=none` among them) go back to the application.
async fn session_answer(
    app: &AppState,
    session: web::BrowserSession,
    mut authorization: Authorization,
    who: &Requester,
) -> Response {
    let tenant = &app.tenant;
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return failure(app, page_text::ERROR_TITLE, &Error::UnknownClient);
    };
    match web::answer_with_session(tenant, client, session, &mut authorization, who).await {
        Ok(SessionAnswer::Answer {
            user,
            authenticated_at,
        }) => code_answer(tenant, &user, &authorization, authenticated_at)
            .await
            .respond(app),
        Ok(SessionAnswer::SecondFactor {
            mfa_token,
            enrolled,
        }) => second_factor_page(app, authorization, &mfa_token, enrolled).await,
        Err(e) => authorization_error(app, &authorization, &e),
    }
}

/// The hosted challenge (or, for a user without a factor, enrollment) page of a new
/// transaction for `authorization`, bound to this browser.
pub(super) async fn second_factor_page(
    app: &AppState,
    authorization: Authorization,
    mfa_token: &str,
    enrolled: bool,
) -> Response {
    let (sealed, transaction_cookie) = match new_transaction(&app.tenant, authorization) {
        Ok(transaction) => transaction,
        Err(e) => return failure(app, page_text::ERROR_TITLE, &e),
    };
    let mut page = if enrolled {
        otp_form(app, StatusCode::OK, &sealed, mfa_token, None).await
    } else {
        start_enrollment(app, &sealed, mfa_token).await
    };
    page.headers_mut()
        .append(header::SET_COOKIE, transaction_cookie);
    page
}

/// `/authorize?login_ticket=…`: the end of a cross-origin login (auth0.js `login`, Lock),
/// in the browser that holds the ticket's verifier cookie; a second factor still due is
/// asked for on the hosted pages.
pub(super) async fn ticket_login(
    app: &AppState,
    headers: &HeaderMap,
    ticket: &str,
    authorization: Authorization,
) -> Response {
    let tenant = &app.tenant;
    let co_id = match cross_origin::ticket_co_id(tenant, ticket).await {
        Ok(co_id) => co_id,
        Err(e) => return failure(app, page_text::ERROR_TITLE, &e),
    };
    let verifier = co_id
        .as_deref()
        .and_then(|id| cookie(&app.tenant, headers, &verifier_cookie_name(id)));
    // Without the cookie (a browser that blocks third-party cookies), the application's
    // verification page hands the verifier over, as auth0.js's crossOriginVerification does.
    let verification_page = tenant
        .config
        .client(&authorization.client_id)
        .and_then(|c| c.cross_origin_loc.clone());
    if let (None, Some(co_id), Some(location)) = (&verifier, &co_id, verification_page) {
        return verification_page_for(app, authorization, ticket, co_id, &location);
    }
    redeem_ticket(app, authorization, ticket, verifier.as_deref()).await
}

/// The page that fetches the verifier from the application's `cross_origin_loc` page in an
/// iframe and posts it, with the ticket, to `/u/co-verify`.
pub(super) fn verification_page_for(
    app: &AppState,
    authorization: Authorization,
    ticket: &str,
    co_id: &str,
    location: &str,
) -> Response {
    let tenant = &app.tenant;
    let (sealed, transaction_cookie) = match new_transaction(tenant, authorization) {
        Ok(transaction) => transaction,
        Err(e) => return failure(app, page_text::ERROR_TITLE, &e),
    };
    let own_origin = web::origin_of(&tenant.config.issuer);
    let verification_url = format!(
        "{location}#{}",
        serde_urlencoded::to_string([("origin", own_origin)]).unwrap_or_default()
    );
    let mut page = show(
        app,
        StatusCode::OK,
        "co-verify.html",
        minijinja::context! {
            verification_url,
            state => sealed,
            login_ticket => ticket,
            app_origin => script_json(web::origin_of(location)),
            co_id => script_json(co_id),
        },
    );
    page.headers_mut()
        .append(header::SET_COOKIE, transaction_cookie);
    page
}

/// `POST /u/co-verify`: the verifier fetched by the verification page, with its ticket.
pub(super) async fn submit_verifier(State(app): State<AppState>, mut form: HostedForm) -> Response {
    let ticket = form.field("login_ticket");
    let verifier = form.field("co_verifier");
    redeem_ticket(&app, form.authorization, &ticket, Some(&verifier)).await
}

/// Redeems a login ticket with the browser's verifier and finishes the login.
pub(super) async fn redeem_ticket(
    app: &AppState,
    authorization: Authorization,
    ticket: &str,
    verifier: Option<&str>,
) -> Response {
    let tenant = &app.tenant;
    let login = match cross_origin::redeem(tenant, ticket, &authorization.client_id, verifier).await
    {
        Ok(login) => login,
        Err(e) => return authorization_error(app, &authorization, &e),
    };
    let mut authorization = authorization;
    authorization.grant.claims = login.claims;
    match login.second_factor {
        None => signed_in(app, &login.user, &authorization, false).await,
        Some((mfa_token, enrolled)) => {
            second_factor_page(app, authorization, &mfa_token, enrolled).await
        }
    }
}
