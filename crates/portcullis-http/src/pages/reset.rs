//! The hosted password-reset page behind the mailed link (`/lo/reset?ticket=…`).

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use portcullis_core::flows::reset::{reset_password, reset_target};

use super::{alert, escape, no_store, page};
use crate::AppState;
use crate::extract::{Accepts, read_object, requester, take_string};
use crate::wire::page::page_message;

fn form(ticket: &str, email: &str, message: Option<&str>) -> String {
    let message = alert(message);
    page(
        "Change your password",
        &format!(
            "<h1>Change your password</h1><p>Enter a new password for {}.</p>{message}\
             <form method=\"post\" action=\"reset\"><input type=\"hidden\" name=\"ticket\" value=\"{}\">\
             <p><label>New password<br><input type=\"password\" name=\"newPassword\" autocomplete=\"new-password\" required></label></p>\
             <p><label>Confirm new password<br><input type=\"password\" name=\"confirmNewPassword\" autocomplete=\"new-password\" required></label></p>\
             <button type=\"submit\">Reset password</button></form>",
            escape(email),
            escape(ticket)
        ),
    )
}

fn expired() -> Response {
    let (status, text) = page_message(&portcullis_core::Error::InvalidTicket);
    no_store(
        (
            status,
            Html(page(
                "Link expired",
                &format!("<h1>Link expired</h1><p>{}</p>", escape(&text)),
            )),
        )
            .into_response(),
    )
}

pub async fn show(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ticket = query.get("ticket").map(String::as_str).unwrap_or("");
    match reset_target(&app.tenant, ticket).await {
        Ok(Some(user)) => no_store(Html(form(ticket, &user.email, None)).into_response()),
        Ok(None) => expired(),
        Err(e) => {
            let (status, text) = page_message(&e);
            no_store((status, Html(page("Error", &escape(&text)))).into_response())
        }
    }
}

pub async fn submit(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut fields = read_object(&parts.headers, body, Accepts::JsonOrForm, true)
        .await
        .unwrap_or_default();
    let ticket = take_string(&mut fields, "ticket")
        .ok()
        .flatten()
        .unwrap_or_default();
    let password = take_string(&mut fields, "newPassword")
        .ok()
        .flatten()
        .unwrap_or_default();
    let confirmation = take_string(&mut fields, "confirmNewPassword")
        .ok()
        .flatten()
        .unwrap_or_default();
    let user = match reset_target(&app.tenant, &ticket).await {
        Ok(Some(user)) => user,
        Ok(None) => return expired(),
        Err(e) => {
            let (status, text) = page_message(&e);
            return no_store((status, Html(page("Error", &escape(&text)))).into_response());
        }
    };
    if password != confirmation {
        let message = "Please ensure the password and the confirmation are the same.";
        return no_store(
            (
                StatusCode::BAD_REQUEST,
                Html(form(&ticket, &user.email, Some(message))),
            )
                .into_response(),
        );
    }
    let who = requester(&parts, &app.tenant.config.trusted_proxies);
    match reset_password(&app.tenant, &ticket, &password, &who).await {
        Ok(Some(result_url)) => no_store(Redirect::to(&result_url).into_response()),
        Ok(None) => no_store(
            Html(page("Password changed", "<h1>Password changed</h1><p>Your password has been changed. You can log in with it now.</p>"))
                .into_response(),
        ),
        Err(e) => {
            let (status, text) = page_message(&e);
            no_store((status, Html(form(&ticket, &user.email, Some(&text)))).into_response())
        }
    }
}
