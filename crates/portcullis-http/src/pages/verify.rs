//! The e-mail verification link (`/u/email-verification?ticket=…`). Opening it shows a button;
//! the POST uses the ticket, so link scanners cannot.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::flows::verify::verify_email;

use super::{failure, message, redirect, show};
use crate::AppState;
use crate::extract::{Accepts, read_object, requester, take_string};
use crate::wire::page_text;

pub async fn confirm(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ticket = query.get("ticket").map(String::as_str).unwrap_or("");
    show(
        &app,
        StatusCode::OK,
        "confirm.html",
        minijinja::context! {
            title => page_text::VERIFY_TITLE,
            action => "email-verification",
            ticket,
            button => "Verify my email",
        },
    )
}

pub async fn verify(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut fields = read_object(&parts.headers, body, Accepts::JsonOrForm, true)
        .await
        .unwrap_or_default();
    let ticket = take_string(&mut fields, "ticket")
        .ok()
        .flatten()
        .unwrap_or_default();
    let who = requester(&parts, &app.tenant.config.trusted_proxies);
    match verify_email(&app.tenant, &ticket, &who).await {
        Ok(Some(result_url)) => redirect(&result_url),
        Ok(None) => message(
            &app,
            StatusCode::OK,
            page_text::VERIFIED_TITLE,
            page_text::VERIFIED_TEXT,
            false,
        ),
        Err(e) => failure(&app, "Link expired", &e),
    }
}
