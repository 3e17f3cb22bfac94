//! The hosted login page (`/u/login`): the password, then the second factor or the answer.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::Error;
use portcullis_core::config::grant;
use portcullis_core::flows::login::{PasswordLogin, password_login};
use portcullis_core::flows::web::Authorization;
use portcullis_core::mfa::PendingLogin;

use super::answer::{authorization_error, signed_in};
use super::mfa::{otp_form, start_enrollment};
use super::show;
use super::transaction::{HostedForm, application_name, hosted_connection, transaction_page};
use crate::AppState;
use crate::wire::page::page_message;
use crate::wire::page_text;

pub(super) fn login_form(
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
            title => page_text::LOGIN_TITLE,
            application => application_name(tenant, authorization),
            state => sealed,
            username,
            error,
            signup_allowed,
        },
    )
}

/// `GET /u/login?state=…`: the hosted login page.
pub(super) async fn show_login(
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
pub(super) async fn submit(State(app): State<AppState>, mut form: HostedForm) -> Response {
    let tenant = &app.tenant;
    let username = form.field("username");
    let password = form.field("password");
    let HostedForm {
        sealed,
        authorization,
        client,
        requester,
        ..
    } = form;
    let login = PasswordLogin {
        realm: authorization.connection.clone(),
        username: username.clone(),
        password,
        requester,
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
    match password_login(tenant, &client, grant_type, &login).await {
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
