//! `/api/v2/user-blocks`: brute-force blocks by user id or by identifier.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use portcullis_core::attack::brute_force::AttemptKey;
use portcullis_core::flows::unblock;
use serde_json::{Value, json};

use super::{actor, authorize};
use crate::AppState;
use crate::wire::{ManagementFailure, RequestError};

const READ: &[&str] = &["read:users"];
const UPDATE: &[&str] = &["update:users"];

type Outcome<T> = Result<T, ManagementFailure>;

/// Auth0's body: `{"blocked_for":[{"identifier","ip","connection"}]}`, without `ip` in the
/// per-identifier counting mode.
fn blocked_for(keys: &[AttemptKey]) -> Json<Value> {
    let entries: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut entry = json!({"identifier": k.identifier, "connection": k.connection});
            if !k.ip.is_empty() {
                entry["ip"] = k.ip.clone().into();
            }
            entry
        })
        .collect();
    Json(json!({ "blocked_for": entries }))
}

fn identifier(query: &HashMap<String, String>) -> Result<&str, RequestError> {
    query
        .get("identifier")
        .map(String::as_str)
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| RequestError::InvalidQuery("Missing required property: identifier".into()))
}

pub async fn get_by_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ)?;
    Ok(blocked_for(
        &unblock::blocks_of_user(&app.tenant, &id).await?,
    ))
}

pub async fn delete_by_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<StatusCode> {
    let (parts, _) = request.into_parts();
    let claims = authorize(&app, &parts.headers, UPDATE)?;
    unblock::unblock_user_id(&app.tenant, &id, &actor(&app, &claims, &parts)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_by_identifier(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ)?;
    Ok(blocked_for(
        &unblock::blocks_of_identifier(&app.tenant, identifier(&query)?).await?,
    ))
}

pub async fn delete_by_identifier(
    State(app): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Outcome<StatusCode> {
    let (parts, _) = request.into_parts();
    let claims = authorize(&app, &parts.headers, UPDATE)?;
    unblock::unblock_identifier(
        &app.tenant,
        identifier(&query)?,
        &actor(&app, &claims, &parts),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
