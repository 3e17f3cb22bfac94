//! Cookies of the browser flows, read and written with the `cookie` crate, with the attributes
//! Auth0 uses (HttpOnly; Secure and `SameSite=None` where the issuer is HTTPS), over HTTPS under the
//! `__Host-` prefix.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::Cookie;
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
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name().strip_prefix(prefix) == Some(name))
        .map(|c| c.value().to_owned())
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
    let (prefix, path) = if secure {
        (HOST_PREFIX, "/")
    } else {
        ("", path)
    };
    let same_site = match (secure, same_site) {
        (true, SameSite::NoneWhenSecure) => cookie::SameSite::None,
        _ => cookie::SameSite::Lax,
    };
    let cookie = Cookie::build((format!("{prefix}{name}"), value.to_owned()))
        .path(path.to_owned())
        .http_only(true)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .same_site(same_site)
        .secure(secure)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}
