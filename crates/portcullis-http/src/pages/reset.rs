//! The hosted password-reset page behind the mailed link (`/lo/reset?ticket=…`).

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::Error;
use portcullis_core::flows::reset::{reset_password, reset_target};

use super::{failure, message, redirect, show};
use crate::AppState;
use crate::extract::{Accepts, read_object, requester, take_string};
use crate::wire::page::page_message;
use crate::wire::page_text;

fn form(
    app: &AppState,
    status: StatusCode,
    ticket: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    show(
        app,
        status,
        "reset-password.html",
        minijinja::context! { title => page_text::RESET_TITLE, ticket, email, error },
    )
}

pub async fn show_form(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ticket = query.get("ticket").map(String::as_str).unwrap_or("");
    match reset_target(&app.tenant, ticket).await {
        Ok(Some(user)) => form(&app, StatusCode::OK, ticket, &user.email, None),
        Ok(None) => failure(&app, "Link expired", &Error::InvalidTicket),
        Err(e) => failure(&app, page_text::ERROR_TITLE, &e),
    }
}

pub async fn submit(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut fields = read_object(&parts.headers, body, Accepts::JsonOrForm, true)
        .await
        .unwrap_or_default();
    let mut field = |name| {
        take_string(&mut fields, name)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let ticket = field("ticket");
    let password = field("newPassword");
    let confirmation = field("confirmNewPassword");
    let user = match reset_target(&app.tenant, &ticket).await {
        Ok(Some(user)) => user,
        Ok(None) => return failure(&app, "Link expired", &Error::InvalidTicket),
        Err(e) => return failure(&app, page_text::ERROR_TITLE, &e),
    };
    if password != confirmation {
        let text = page_text::RESET_MISMATCH;
        return form(
            &app,
            StatusCode::BAD_REQUEST,
            &ticket,
            &user.email,
            Some(text),
        );
    }
    let who = requester(&parts, &app.tenant.config.trusted_proxies);
    match reset_password(&app.tenant, &ticket, &password, &who).await {
        Ok(Some(result_url)) => redirect(&result_url),
        Ok(None) => message(
            &app,
            StatusCode::OK,
            page_text::RESET_DONE_TITLE,
            page_text::RESET_DONE_TEXT,
            false,
        ),
        Err(e) => {
            let (status, text) = page_message(&e);
            form(&app, status, &ticket, &user.email, Some(&text))
        }
    }
}
