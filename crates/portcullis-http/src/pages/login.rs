//! Web login: `/authorize`, the hosted login page (`/u/login`) and `/v2/logout`.
//!
//! The login page's transaction travels in its own `state` parameter, sealed with the
//! tenant's key, so any node can serve the form's answer without shared memory.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use portcullis_core::config::grant;
use portcullis_core::flows::login::{PasswordLogin, hosted_page_connection, password_login};
use portcullis_core::flows::mfa;
use portcullis_core::flows::reset::request_reset;
use portcullis_core::flows::signup::{NewUser, SignUp, sign_up};
use portcullis_core::flows::web::{self, Authorization, AuthorizeParams};
use portcullis_core::mfa::PendingLogin;
use portcullis_core::user::UserRecord;
use portcullis_core::{Error, Tenant};
use serde_json::{Map, Value};

use super::{alert, escape, no_store, page};
use crate::AppState;
use crate::extract::{Accepts, read_object, requester, take_string};
use crate::wire::page::page_message;
use crate::wire::redirect_error;

const SESSION_COOKIE: &str = "portcullis_session";
/// Binds a login page's form to the browser that opened it; sent to the hosted pages only.
const TRANSACTION_COOKIE: &str = "portcullis_transaction";
const TRANSACTION_PATH: &str = "/u/";

fn error_page(error: &Error) -> Response {
    let (status, text) = page_message(error);
    no_store(
        (
            status,
            Html(page(
                "Error",
                &format!("<h1>Something went wrong</h1><p>{}</p>", escape(&text)),
            )),
        )
            .into_response(),
    )
}

/// Sends `fields` back to the application the way it asked for (`response_mode`).
fn respond_to_client(
    redirect_uri: &str,
    response_mode: &str,
    mut fields: Vec<(&str, String)>,
    state: Option<&str>,
) -> Response {
    if let Some(state) = state {
        fields.push(("state", state.to_owned()));
    }
    if response_mode == "web_message" {
        return web_message(redirect_uri, &fields);
    }
    if response_mode == "form_post" {
        let inputs: String = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    escape(k),
                    escape(v)
                )
            })
            .collect();
        let body = format!(
            "<form method=\"post\" action=\"{}\">{inputs}<noscript><button type=\"submit\">Continue</button></noscript></form>\
             <script>document.forms[0].submit()</script>",
            escape(redirect_uri)
        );
        return no_store(Html(page("Continue", &body)).into_response());
    }
    let encoded = serde_urlencoded::to_string(&fields).unwrap_or_default();
    let separator = if response_mode == "fragment" {
        "#"
    } else if redirect_uri.contains('?') {
        "&"
    } else {
        "?"
    };
    no_store(Redirect::to(&format!("{redirect_uri}{separator}{encoded}")).into_response())
}

/// `response_mode=web_message`: the page posts the answer to its parent window (the hidden
/// iframe of silent authentication), only to the callback's origin, as auth0-spa-js expects.
fn web_message(redirect_uri: &str, fields: &[(&str, String)]) -> Response {
    let response: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
        .collect();
    let message = serde_json::json!({"type": "authorization_response", "response": response});
    // JSON inside a script: `<` escaped so no value can close the script element.
    let script_safe = |v: &serde_json::Value| v.to_string().replace('<', "\\u003c");
    let body = format!(
        "<script>(function(){{var target={};var message={};\
         var w=window.opener||window.parent;if(w&&w!==window){{w.postMessage(message,target);}}}})();</script>",
        script_safe(&serde_json::Value::from(web::origin_of(redirect_uri))),
        script_safe(&message)
    );
    let mut response = Html(page("Continue", &body)).into_response();
    response = no_store(response);
    // The page must load inside the application's iframe.
    response.headers_mut().remove(header::X_FRAME_OPTIONS);
    response
}

fn error_to_client(
    redirect_uri: &str,
    response_mode: &str,
    error: &Error,
    state: Option<&str>,
) -> Response {
    let (code, description) = redirect_error(error);
    respond_to_client(
        redirect_uri,
        response_mode,
        vec![("error", code), ("error_description", description)],
        state,
    )
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

fn cookie_header(
    tenant: &Tenant,
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: i64,
) -> HeaderValue {
    let secure = if tenant.config.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn code_response(
    tenant: &Tenant,
    user: &UserRecord,
    authorization: &Authorization,
    authenticated_at_millis: i64,
) -> Response {
    match web::issue_code(tenant, user, authorization, authenticated_at_millis).await {
        Ok(code) => respond_to_client(
            &authorization.grant.redirect_uri,
            &authorization.response_mode,
            vec![("code", code)],
            authorization.state.as_deref(),
        ),
        Err(e) => error_to_client(
            &authorization.grant.redirect_uri,
            &authorization.response_mode,
            &e,
            authorization.state.as_deref(),
        ),
    }
}

/// `GET /authorize` (response_type=code, with PKCE for public clients).
pub async fn authorize(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let tenant = &app.tenant;
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
        Err(e) => return error_page(&e),
    };
    let state = params.state.clone();
    let mode = params
        .response_mode
        .clone()
        .unwrap_or_else(|| "query".to_owned());
    let authorization = match web::check(tenant, client, redirect_uri.clone(), params) {
        Ok(a) => a,
        Err(e) => return error_to_client(&redirect_uri, &mode, &e, state.as_deref()),
    };
    let prompt = authorization.prompt.as_deref();
    if prompt != Some("login") {
        let user = match session_cookie(&headers) {
            Some(cookie) => web::session_user(tenant, &cookie, authorization.max_age).await,
            None => Ok(None),
        };
        match user {
            Ok(Some((user, authenticated_at))) => {
                return code_response(tenant, &user, &authorization, authenticated_at).await;
            }
            Ok(None) => {}
            Err(e) => return error_page(&e),
        }
    }
    if prompt == Some("none") {
        return error_to_client(
            &redirect_uri,
            &authorization.response_mode,
            &Error::LoginRequired,
            authorization.state.as_deref(),
        );
    }
    let screen = if get("screen_hint").as_deref() == Some("signup") {
        "/u/signup"
    } else {
        "/u/login"
    };
    let mut authorization = authorization;
    let transaction = web::bind_to_browser(&mut authorization);
    match tenant.keys.seal(&authorization) {
        Ok(sealed) => {
            let query = serde_urlencoded::to_string([("state", sealed)]).unwrap_or_default();
            let mut response = no_store(Redirect::to(&format!("{screen}?{query}")).into_response());
            response.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(
                    tenant,
                    TRANSACTION_COOKIE,
                    &transaction,
                    TRANSACTION_PATH,
                    600,
                ),
            );
            response
        }
        Err(e) => error_page(&Error::Key(e)),
    }
}

fn open_transaction(tenant: &Tenant, sealed: &str) -> Result<Authorization, Error> {
    let authorization: Authorization = tenant.keys.open(sealed).ok_or(Error::InvalidLoginState)?;
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
        cookie(headers, TRANSACTION_COOKIE).as_deref(),
    ) {
        return Err(Error::InvalidLoginState);
    }
    Ok(authorization)
}

fn login_form(sealed: &str, username: &str, message: Option<&str>) -> String {
    let message = alert(message);
    page(
        "Log in",
        &format!(
            "<h1>Log in</h1>{message}<form method=\"post\" action=\"/u/login\">\
             <input type=\"hidden\" name=\"state\" value=\"{}\">\
             <p><label>Email or username<br><input name=\"username\" value=\"{}\" autocomplete=\"username\" required></label></p>\
             <p><label>Password<br><input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label></p>\
             <button type=\"submit\">Continue</button></form>\
             <p><a href=\"/u/reset-password?state={}\">Forgot password?</a></p>\
             <p>Don't have an account? <a href=\"/u/signup?state={}\">Sign up</a></p>",
            escape(sealed),
            escape(username),
            escape(sealed),
            escape(sealed),
        ),
    )
}

/// A hosted page's form for the transaction in `?state=`, or the error page.
fn transaction_page(
    tenant: &Tenant,
    query: &HashMap<String, String>,
    render: impl FnOnce(&str, &Authorization) -> Result<String, Error>,
) -> Response {
    let sealed = query.get("state").map(String::as_str).unwrap_or("");
    match open_transaction(tenant, sealed).and_then(|a| render(sealed, &a)) {
        Ok(html) => no_store(Html(html).into_response()),
        Err(e) => error_page(&e),
    }
}

/// `GET /u/login?state=…`: the hosted login form.
pub async fn show(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    transaction_page(&app.tenant, &query, |sealed, authorization| {
        let hint = authorization.login_hint.as_deref().unwrap_or("");
        Ok(login_form(sealed, hint, None))
    })
}

/// `POST /u/login`: checks the password, starts the session and answers the application.
pub async fn submit(State(app): State<AppState>, request: Request) -> Response {
    let tenant = &app.tenant;
    let (parts, mut fields) = posted_form(request).await;
    let mut field = |name| form_field(&mut fields, name);
    let sealed = field("state");
    let username = field("username");
    let password = field("password");
    let authorization = match open_form_transaction(tenant, &sealed, &parts.headers) {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return error_page(&Error::UnknownClient);
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
        },
        on_login_page: true,
    };
    let grant_type = if login.realm.is_some() {
        grant::PASSWORD_REALM
    } else {
        grant::PASSWORD
    };
    let user = match password_login(tenant, client, grant_type, &login).await {
        Ok(user) => user,
        // A user an administrator blocked is refused to the application, as Auth0 does.
        Err(e @ Error::UserBlocked) => {
            return error_to_client(
                &authorization.grant.redirect_uri,
                &authorization.response_mode,
                &e,
                authorization.state.as_deref(),
            );
        }
        Err(Error::MfaRequired {
            mfa_token,
            enrolled: true,
        }) => {
            return no_store(Html(otp_form(&sealed, &mfa_token, None)).into_response());
        }
        Err(e) => {
            let (status, message) = page_message(&e);
            return no_store(
                (status, Html(login_form(&sealed, &username, Some(&message)))).into_response(),
            );
        }
    };
    signed_in(tenant, &user, &authorization).await
}

fn otp_form(sealed: &str, mfa_token: &str, message: Option<&str>) -> String {
    let message = alert(message);
    page(
        "Verify your identity",
        &format!(
            "<h1>Verify your identity</h1><p>Enter the 6-digit code from your authenticator app.</p>{message}\
             <form method=\"post\" action=\"/u/mfa-otp-challenge\">\
             <input type=\"hidden\" name=\"state\" value=\"{}\">\
             <input type=\"hidden\" name=\"mfa_token\" value=\"{}\">\
             <p><label>Code<br><input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]*\" required autofocus></label></p>\
             <button type=\"submit\">Continue</button></form>",
            escape(sealed),
            escape(mfa_token)
        ),
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
        Err(e) => return error_page(&e),
    };
    let Some(client) = tenant.config.client(&authorization.client_id) else {
        return error_page(&Error::UnknownClient);
    };
    let who = requester(&parts, &tenant.config.trusted_proxies);
    match mfa::redeem_otp(tenant, client, &mfa_token, code.trim(), &who, true).await {
        Ok((user, _)) => signed_in(tenant, &user, &authorization).await,
        Err(e @ (Error::InvalidOtp | Error::MfaTooManyAttempts)) => {
            let (status, message) = page_message(&e);
            no_store((status, Html(otp_form(&sealed, &mfa_token, Some(&message)))).into_response())
        }
        Err(e) => error_page(&e),
    }
}

/// Starts the browser session and answers the application with a code.
async fn signed_in(tenant: &Tenant, user: &UserRecord, authorization: &Authorization) -> Response {
    let cookie = match web::start_session(tenant, user).await {
        Ok(cookie) => cookie,
        Err(e) => return error_page(&e),
    };
    let now = tenant.clock.now_millis();
    let mut response = code_response(tenant, user, authorization, now).await;
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(
            tenant,
            SESSION_COOKIE,
            &cookie,
            "/",
            portcullis_core::web::SESSION_LIFETIME_SECS,
        ),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(tenant, TRANSACTION_COOKIE, "", TRANSACTION_PATH, 0),
    );
    response
}

fn signup_form(sealed: &str, email: &str, username: Option<&str>, message: Option<&str>) -> String {
    let message = alert(message);
    let username = username
        .map(|u| {
            format!(
                "<p><label>Username<br><input name=\"username\" value=\"{}\" autocomplete=\"username\" required></label></p>",
                escape(u)
            )
        })
        .unwrap_or_default();
    page(
        "Sign up",
        &format!(
            "<h1>Sign up</h1>{message}<form method=\"post\" action=\"/u/signup\">\
             <input type=\"hidden\" name=\"state\" value=\"{}\">\
             <p><label>Email address<br><input type=\"email\" name=\"email\" value=\"{}\" autocomplete=\"email\" required></label></p>\
             {username}<p><label>Password<br><input type=\"password\" name=\"password\" autocomplete=\"new-password\" required></label></p>\
             <button type=\"submit\">Continue</button></form>\
             <p>Already have an account? <a href=\"/u/login?state={}\">Log in</a></p>",
            escape(sealed),
            escape(email),
            escape(sealed),
        ),
    )
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
    let tenant = &app.tenant;
    transaction_page(tenant, &query, |sealed, authorization| {
        let connection = hosted_connection(tenant, authorization)?;
        let email = authorization.login_hint.as_deref().unwrap_or("");
        let username = connection.requires_username.then_some("");
        Ok(signup_form(sealed, email, username, None))
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
        Err(e) => return error_page(&e),
    };
    let connection = match hosted_connection(tenant, &authorization) {
        Ok(c) => c,
        Err(e) => return error_page(&e),
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
    match sign_up(tenant, request, &who).await {
        Ok(user) => signed_in(tenant, &user, &authorization).await,
        Err(e) => {
            let (status, message) = page_message(&e);
            let form = signup_form(
                &sealed,
                &email,
                asks_username.then_some(username.as_str()),
                Some(&message),
            );
            no_store((status, Html(form)).into_response())
        }
    }
}

/// Clears the session cookie and goes to `target`, or says so on a page.
fn logged_out(tenant: &Tenant, target: Option<String>) -> Response {
    let mut response = match target {
        Some(url) => no_store(Redirect::to(&url).into_response()),
        None => no_store(
            Html(page(
                "Logged out",
                "<h1>Logged out</h1><p>You have been logged out.</p>",
            ))
            .into_response(),
        ),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(tenant, SESSION_COOKIE, "", "/", 0),
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
    let cookie = session_cookie(&parts.headers);
    let who = requester(&parts, &tenant.config.trusted_proxies);
    let return_to = query.get("returnTo").or_else(|| query.get("returnto"));
    match web::logout(
        tenant,
        cookie.as_deref(),
        query.get("client_id").map(String::as_str),
        return_to.map(String::as_str),
        &who,
    )
    .await
    {
        Ok(target) => logged_out(tenant, target),
        Err(e) => error_page(&e),
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
    let cookie = session_cookie(&parts.headers);
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
        &who,
    )
    .await
    {
        Ok(target) => logged_out(
            tenant,
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
        Err(e) => error_page(&e),
    }
}

fn reset_request_form(sealed: &str, email: &str, message: Option<&str>) -> String {
    let message = alert(message);
    page(
        "Forgot your password?",
        &format!(
            "<h1>Forgot your password?</h1><p>Enter your email address and we will send you instructions to reset your password.</p>{message}\
             <form method=\"post\" action=\"/u/reset-password\">\
             <input type=\"hidden\" name=\"state\" value=\"{}\">\
             <p><label>Email address<br><input type=\"email\" name=\"email\" value=\"{}\" autocomplete=\"email\" required></label></p>\
             <button type=\"submit\">Continue</button></form>\
             <p><a href=\"/u/login?state={}\">Back to log in</a></p>",
            escape(sealed),
            escape(email),
            escape(sealed),
        ),
    )
}

/// `GET /u/reset-password?state=…`: asks for the e-mail address to send a reset link to.
pub async fn show_reset_request(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    transaction_page(&app.tenant, &query, |sealed, authorization| {
        let hint = authorization.login_hint.as_deref().unwrap_or("");
        Ok(reset_request_form(sealed, hint, None))
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
        Err(e) => return error_page(&e),
    };
    let connection = match hosted_connection(tenant, &authorization) {
        Ok(c) => c,
        Err(e) => return error_page(&e),
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
        Ok(()) => no_store(
            Html(page(
                "Check your email",
                &format!(
                    "<h1>Check your email</h1><p>Please check the email address {} for instructions to reset your password.</p>",
                    escape(email.trim())
                ),
            ))
            .into_response(),
        ),
        Err(e) => {
            let (status, message) = page_message(&e);
            no_store((status, Html(reset_request_form(&sealed, &email, Some(&message)))).into_response())
        }
    }
}
