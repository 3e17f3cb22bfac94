//! Query-string parameters shared by the Management API's list endpoints.

use std::collections::HashMap;

use crate::wire::RequestError;

pub(crate) fn number(
    query: &HashMap<String, String>,
    key: &str,
    default: u64,
) -> Result<u64, RequestError> {
    match query.get(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            RequestError::InvalidQuery(format!(
                "'Expected type integer but found type string' on property {key}."
            ))
        }),
    }
}

pub(crate) fn flag(
    query: &HashMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, RequestError> {
    match query.get(key).map(String::as_str) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(RequestError::InvalidQuery(format!(
            "'Expected type boolean but found type string' on property {key}."
        ))),
    }
}

pub(crate) fn projection(
    query: &HashMap<String, String>,
) -> Result<(Option<&str>, bool), RequestError> {
    Ok((
        query.get("fields").map(String::as_str),
        flag(query, "include_fields", true)?,
    ))
}

/// The `field:value` terms of the Lucene subset answered here, joined by ` AND `; quotes
/// around a value are dropped.
pub(crate) fn search_terms(q: Option<&str>) -> Result<Vec<(&str, &str)>, RequestError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(Vec::new());
    };
    q.split(" AND ")
        .map(|term| {
            let (field, value) = term.split_once(':').ok_or_else(|| {
                RequestError::InvalidQuery(format!("unsupported search query: {q}"))
            })?;
            Ok((field.trim(), value.trim().trim_matches('"')))
        })
        .collect()
}

pub(crate) fn unsupported_field(field: &str, supported: &str) -> RequestError {
    RequestError::InvalidQuery(format!(
        "searching by '{field}' is not supported (supported: {supported})"
    ))
}
