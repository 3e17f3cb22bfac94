//! Hosted pages: web login (one module per page, the transaction they share in
//! `transaction`, the answer to the application in `answer`), and the pages a user reaches
//! from mail.

mod answer;
mod authorize;
mod enrollment;
mod error;
mod forgot_password;
mod login;
mod logout;
mod mfa;
mod render;
mod reset;
mod signup;
mod transaction;
mod unblock;
mod verify;

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use portcullis_core::Error;
use serde::Serialize;

pub use render::Pages;
pub(crate) use render::data;

use crate::wire::page::page_message;
use crate::{AppState, Routes};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .route("/authorize", get(authorize::authorize))
        .route("/error", get(error::show_page))
        .route("/u/login", get(login::show_login).post(login::submit))
        .route("/u/mfa-otp-challenge", post(mfa::submit_otp))
        .route("/u/mfa-otp-enrollment", post(mfa::submit_enrollment))
        .route("/u/mfa-recovery-code", post(mfa::submit_recovery_code))
        .route("/u/continue", get(answer::continue_to_client))
        .route("/u/co-verify", post(authorize::submit_verifier))
        .route(
            "/u/signup",
            get(signup::show_signup).post(signup::submit_signup),
        )
        .route(
            "/u/reset-password",
            get(forgot_password::show_reset_request).post(forgot_password::submit_reset_request),
        )
        .route("/v2/logout", get(logout::logout))
        .route("/oidc/logout", get(logout::oidc_logout))
        .route("/unblock", get(unblock::confirm).post(unblock::unblock))
        .route("/lo/reset", get(reset::show_form).post(reset::submit))
        .route(
            "/guardian-enrollment-ticket",
            get(enrollment::show_ticket).post(enrollment::confirm),
        )
        .route(
            "/u/email-verification",
            get(verify::confirm).post(verify::verify),
        )
}

/// A hidden form field of a page.
#[derive(Debug, Serialize)]
pub(crate) struct Hidden<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// A page rendered from `template`; hosted pages are never cached, never framed, and never
/// leak their URL (which may hold a single-use ticket) in a `Referer`.
pub(crate) fn show(
    app: &AppState,
    status: StatusCode,
    template: &str,
    context: impl Serialize,
) -> Response {
    no_store(app.pages.render(status, template, context))
}

/// A page that only says something: `title` and `text` (as an alert when `alert`).
pub(crate) fn message(
    app: &AppState,
    status: StatusCode,
    title: &str,
    text: &str,
    alert: bool,
) -> Response {
    show(
        app,
        status,
        "message.html",
        minijinja::context! { title, text, alert },
    )
}

/// The page for a flow that failed, in words a person understands.
pub(crate) fn failure(app: &AppState, title: &str, error: &Error) -> Response {
    let (status, text) = page_message(error);
    message(app, status, title, &text, true)
}

/// A `302 Found` to `url`, as Auth0 redirects (never cached).
pub(crate) fn redirect(url: &str) -> Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    match HeaderValue::from_str(url) {
        Ok(location) => {
            no_store((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
        }
        Err(_) => no_store(StatusCode::BAD_REQUEST.into_response()),
    }
}

pub(crate) fn no_store(mut response: Response) -> Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
