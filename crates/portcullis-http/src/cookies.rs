//! Cookies of the browser flows: reading them, and setting them with the attributes Auth0
//! uses (HttpOnly; Secure and `SameSite=None` where the issuer is HTTPS), over HTTPS under the
//! `__Host-` prefix.

use axum::http::{HeaderMap, HeaderValue, header};
use portcullis_core::Tenant;

/// The browser session of the hosted login (`prompt=none` and SSO read it).
pub(crate) const SESSION_COOKIE: &str = "portcullis_session";

/// The prefix of every cookie over HTTPS: browsers accept a `__Host-` cookie only with
/// `Secure`, `Path=/` and no `Domain`, set by this host itself — so a sibling subdomain can
/// neither plant nor overwrite one (a planted transaction or session cookie is a login CSRF).
const HOST_PREFIX: &str = "__Host-";

fn secure(tenant: &Tenant) -> bool {
    tenant.config.issuer.starts_with("https://")
}

/// The cookie `name` of this request, under the name it is set with.
pub(crate) fn cookie(tenant: &Tenant, headers: &HeaderMap, name: &str) -> Option<String> {
    let prefix = if secure(tenant) { HOST_PREFIX } else { "" };
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| n.strip_prefix(prefix) == Some(name))
        .map(|(_, value)| value.to_owned())
}

pub(crate) fn session_cookie(tenant: &Tenant, headers: &HeaderMap) -> Option<String> {
    cookie(tenant, headers, SESSION_COOKIE)
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
    let secure = secure(tenant);
    let attributes = match (secure, same_site) {
        (true, SameSite::NoneWhenSecure) => "SameSite=None; Secure",
        (true, SameSite::Lax) => "SameSite=Lax; Secure",
        (false, _) => "SameSite=Lax",
    };
    let (prefix, path) = if secure {
        (HOST_PREFIX, "/")
    } else {
        ("", path)
    };
    HeaderValue::from_str(&format!(
        "{prefix}{name}={value}; Path={path}; HttpOnly; Max-Age={max_age_secs}; {attributes}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}
