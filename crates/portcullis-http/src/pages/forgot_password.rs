//! The hosted "forgot your password?" page (`/u/reset-password`): a reset link by mail, with
//! the same answer whether or not the address has an account.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::flows::reset::request_reset;

use super::transaction::{HostedForm, hosted_connection, transaction_page};
use super::{failure, message, show};
use crate::AppState;
use crate::wire::page::page_message;
use crate::wire::page_text;

pub(super) fn reset_request_form(
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
        minijinja::context! { title => page_text::FORGOT_PASSWORD_TITLE, state => sealed, email, error },
    )
}

/// `GET /u/reset-password?state=…`: asks for the e-mail address to send a reset link to.
pub(super) async fn show_reset_request(
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
pub(super) async fn submit_reset_request(
    State(app): State<AppState>,
    mut form: HostedForm,
) -> Response {
    let tenant = &app.tenant;
    let email = form.field("email");
    let sealed = &form.sealed;
    let connection = match hosted_connection(tenant, &form.authorization) {
        Ok(c) => c,
        Err(e) => return failure(&app, page_text::ERROR_TITLE, &e),
    };
    match request_reset(
        tenant,
        &form.client.client_id,
        &connection.name,
        &email,
        &form.requester,
    )
    .await
    {
        Ok(()) => {
            let text = page_text::check_email(email.trim());
            message(
                &app,
                StatusCode::OK,
                page_text::CHECK_EMAIL_TITLE,
                &text,
                false,
            )
        }
        Err(e) => {
            let (status, text) = page_message(&e);
            reset_request_form(&app, status, sealed, &email, Some(&text))
        }
    }
}
