//! Reading requests at the edge: bodies as JSON or form data (both accepted where Auth0
//! accepts both), bearer tokens, and the client's address. Every failure is a
//! [`RequestError`] that the surface's renderer turns into Auth0's format.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, header};
use base64::Engine;
use serde_json::{Map, Value};

use portcullis_core::attack::brute_force::IpRange;
use portcullis_core::logs::Requester;

use crate::wire::{FieldProblem, RequestError};

/// Largest request body accepted (Auth0's own limit for these endpoints is far below 1 MiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Which encodings an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    JsonOnly,
    JsonOrForm,
}

/// Reads the body into a JSON object. Form fields become strings. With `drop_nulls`, `null`
/// members are treated as absent, as auth0-python sends them for unset options.
pub async fn read_object(
    headers: &HeaderMap,
    body: Body,
    accepts: Accepts,
    drop_nulls: bool,
) -> Result<Map<String, Value>, RequestError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| RequestError::PayloadTooLarge)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    parse_object(content_type, &bytes, accepts, drop_nulls)
}

/// Parses a body of `content_type` into a JSON object, as [`read_object`] does once the body
/// is read: the parser every hostile byte reaches (fuzzed in `fuzz/`).
pub fn parse_object(
    content_type: &str,
    bytes: &[u8],
    accepts: Accepts,
    drop_nulls: bool,
) -> Result<Map<String, Value>, RequestError> {
    let content_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut object = match content_type.as_str() {
        "application/json" => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(RequestError::MalformedBody("expected a JSON object".into())),
            Err(e) => return Err(RequestError::MalformedBody(e.to_string())),
        },
        "application/x-www-form-urlencoded" if accepts == Accepts::JsonOrForm => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
                .map_err(|e| RequestError::MalformedBody(e.to_string()))?;
            let mut map = Map::new();
            for (k, v) in pairs {
                map.insert(k, Value::String(v));
            }
            map
        }
        // An empty body without a content type is an empty request, not a media-type error.
        "" if bytes.is_empty() => Map::new(),
        _ => return Err(RequestError::UnsupportedMediaType),
    };
    if drop_nulls {
        object.retain(|_, v| !v.is_null());
    }
    Ok(object)
}

/// Takes a string member out of `object`; a non-string value is an error naming the field.
pub fn take_string(
    object: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, RequestError> {
    match object.remove(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(RequestError::InvalidField {
            field: field.to_owned(),
            problem: FieldProblem::WrongType {
                expected: "string",
                found: json_type(&other),
            },
        }),
    }
}

pub fn require_string(
    object: &mut Map<String, Value>,
    field: &'static str,
) -> Result<String, RequestError> {
    take_string(object, field)?
        .filter(|s| !s.is_empty())
        .ok_or(RequestError::MissingField(field))
}

pub fn take_bool(
    object: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<bool>, RequestError> {
    match object.remove(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(other) => Err(RequestError::InvalidField {
            field: field.to_owned(),
            problem: FieldProblem::WrongType {
                expected: "boolean",
                found: json_type(&other),
            },
        }),
    }
}

pub fn take_object(
    object: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<Map<String, Value>>, RequestError> {
    match object.remove(field) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(RequestError::InvalidField {
            field: field.to_owned(),
            problem: FieldProblem::WrongType {
                expected: "object",
                found: json_type(&other),
            },
        }),
    }
}

/// Fails when members other than those taken remain.
pub fn reject_unknown(object: Map<String, Value>) -> Result<(), RequestError> {
    if object.is_empty() {
        Ok(())
    } else {
        let mut keys: Vec<String> = object.into_iter().map(|(k, _)| k).collect();
        keys.sort();
        Err(RequestError::UnknownFields(keys))
    }
}

pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `Authorization: Bearer <token>`; `None` when the header is absent or not a bearer.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1, form-encoded parts).
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// The peer address of the connection (proxies are not trusted yet).
pub fn client_ip<B>(request: &Request<B>) -> Option<String> {
    peer_ip(request.extensions())
}

fn client_address(
    parts: &axum::http::request::Parts,
    trusted_proxies: &[IpRange],
) -> Option<String> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())?;
    let trusted = |ip: std::net::IpAddr| trusted_proxies.iter().any(|r| r.contains(ip));
    if !trusted(peer) {
        return Some(peer.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let client = forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted(*ip))
        .unwrap_or(peer);
    Some(client.to_string())
}

fn peer_ip(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// The caller as the tenant log and attack protection see it: address and user agent. The
/// address is the peer's, unless the peer is a trusted proxy: then the right-most address of
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn requester(parts: &axum::http::request::Parts, trusted_proxies: &[IpRange]) -> Requester {
    Requester {
        ip: client_address(parts, trusted_proxies),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn basic_credentials_are_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("backend:a%3Asecret");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("backend".into(), "a:secret".into()))
        );
    }

    #[test]
    fn bearer_is_found() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
    }
}
