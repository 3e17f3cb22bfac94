//! Cookies of the browser flows: reading them, and setting them with the attributes Auth0
//! uses (HttpOnly; Secure and `SameSite=None` where the issuer is HTTPS).

use axum::http::{HeaderMap, HeaderValue, header};
use portcullis_core::Tenant;

/// The browser session of the hosted login (`prompt=none` and SSO read it).
pub(crate) const SESSION_COOKIE: &str = "portcullis_session";

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// Where a cookie may travel: the session cookie is `SameSite=None` over HTTPS, as Auth0
/// sets it, so that silent authentication works from an application's iframe on another
/// site; browsers refuse `None` without `Secure`, so plain HTTP falls back to `Lax`.
#[derive(Clone, Copy)]
pub(crate) enum SameSite {
    Lax,
    NoneWhenSecure,
}

pub(crate) fn cookie_header(
    tenant: &Tenant,
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: i64,
    same_site: SameSite,
) -> HeaderValue {
    let secure = tenant.config.issuer.starts_with("https://");
    let attributes = match (secure, same_site) {
        (true, SameSite::NoneWhenSecure) => "SameSite=None; Secure",
        (true, SameSite::Lax) => "SameSite=Lax; Secure",
        (false, _) => "SameSite=Lax",
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; Max-Age={max_age_secs}; {attributes}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}
