//! The unblock link of the brute-force mail. Opening the link shows a button; only the POST
//! consumes the single-use ticket, so mail scanners that prefetch links cannot burn it.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::flows::unblock::redeem_unblock_ticket;

use super::{message, show};
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
            title => page_text::UNBLOCK_TITLE,
            text => page_text::UNBLOCK_TEXT,
            action => "unblock",
            ticket,
            button => page_text::UNBLOCK_BUTTON,
        },
    )
}

pub async fn unblock(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let ticket = match read_object(&parts.headers, body, Accepts::JsonOrForm, true).await {
        Ok(mut object) => take_string(&mut object, "ticket")
            .ok()
            .flatten()
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let (status, title, text) = match redeem_unblock_ticket(
        &app.tenant,
        &ticket,
        &requester(&parts, &app.tenant.config.trusted_proxies),
    )
    .await
    {
        Ok(true) => (
            StatusCode::OK,
            page_text::UNBLOCKED_TITLE,
            page_text::UNBLOCKED_TEXT,
        ),
        Ok(false) => (
            StatusCode::BAD_REQUEST,
            "Link expired",
            "This link is invalid, has expired, or was already used.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "unblock failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again later",
                "Something went wrong; please try again later.",
            )
        }
    };
    message(&app, status, title, text, !status.is_success())
}
