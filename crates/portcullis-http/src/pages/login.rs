//! Web login: `/authorize`, the hosted login, sign-up, password-reset and MFA pages (`/u/…`)
//! and logout.
//!
//! The login page's transaction travels in its own `state` parameter, sealed with the
//! tenant's key, so any node can serve the form's answer without shared memory. Every form
//! is bound to the browser that started the transaction by a cookie (login CSRF).

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use portcullis_core::config::grant;
use portcullis_core::flows::cross_origin;
use portcullis_core::flows::login::{PasswordLogin, hosted_page_connection, password_login};
use portcullis_core::flows::mfa;
use portcullis_core::flows::reset::request_reset;
use portcullis_core::flows::signup::{NewUser, SignUp, sign_up};
use portcullis_core::flows::web::{self, AfterLogin, Authorization, AuthorizeParams};
use portcullis_core::logs::Requester;
use portcullis_core::mfa::PendingLogin;
use portcullis_core::tokens::SealPurpose;
use portcullis_core::user::UserRecord;
use portcullis_core::{Error, Tenant};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::enrollment::qr_svg;
use super::{Hidden, data, failure, message, redirect, show};
use crate::AppState;
use crate::authentication::cross_origin::verifier_cookie_name;
use crate::cookies::{SESSION_COOKIE, SameSite, cookie, cookie_header, session_cookie};
use crate::extract::{Accepts, read_object, requester, take_string};
use crate::wire::page::page_message;
use crate::wire::redirect_error;

/// Binds a login page's form to the browser that opened it; sent to the hosted pages only.
const TRANSACTION_COOKIE: &str = "portcullis_transaction";
const TRANSACTION_PATH: &str = "/u/";
/// How long a sealed answer behind `/u/continue` can be followed (the code's own lifetime).
const ANSWER_LIFETIME_MILLIS: i64 = 600_000;

/// What goes back to the application, and how (`response_mode`). Sealed, it is the target of
/// a page's "Continue" link when a page must come between the login and the application
/// (the recovery code shown once).
#[derive(Debug, Serialize, Deserialize)]
struct ClientAnswer {
    /// Always `"continue"`: nothing else sealed with the tenant's key opens as an answer.
    purpose: String,
    redirect_uri: String,
    response_mode: String,
    fields: Vec<(String, String)>,
    expires_at: i64,
}

impl ClientAnswer {
    fn new(
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
    fn respond(&self, app: &AppState) -> Response {
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
fn web_message(app: &AppState, redirect_uri: &str, fields: &[(String, String)]) -> Response {
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

fn error_to_client(
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

fn authorization_error(app: &AppState, authorization: &Authorization, error: &Error) -> Response {
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
async fn code_answer(
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

/// `GET /authorize` (response_type=code with PKCE for public clients; `token`/`id_token`
/// for clients allowed the implicit grant).
pub async fn authorize(
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
            Err(e) => return failure(&app, "Error", &e),
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
        Err(e) => failure(&app, "Error", &e),
    }
}

/// A hosted-page transaction for `authorization`, bound to this browser: the sealed `state`
/// the pages carry, and the transaction cookie to set with the first of them.
fn new_transaction(
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

/// A JSON value to write inside a `<script>`: `<` escaped so no value can close the element.
fn script_json(value: impl Into<Value>) -> String {
    value.into().to_string().replace('<', "\\u003c")
}

/// `/authorize` for a browser with a session: the answer at once, unless MFA is required
/// and the session's login had no second factor (the policy changed since): then the second
/// factor is asked for, or, with `prompt=none`, `mfa_required` goes back.
async fn session_answer(
    app: &AppState,
    session: web::BrowserSession,
    mut authorization: Authorization,
    who: &Requester,
) -> Response {
    let tenant = &app.tenant;
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return failure(app, "Error", &Error::UnknownClient);
    };
    // Every login through /authorize runs the post-login Rules and Actions, with a session too.
    let mut user = session.user.clone();
    match web::after_login(
        tenant,
        client,
        &mut user,
        &mut authorization,
        who,
        session.second_factor,
    )
    .await
    {
        Ok(AfterLogin::Answer) => {
            code_answer(tenant, &user, &authorization, session.authenticated_at)
                .await
                .respond(app)
        }
        Ok(AfterLogin::SecondFactor { .. }) if authorization.prompt.as_deref() == Some("none") => {
            let (error, description) = redirect_error(&Error::MfaRequired {
                mfa_token: String::new(),
                enrolled: false,
            });
            ClientAnswer::new(
                tenant,
                &authorization.grant.redirect_uri,
                &authorization.response_mode,
                vec![("error", error), ("error_description", description)],
                authorization.state.as_deref(),
            )
            .respond(app)
        }
        Ok(AfterLogin::SecondFactor {
            mfa_token,
            enrolled,
        }) => second_factor_page(app, authorization, &mfa_token, enrolled).await,
        Err(e) => authorization_error(app, &authorization, &e),
    }
}

/// The hosted challenge (or, for a user without a factor, enrollment) page of a new
/// transaction for `authorization`, bound to this browser.
async fn second_factor_page(
    app: &AppState,
    authorization: Authorization,
    mfa_token: &str,
    enrolled: bool,
) -> Response {
    let (sealed, transaction_cookie) = match new_transaction(&app.tenant, authorization) {
        Ok(transaction) => transaction,
        Err(e) => return failure(app, "Error", &e),
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
async fn ticket_login(
    app: &AppState,
    headers: &HeaderMap,
    ticket: &str,
    authorization: Authorization,
) -> Response {
    let tenant = &app.tenant;
    let co_id = match cross_origin::ticket_co_id(tenant, ticket).await {
        Ok(co_id) => co_id,
        Err(e) => return failure(app, "Error", &e),
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
fn verification_page_for(
    app: &AppState,
    authorization: Authorization,
    ticket: &str,
    co_id: &str,
    location: &str,
) -> Response {
    let tenant = &app.tenant;
    let (sealed, transaction_cookie) = match new_transaction(tenant, authorization) {
        Ok(transaction) => transaction,
        Err(e) => return failure(app, "Error", &e),
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
pub async fn submit_verifier(State(app): State<AppState>, request: Request) -> Response {
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let ticket = field("login_ticket");
    let verifier = field("co_verifier");
    let authorization = match open_form_transaction(&app.tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return failure(&app, "Error", &e),
    };
    redeem_ticket(&app, authorization, &ticket, Some(&verifier)).await
}

/// Redeems a login ticket with the browser's verifier and finishes the login.
async fn redeem_ticket(
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

fn open_transaction(tenant: &Tenant, sealed: &str) -> Result<Authorization, Error> {
    let authorization: Authorization = tenant
        .keys
        .open(SealPurpose::LoginTransaction, sealed)
        .ok_or(Error::InvalidLoginState)?;
    if authorization.expires_at <= tenant.clock.now_millis() {
        return Err(Error::InvalidLoginState);
    }
    Ok(authorization)
}

/// A posted form's request parts and fields (unreadable bodies read as empty forms, which
/// every page then refuses for their missing transaction).
async fn posted_form(request: Request) -> (Parts, Map<String, Value>) {
    let (parts, body) = request.into_parts();
    let fields = read_object(&parts.headers, body, Accepts::JsonOrForm, true)
        .await
        .unwrap_or_default();
    (parts, fields)
}

fn form_field(fields: &mut Map<String, Value>, name: &'static str) -> String {
    take_string(fields, name).ok().flatten().unwrap_or_default()
}

/// A form answer: the transaction must be live and come from the browser that started it.
fn open_form_transaction(
    tenant: &Tenant,
    sealed: &str,
    headers: &HeaderMap,
) -> Result<Authorization, Error> {
    let authorization = open_transaction(tenant, sealed)?;
    if !web::is_same_browser(
        &authorization,
        cookie(tenant, headers, TRANSACTION_COOKIE).as_deref(),
    ) {
        return Err(Error::InvalidLoginState);
    }
    Ok(authorization)
}

/// The application's name, as the pages greet the user with it.
fn application_name(tenant: &Tenant, authorization: &Authorization) -> String {
    tenant
        .config
        .client(&authorization.client_id)
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

fn login_form(
    app: &AppState,
    status: StatusCode,
    sealed: &str,
    authorization: &Authorization,
    username: &str,
    error: Option<&str>,
) -> Response {
    let tenant = &app.tenant;
    let signup_allowed = hosted_connection(tenant, authorization).is_ok_and(|c| !c.disable_signup);
    show(
        app,
        status,
        "login.html",
        minijinja::context! {
            title => "Log in",
            application => application_name(tenant, authorization),
            state => sealed,
            username,
            error,
            signup_allowed,
        },
    )
}

/// A hosted page for the transaction in `?state=`, or the error page.
fn transaction_page(
    app: &AppState,
    query: &HashMap<String, String>,
    render: impl FnOnce(&str, &Authorization) -> Result<Response, Error>,
) -> Response {
    let sealed = query.get("state").map(String::as_str).unwrap_or("");
    match open_transaction(&app.tenant, sealed).and_then(|a| render(sealed, &a)) {
        Ok(response) => response,
        Err(e) => failure(app, "Error", &e),
    }
}

/// `GET /u/login?state=…`: the hosted login page.
pub async fn show_login(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    transaction_page(&app, &query, |sealed, authorization| {
        let hint = authorization.login_hint.as_deref().unwrap_or("");
        Ok(login_form(
            &app,
            StatusCode::OK,
            sealed,
            authorization,
            hint,
            None,
        ))
    })
}

/// `POST /u/login`: the password, then the second factor or the answer to the application.
pub async fn submit(State(app): State<AppState>, request: Request) -> Response {
    let tenant = &app.tenant;
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let username = field("username");
    let password = field("password");
    let authorization = match open_form_transaction(tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return failure(&app, "Error", &e),
    };
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return failure(&app, "Error", &Error::UnknownClient);
    };
    let login = PasswordLogin {
        realm: authorization.connection.clone(),
        username: username.clone(),
        password,
        requester: requester(&parts, &tenant.config.trusted_proxies),
        pending: PendingLogin {
            scope: authorization.grant.scope.clone(),
            audience: authorization.grant.audience.clone(),
            nonce: authorization.grant.nonce.clone(),
            ..PendingLogin::default()
        },
        on_login_page: true,
    };
    let grant_type = if login.realm.is_some() {
        grant::PASSWORD_REALM
    } else {
        grant::PASSWORD
    };
    match password_login(tenant, client, grant_type, &login).await {
        Ok(logged_in) => {
            let mut authorization = authorization;
            authorization.grant.claims = logged_in.claims;
            signed_in(&app, &logged_in.user, &authorization, false).await
        }
        // A user an administrator blocked, or a login an Action or Rule refused, goes back to
        // the application as an error, as Auth0 does.
        Err(
            e @ (Error::UserBlocked
            | Error::LoginDenied { .. }
            | Error::RuleUnauthorized { .. }
            | Error::ScriptFailed(_)),
        ) => authorization_error(&app, &authorization, &e),
        Err(Error::MfaRequired {
            mfa_token,
            enrolled: true,
        }) => otp_form(&app, StatusCode::OK, &sealed, &mfa_token, None).await,
        Err(Error::MfaRequired {
            mfa_token,
            enrolled: false,
        }) => start_enrollment(&app, &sealed, &mfa_token).await,
        Err(e) => {
            let (status, text) = page_message(&e);
            login_form(
                &app,
                status,
                &sealed,
                &authorization,
                &username,
                Some(&text),
            )
        }
    }
}

async fn otp_form(
    app: &AppState,
    status: StatusCode,
    sealed: &str,
    mfa_token: &str,
    error: Option<&str>,
) -> Response {
    let recovery_allowed = mfa::policy(&app.tenant)
        .await
        .is_ok_and(|p| p.recovery_code);
    show(
        app,
        status,
        "mfa-challenge.html",
        minijinja::context! {
            title => "Verify your identity",
            state => sealed,
            mfa_token,
            error,
            recovery_allowed,
        },
    )
}

/// `POST /u/mfa-otp-challenge`: the second factor of a hosted login.
pub async fn submit_otp(State(app): State<AppState>, request: Request) -> Response {
    let tenant = &app.tenant;
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let mfa_token = field("mfa_token");
    let code = field("code");
    let authorization = match open_form_transaction(tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return failure(&app, "Error", &e),
    };
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return failure(&app, "Error", &Error::UnknownClient);
    };
    let who = requester(&parts, &tenant.config.trusted_proxies);
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    match mfa::redeem_otp(tenant, client, &mfa_token, &code, &who, true).await {
        Ok((user, pending)) => {
            let mut authorization = authorization;
            authorization.grant.claims = pending.claims;
            signed_in(&app, &user, &authorization, true).await
        }
        Err(e @ (Error::InvalidOtp | Error::MfaTooManyAttempts)) => {
            let (status, text) = page_message(&e);
            otp_form(&app, status, &sealed, &mfa_token, Some(&text)).await
        }
        Err(e) => failure(&app, "Error", &e),
    }
}

/// What the enrollment page must show again after a wrong code: the secret the user already
/// scanned, and the recovery code to show once enrolled. It travels in the page (this browser
/// just proved the password; the recovery code is of no use before the enrollment is done).
#[derive(Debug, Serialize, Deserialize)]
struct PendingEnrollment {
    purpose: String,
    secret: String,
    barcode_uri: String,
    recovery_code: Option<String>,
}

/// A user without a factor logging in where MFA is required: a new authenticator to scan.
async fn start_enrollment(app: &AppState, sealed: &str, mfa_token: &str) -> Response {
    let enrollment = match mfa::associate(&app.tenant, mfa_token, &["otp".to_owned()]).await {
        Ok(e) => e,
        Err(e) => return failure(app, "Error", &e),
    };
    let pending = PendingEnrollment {
        purpose: "enrollment".to_owned(),
        secret: enrollment.secret,
        barcode_uri: enrollment.barcode_uri,
        recovery_code: enrollment.recovery_codes.into_iter().next(),
    };
    enrollment_form(app, StatusCode::OK, sealed, mfa_token, &pending, None)
}

fn enrollment_form(
    app: &AppState,
    status: StatusCode,
    sealed: &str,
    mfa_token: &str,
    pending: &PendingEnrollment,
    error: Option<&str>,
) -> Response {
    let sealed_enrollment = match app.tenant.keys.seal(SealPurpose::MfaEnrollment, pending) {
        Ok(s) => s,
        Err(e) => return failure(app, "Error", &Error::Key(e)),
    };
    show(
        app,
        status,
        "mfa-enroll.html",
        minijinja::context! {
            title => "Secure your account",
            qr_svg => qr_svg(&pending.barcode_uri),
            secret => &pending.secret,
            action => "/u/mfa-otp-enrollment",
            hidden => data([
                Hidden { name: "state", value: sealed },
                Hidden { name: "mfa_token", value: mfa_token },
                Hidden { name: "enrollment", value: &sealed_enrollment },
            ]),
            error,
        },
    )
}

/// `POST /u/mfa-otp-enrollment`: the first code from the new authenticator confirms it and
/// completes the login; the recovery code is shown once before going back to the application.
pub async fn submit_enrollment(State(app): State<AppState>, request: Request) -> Response {
    let tenant = &app.tenant;
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let mfa_token = field("mfa_token");
    let sealed_enrollment = field("enrollment");
    let code = field("code");
    let authorization = match open_form_transaction(tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return failure(&app, "Error", &e),
    };
    let Some(pending) = tenant
        .keys
        .open::<PendingEnrollment>(SealPurpose::MfaEnrollment, &sealed_enrollment)
        .filter(|p| p.purpose == "enrollment")
    else {
        return failure(&app, "Error", &Error::InvalidLoginState);
    };
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return failure(&app, "Error", &Error::UnknownClient);
    };
    let who = requester(&parts, &tenant.config.trusted_proxies);
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    match mfa::redeem_otp(tenant, client, &mfa_token, &code, &who, true).await {
        Ok((user, login)) => match pending.recovery_code {
            Some(recovery_code) => {
                let mut authorization = authorization;
                authorization.grant.claims = login.claims;
                signed_in_showing_recovery_code(
                    &app,
                    &user,
                    &authorization,
                    &recovery_code,
                    "Almost there!",
                )
                .await
            }
            None => {
                let mut authorization = authorization;
                authorization.grant.claims = login.claims;
                signed_in(&app, &user, &authorization, true).await
            }
        },
        Err(e @ (Error::InvalidOtp | Error::MfaTooManyAttempts)) => {
            let (status, text) = page_message(&e);
            enrollment_form(&app, status, &sealed, &mfa_token, &pending, Some(&text))
        }
        Err(e) => failure(&app, "Error", &e),
    }
}

/// `POST /u/mfa-recovery-code`: with `show`, the recovery-code form; with `code`, the
/// recovery code completes the login and the next one is shown once.
pub async fn submit_recovery_code(State(app): State<AppState>, request: Request) -> Response {
    let tenant = &app.tenant;
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let mfa_token = field("mfa_token");
    let code = field("code");
    let authorization = match open_form_transaction(tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return failure(&app, "Error", &e),
    };
    let form = |status, error: Option<&str>| {
        show(
            &app,
            status,
            "mfa-recovery-challenge.html",
            minijinja::context! { title => "Verify your identity", state => &sealed, mfa_token => &mfa_token, error },
        )
    };
    if code.is_empty() {
        return form(StatusCode::OK, None);
    }
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return failure(&app, "Error", &Error::UnknownClient);
    };
    let who = requester(&parts, &tenant.config.trusted_proxies);
    match mfa::redeem_recovery_code(tenant, client, &mfa_token, code.trim(), &who, true).await {
        Ok((user, login, next_code)) => {
            let mut authorization = authorization;
            authorization.grant.claims = login.claims;
            signed_in_showing_recovery_code(
                &app,
                &user,
                &authorization,
                &next_code,
                "Your new recovery code",
            )
            .await
        }
        Err(e @ (Error::InvalidRecoveryCode | Error::MfaTooManyAttempts)) => {
            let (status, text) = page_message(&e);
            form(status, Some(&text))
        }
        Err(e) => failure(&app, "Error", &e),
    }
}

/// Starts the browser session; the answer for the application and the cookies to set.
async fn start_session(
    app: &AppState,
    user: &UserRecord,
    authorization: &Authorization,
    second_factor: bool,
) -> Result<(ClientAnswer, [HeaderValue; 2]), Response> {
    let tenant = &app.tenant;
    let cookie = match web::start_session(tenant, user, second_factor).await {
        Ok(cookie) => cookie,
        Err(e) => return Err(failure(app, "Error", &e)),
    };
    let now = tenant.clock.now_millis();
    let answer = code_answer(tenant, user, authorization, now).await;
    let cookies = [
        cookie_header(
            tenant,
            SESSION_COOKIE,
            &cookie,
            "/",
            portcullis_core::web::SESSION_LIFETIME_SECS,
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

fn with_cookies(mut response: Response, cookies: [HeaderValue; 2]) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Starts the browser session and answers the application with a code.
async fn signed_in(
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
async fn signed_in_showing_recovery_code(
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
        Err(e) => return failure(app, "Error", &Error::Key(e)),
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
pub async fn continue_to_client(
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
        None => failure(&app, "Error", &Error::InvalidLoginState),
    }
}

fn signup_form(
    app: &AppState,
    status: StatusCode,
    sealed: &str,
    authorization: &Authorization,
    entered: (&str, &str),
    error: Option<&str>,
) -> Result<Response, Error> {
    let tenant = &app.tenant;
    let connection = hosted_connection(tenant, authorization)?;
    let (email, username) = entered;
    let password_rules = connection
        .password_rules
        .policy
        .as_ref()
        .map(|p| format!("Your password must contain:\n{}", p.describe()));
    Ok(show(
        app,
        status,
        "signup.html",
        minijinja::context! {
            title => "Sign up",
            application => application_name(tenant, authorization),
            state => sealed,
            email,
            username,
            asks_username => connection.requires_username,
            password_rules,
            error,
        },
    ))
}

/// The database connection the hosted sign-up and password-reset pages work on.
fn hosted_connection<'t>(
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

/// `GET /u/signup?state=…` (or `/authorize?screen_hint=signup`).
pub async fn show_signup(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    transaction_page(&app, &query, |sealed, authorization| {
        let email = authorization.login_hint.as_deref().unwrap_or("");
        signup_form(
            &app,
            StatusCode::OK,
            sealed,
            authorization,
            (email, ""),
            None,
        )
    })
}

/// `POST /u/signup`: creates the user under every rule of the connection, then signs in.
pub async fn submit_signup(State(app): State<AppState>, request: Request) -> Response {
    let tenant = &app.tenant;
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let email = field("email");
    let username = field("username");
    let password = field("password");
    let authorization = match open_form_transaction(tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return failure(&app, "Error", &e),
    };
    let connection = match hosted_connection(tenant, &authorization) {
        Ok(c) => c,
        Err(e) => return failure(&app, "Error", &e),
    };
    let asks_username = connection.requires_username;
    let request = SignUp {
        client_id: authorization.client_id.clone(),
        connection: connection.name.clone(),
        user: NewUser {
            email: email.clone(),
            password,
            username: (asks_username && !username.is_empty()).then(|| username.clone()),
            ..NewUser::default()
        },
    };
    let who = requester(&parts, &tenant.config.trusted_proxies);
    let created = sign_up(tenant, request, &who).await;
    match created {
        // The login that follows a sign-up takes the same path as every other login.
        Ok(mut user) => {
            let Some(client) = tenant.config.client(&authorization.client_id) else {
                return failure(&app, "Error", &Error::UnknownClient);
            };
            let mut authorization = authorization;
            match web::after_login(tenant, client, &mut user, &mut authorization, &who, false).await
            {
                Ok(AfterLogin::Answer) => signed_in(&app, &user, &authorization, false).await,
                Ok(AfterLogin::SecondFactor {
                    mfa_token,
                    enrolled: true,
                }) => otp_form(&app, StatusCode::OK, &sealed, &mfa_token, None).await,
                Ok(AfterLogin::SecondFactor {
                    mfa_token,
                    enrolled: false,
                }) => start_enrollment(&app, &sealed, &mfa_token).await,
                Err(e) => authorization_error(&app, &authorization, &e),
            }
        }
        Err(e) => {
            let (status, text) = page_message(&e);
            signup_form(
                &app,
                status,
                &sealed,
                &authorization,
                (&email, &username),
                Some(&text),
            )
            .unwrap_or_else(|e| failure(&app, "Error", &e))
        }
    }
}

fn reset_request_form(
    app: &AppState,
    status: StatusCode,
    sealed: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    show(
        app,
        status,
        "reset-request.html",
        minijinja::context! { title => "Forgot your password?", state => sealed, email, error },
    )
}

/// `GET /u/reset-password?state=…`: asks for the e-mail address to send a reset link to.
pub async fn show_reset_request(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    transaction_page(&app, &query, |sealed, authorization| {
        let hint = authorization.login_hint.as_deref().unwrap_or("");
        Ok(reset_request_form(&app, StatusCode::OK, sealed, hint, None))
    })
}

/// `POST /u/reset-password`: sends the reset mail; the answer is the same whether or not the
/// address has an account, so the page tells nobody who exists.
pub async fn submit_reset_request(State(app): State<AppState>, request: Request) -> Response {
    let tenant = &app.tenant;
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let email = field("email");
    let authorization = match open_form_transaction(tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return failure(&app, "Error", &e),
    };
    let connection = match hosted_connection(tenant, &authorization) {
        Ok(c) => c,
        Err(e) => return failure(&app, "Error", &e),
    };
    let who = requester(&parts, &tenant.config.trusted_proxies);
    match request_reset(
        tenant,
        &authorization.client_id,
        &connection.name,
        &email,
        &who,
    )
    .await
    {
        Ok(()) => {
            let text = format!(
                "Please check the email address {} for instructions to reset your password.",
                email.trim()
            );
            message(&app, StatusCode::OK, "Check your email", &text, false)
        }
        Err(e) => {
            let (status, text) = page_message(&e);
            reset_request_form(&app, status, &sealed, &email, Some(&text))
        }
    }
}

/// Clears the session cookie and goes to `target`, or says so on a page.
fn logged_out(app: &AppState, target: Option<String>) -> Response {
    let mut response = match target {
        Some(url) => redirect(&url),
        None => message(
            app,
            StatusCode::OK,
            "Logged out",
            "You have been logged out.",
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
pub async fn logout(
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
        Err(e) => failure(&app, "Error", &e),
    }
}

/// The client an `id_token_hint` was issued to. Its signature need not be checked: it only
/// picks whose `allowed_logout_urls` the redirect must come from.
fn audience_of(id_token: &str) -> Option<String> {
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
pub async fn oidc_logout(
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
        Err(e) => failure(&app, "Error", &e),
    }
}
