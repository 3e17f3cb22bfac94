//! The hosted MFA enrollment page behind a Guardian enrollment ticket: a QR code (and the
//! secret) for an authenticator app, then a code from the app to confirm.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::flows::mfa::{finish_ticket_enrollment, start_ticket_enrollment};

use super::{Hidden, data, failure, show};
use crate::AppState;
use crate::extract::{Accepts, read_object, take_string};
use crate::wire::page_text;

/// The otpauth URI as an SVG QR code, for the enrollment pages.
pub(crate) fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
        Err(_) => String::new(),
    }
}

pub async fn show_ticket(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ticket = query.get("ticket").map(String::as_str).unwrap_or("");
    match start_ticket_enrollment(&app.tenant, ticket).await {
        Ok(view) => show(
            &app,
            StatusCode::OK,
            "mfa-enroll.html",
            minijinja::context! {
                title => page_text::ENROLL_TICKET_TITLE,
                email => view.email,
                qr_svg => qr_svg(&view.barcode_uri),
                secret => view.secret,
                action => "guardian-enrollment-ticket",
                hidden => data([Hidden { name: "ticket", value: ticket }]),
            },
        ),
        Err(e) => failure(&app, "Enrollment", &e),
    }
}

pub async fn confirm(State(app): State<AppState>, request: Request) -> Response {
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
    let code = field("code");
    match finish_ticket_enrollment(&app.tenant, &ticket, code.trim()).await {
        Ok(Some(recovery_code)) => show(
            &app,
            StatusCode::OK,
            "mfa-recovery-code.html",
            minijinja::context! { title => page_text::ENROLLED_TITLE, recovery_code },
        ),
        Ok(None) => super::message(
            &app,
            StatusCode::OK,
            page_text::ENROLLED_TITLE,
            page_text::ENROLLED_TEXT,
            false,
        ),
        Err(e) => failure(&app, "Enrollment", &e),
    }
}
