//! `/api/v2/logs`, `/api/v2/logs/{id}` and `/api/v2/users/{id}/logs`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use portcullis_core::Error;
use portcullis_core::logs::LogQuery;
use serde_json::{Value, json};

use super::authorize;
use super::query::{flag, number, projection, search_terms, unsupported_field};
use crate::AppState;
use crate::wire::log::management_log;
use crate::wire::user::project;
use crate::wire::{ManagementFailure, RequestError};

const READ: &[&str] = &["read:logs"];
const READ_USER_LOGS: &[&str] = &["read:logs", "read:logs_users"];
const MAX_PER_PAGE: u64 = 100;

type Outcome<T> = Result<T, ManagementFailure>;

fn hostname(app: &AppState) -> String {
    let issuer = &app.tenant.config.issuer;
    issuer
        .split("://")
        .nth(1)
        .unwrap_or(issuer)
        .trim_end_matches('/')
        .to_owned()
}

pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Outcome<Json<Value>> {
    authorize(&app, &headers, READ)?;
    let mut filter = parse_search(
        query
            .get("q")
            .or_else(|| query.get("search"))
            .map(String::as_str),
    )?;
    respond(&app, &query, &mut filter).await
}

pub async fn for_user(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Outcome<Json<Value>> {
    authorize(&app, &headers, READ_USER_LOGS)?;
    let mut filter = LogQuery {
        user_id: Some(user_id),
        ..LogQuery::default()
    };
    respond(&app, &query, &mut filter).await
}

async fn respond(
    app: &AppState,
    query: &HashMap<String, String>,
    filter: &mut LogQuery,
) -> Outcome<Json<Value>> {
    let allowed = [
        "page",
        "per_page",
        "include_totals",
        "sort",
        "fields",
        "include_fields",
        "q",
        "search",
        "from",
        "take",
    ];
    if let Some(k) = query.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(
            RequestError::InvalidQuery(format!("Additional properties not allowed: {k}")).into(),
        );
    }
    let checkpoint = query.get("from").filter(|f| !f.is_empty()).cloned();
    let (offset, limit, page_start) = if checkpoint.is_some() || query.contains_key("take") {
        let take = number(query, "take", 50)?.min(MAX_PER_PAGE);
        (0, take, 0)
    } else {
        let page = number(query, "page", 0)?;
        let per_page = number(query, "per_page", 50)?;
        if per_page > MAX_PER_PAGE {
            return Err(RequestError::InvalidQuery(format!(
                "'Value {per_page} is greater than maximum {MAX_PER_PAGE}' on property per_page (Number of results per page)."
            ))
            .into());
        }
        (
            page.saturating_mul(per_page),
            per_page,
            page.saturating_mul(per_page),
        )
    };
    filter.from = checkpoint;
    filter.offset = offset;
    filter.limit = limit;
    filter.newest_first = !matches!(query.get("sort").map(String::as_str), Some("date:1"));
    let (events, total) = app
        .tenant
        .store
        .list_logs(filter)
        .await
        .map_err(Error::from)?;
    let (fields, include) = projection(query)?;
    let host = hostname(app);
    let logs: Vec<Value> = events
        .iter()
        .map(|e| project(management_log(e, &host), fields, include))
        .collect();
    if flag(query, "include_totals", false)? && filter.from.is_none() {
        Ok(Json(
            json!({"start": page_start, "limit": limit, "length": logs.len(), "total": total, "logs": logs}),
        ))
    } else {
        Ok(Json(Value::Array(logs)))
    }
}

pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Outcome<Json<Value>> {
    authorize(&app, &headers, READ)?;
    let event = app
        .tenant
        .store
        .log_by_id(&id)
        .await
        .map_err(Error::from)?
        .ok_or(Error::LogNotFound)?;
    Ok(Json(management_log(&event, &hostname(&app))))
}

/// The Lucene subset answered: `type:"x"` and `user_id:"y"`, joined by `AND`.
fn parse_search(q: Option<&str>) -> Result<LogQuery, RequestError> {
    let mut query = LogQuery::default();
    for (field, value) in search_terms(q)? {
        match field {
            "type" => query.log_type = Some(value.to_owned()),
            "user_id" => query.user_id = Some(value.to_owned()),
            other => return Err(unsupported_field(other, "type, user_id")),
        }
    }
    Ok(query)
}
