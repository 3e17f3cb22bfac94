//! The e-mail verification link (`/u/email-verification?ticket=…`). Opening it shows a button;
//! the POST uses the ticket, so link scanners cannot.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use portcullis_core::flows::verify::verify_email;

use super::{escape, no_store, page};
use crate::AppState;
use crate::extract::{Accepts, read_object, requester, take_string};
use crate::wire::page::page_message;

pub async fn confirm(Query(query): Query<HashMap<String, String>>) -> Response {
    let ticket = query.get("ticket").map(String::as_str).unwrap_or("");
    no_store(
        Html(page(
            "Verify your email",
            &format!(
                "<h1>Verify your email</h1><form method=\"post\" action=\"email-verification\">\
                 <input type=\"hidden\" name=\"ticket\" value=\"{}\"><button type=\"submit\">Verify my email</button></form>",
                escape(ticket)
            ),
        ))
        .into_response(),
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
        Ok(Some(result_url)) => no_store(Redirect::to(&result_url).into_response()),
        Ok(None) => no_store(
            Html(page("Email verified", "<h1>Email verified</h1><p>Your email address was verified. You can close this page.</p>"))
                .into_response(),
        ),
        Err(e) => {
            let (status, text) = page_message(&e);
            no_store((status, Html(page("Link expired", &format!("<h1>Link expired</h1><p>{}</p>", escape(&text))))).into_response())
        }
    }
}
