//! The hosted MFA enrollment page behind a Guardian enrollment ticket: a QR code (and the
//! secret) for an authenticator app, then a code from the app to confirm.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::response::{Html, IntoResponse, Response};
use portcullis_core::flows::mfa::{finish_ticket_enrollment, start_ticket_enrollment};

use super::{escape, no_store, page};
use crate::AppState;
use crate::extract::{Accepts, read_object, take_string};
use crate::wire::page::page_message;

fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
        Err(_) => String::new(),
    }
}

fn failure(error: &portcullis_core::Error) -> Response {
    let (status, text) = page_message(error);
    no_store(
        (
            status,
            Html(page(
                "Enrollment",
                &format!("<h1>Enrollment</h1><p>{}</p>", escape(&text)),
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
    match start_ticket_enrollment(&app.tenant, ticket).await {
        Ok(view) => no_store(
            Html(page(
                "Set up your authenticator",
                &format!(
                    "<h1>Set up your authenticator</h1><p>Scan this code with an authenticator app for {}.</p>{}\
                     <p>Or enter this key: <code>{}</code></p>\
                     <form method=\"post\" action=\"guardian-enrollment-ticket\"><input type=\"hidden\" name=\"ticket\" value=\"{}\">\
                     <p><label>Code from the app<br><input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required></label></p>\
                     <button type=\"submit\">Confirm</button></form>",
                    escape(&view.email),
                    qr_svg(&view.barcode_uri),
                    escape(&view.secret),
                    escape(ticket)
                ),
            ))
            .into_response(),
        ),
        Err(e) => failure(&e),
    }
}

pub async fn confirm(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut fields = read_object(&parts.headers, body, Accepts::JsonOrForm, true)
        .await
        .unwrap_or_default();
    let ticket = take_string(&mut fields, "ticket")
        .ok()
        .flatten()
        .unwrap_or_default();
    let code = take_string(&mut fields, "code")
        .ok()
        .flatten()
        .unwrap_or_default();
    match finish_ticket_enrollment(&app.tenant, &ticket, &code).await {
        Ok(recovery) => {
            let recovery = recovery
                .map(|c| format!("<p>Keep this recovery code somewhere safe; it lets you in without the app, once:</p><p><code>{}</code></p>", escape(&c)))
                .unwrap_or_default();
            no_store(
                Html(page(
                    "Enrolled",
                    &format!("<h1>You are enrolled</h1>{recovery}"),
                ))
                .into_response(),
            )
        }
        Err(e) => failure(&e),
    }
}
