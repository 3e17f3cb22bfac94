//! Hosted pages a user reaches from mail.

mod enrollment;
mod login;
mod reset;
mod unblock;
mod verify;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/authorize", get(login::authorize))
        .route("/u/login", get(login::show).post(login::submit))
        .route(
            "/u/mfa-otp-challenge",
            axum::routing::post(login::submit_otp),
        )
        .route(
            "/u/signup",
            get(login::show_signup).post(login::submit_signup),
        )
        .route(
            "/u/reset-password",
            get(login::show_reset_request).post(login::submit_reset_request),
        )
        .route("/v2/logout", get(login::logout))
        .route("/oidc/logout", get(login::oidc_logout))
        .route("/unblock", get(unblock::confirm).post(unblock::unblock))
        .route("/lo/reset", get(reset::show).post(reset::submit))
        .route(
            "/guardian-enrollment-ticket",
            get(enrollment::show).post(enrollment::confirm),
        )
        .route(
            "/u/email-verification",
            get(verify::confirm).post(verify::verify),
        )
}

/// A minimal, self-contained page (no external assets; the text is escaped by the caller).
pub(crate) fn page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}\
         button{{font-size:1rem;padding:.6rem 1.2rem}}</style></head><body>{body_html}</body></html>"
    )
}

/// Pages behind single-use links are never cached nor leak their URL in a `Referer`.
pub(crate) fn no_store(mut response: axum::response::Response) -> axum::response::Response {
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

/// A form's error message, announced to screen readers; empty without one.
pub(crate) fn alert(message: Option<&str>) -> String {
    message
        .map(|m| {
            format!(
                "<p role=\"alert\" style=\"color:#b00020;white-space:pre-line\">{}</p>",
                escape(m)
            )
        })
        .unwrap_or_default()
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
