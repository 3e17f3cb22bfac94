//! The hosted sign-up page (`/u/signup`): a new user under every rule of the connection, then
//! the same post-login path as every login.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::Error;
use portcullis_core::flows::signup::{NewUser, SignUp, sign_up};
use portcullis_core::flows::web::{self, AfterLogin, Authorization};

use super::answer::{authorization_error, signed_in};
use super::mfa::{otp_form, start_enrollment};
use super::transaction::{HostedForm, application_name, hosted_connection, transaction_page};
use super::{failure, show};
use crate::AppState;
use crate::wire::page::page_message;
use crate::wire::page_text;

pub(super) fn signup_form(
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
        .map(|p| page_text::password_rules(&p.describe()));
    Ok(show(
        app,
        status,
        "signup.html",
        minijinja::context! {
            title => page_text::SIGNUP_TITLE,
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

/// `GET /u/signup?state=…` (or `/authorize?screen_hint=signup`).
pub(super) async fn show_signup(
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
pub(super) async fn submit_signup(State(app): State<AppState>, mut form: HostedForm) -> Response {
    let tenant = &app.tenant;
    let email = form.field("email");
    let username = form.field("username");
    let password = form.field("password");
    let HostedForm {
        sealed,
        authorization,
        client,
        requester: who,
        ..
    } = form;
    let connection = match hosted_connection(tenant, &authorization) {
        Ok(c) => c,
        Err(e) => return failure(&app, page_text::ERROR_TITLE, &e),
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
    let created = sign_up(tenant, request, &who).await;
    match created {
        // The login that follows a sign-up takes the same path as every other login.
        Ok(mut user) => {
            let mut authorization = authorization;
            match web::after_login(tenant, &client, &mut user, &mut authorization, &who, false)
                .await
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
            .unwrap_or_else(|e| failure(&app, page_text::ERROR_TITLE, &e))
        }
    }
}
