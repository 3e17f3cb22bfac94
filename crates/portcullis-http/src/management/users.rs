//! `/api/v2/users` and `/api/v2/users-by-email`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use portcullis_core::flows::signup::NewUser;
use portcullis_core::flows::users::{self, Change, UserPatch};
use portcullis_core::identity::Email;
use portcullis_core::store::UserQuery;
use serde_json::{Map, Value, json};

use super::query::{flag, number, projection, search_terms, unsupported_field};
use super::{actor, authorize};
use crate::AppState;
use crate::extract::{
    Accepts, read_object, reject_unknown, require_string, take_bool, take_object, take_string,
};
use crate::wire::user::{management_user, project};
use crate::wire::{ManagementFailure, RequestError};

const READ: &[&str] = &["read:users"];
const CREATE: &[&str] = &["create:users"];
const UPDATE: &[&str] = &["update:users", "update:users_app_metadata"];
const DELETE: &[&str] = &["delete:users"];

/// Auth0 pages through at most the first 1000 results of a query.
const MAX_RESULTS: u64 = 1000;
const MAX_PER_PAGE: u64 = 100;
const DEFAULT_PER_PAGE: u64 = 50;

type Outcome<T> = Result<T, ManagementFailure>;

pub async fn create(State(app): State<AppState>, request: Request) -> Outcome<Response> {
    let (parts, body) = request.into_parts();
    let claims = authorize(&app, &parts.headers, CREATE)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let connection = require_string(&mut o, "connection")?;
    let email = require_string(&mut o, "email")?;
    let password = require_string(&mut o, "password")?;
    let new = NewUser {
        email,
        password,
        username: take_string(&mut o, "username")?,
        email_verified: take_bool(&mut o, "email_verified")?.unwrap_or(false),
        blocked: take_bool(&mut o, "blocked")?,
        given_name: take_string(&mut o, "given_name")?,
        family_name: take_string(&mut o, "family_name")?,
        name: take_string(&mut o, "name")?,
        nickname: take_string(&mut o, "nickname")?,
        picture: take_string(&mut o, "picture")?,
        user_metadata: take_object(&mut o, "user_metadata")?.unwrap_or_default(),
        app_metadata: take_object(&mut o, "app_metadata")?.unwrap_or_default(),
    };
    let verify_email = take_bool(&mut o, "verify_email")?.unwrap_or(true);
    reject_unknown(o)?;
    let user = users::create(
        &app.tenant,
        &connection,
        new,
        verify_email,
        &actor(&app, &claims, &parts),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(management_user(&user))).into_response())
}

pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Outcome<Json<Value>> {
    authorize(&app, &headers, READ)?;
    let user = users::get(&app.tenant, &id).await?;
    let (fields, include) = projection(&query)?;
    Ok(Json(project(management_user(&user), fields, include)))
}

pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Outcome<Json<Value>> {
    authorize(&app, &headers, READ)?;
    let allowed = [
        "page",
        "per_page",
        "include_totals",
        "q",
        "search_engine",
        "fields",
        "include_fields",
        "sort",
        "connection",
    ];
    if query.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(RequestError::InvalidQuery("Additional properties not allowed".into()).into());
    }
    let page = number(&query, "page", 0)?;
    let per_page = number(&query, "per_page", DEFAULT_PER_PAGE)?;
    if per_page > MAX_PER_PAGE {
        return Err(RequestError::InvalidQuery(format!(
            "'Value {per_page} is greater than maximum {MAX_PER_PAGE}' on property per_page (Number of results per page. Defaults to 50)."
        ))
        .into());
    }
    let include_totals = flag(&query, "include_totals", false)?;
    let offset = page.saturating_mul(per_page);
    let mut filter = parse_q(query.get("q").map(String::as_str))?;
    if let Some(c) = query.get("connection") {
        filter.connection = Some(c.clone());
    }
    let (fields, include) = projection(&query)?;
    filter.with_total = include_totals;
    let (found, total) = if offset >= MAX_RESULTS && !include_totals {
        (Vec::new(), None)
    } else {
        filter.offset = offset;
        filter.limit = per_page.min(MAX_RESULTS.saturating_sub(offset));
        users::list(&app.tenant, &filter).await?
    };
    let rendered: Vec<Value> = found
        .iter()
        .map(|u| project(management_user(u), fields, include))
        .collect();
    if include_totals {
        Ok(Json(json!({
            "start": offset,
            "limit": per_page,
            "length": rendered.len(),
            "total": total.unwrap_or(0),
            "users": rendered,
        })))
    } else {
        Ok(Json(Value::Array(rendered)))
    }
}

pub async fn by_email(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Outcome<Json<Value>> {
    authorize(&app, &headers, READ)?;
    let email = query
        .get("email")
        .filter(|e| !e.is_empty())
        .ok_or_else(|| RequestError::InvalidQuery("Missing required property: email".into()))?;
    let (fields, include) = projection(&query)?;
    let found = users::by_email(&app.tenant, email).await?;
    Ok(Json(Value::Array(
        found
            .iter()
            .map(|u| project(management_user(u), fields, include))
            .collect(),
    )))
}

pub async fn update(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    let claims = authorize(&app, &parts.headers, UPDATE)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let patch = UserPatch {
        email: take_string(&mut o, "email")?,
        email_verified: take_bool(&mut o, "email_verified")?,
        username: take_string(&mut o, "username")?,
        password: take_string(&mut o, "password")?,
        blocked: take_bool(&mut o, "blocked")?,
        given_name: take_change(&mut o, "given_name")?,
        family_name: take_change(&mut o, "family_name")?,
        name: take_string(&mut o, "name")?,
        nickname: take_string(&mut o, "nickname")?,
        picture: take_string(&mut o, "picture")?,
        user_metadata: take_object(&mut o, "user_metadata")?,
        app_metadata: take_object(&mut o, "app_metadata")?,
        precondition: None,
    };
    // Accepted as Auth0 accepts them; one database connection per user makes them moot.
    take_string(&mut o, "connection")?;
    take_string(&mut o, "client_id")?;
    take_bool(&mut o, "verify_email")?;
    reject_unknown(o)?;
    // `update:users_app_metadata` alone changes the metadata and nothing else.
    if !claims.has_scope("update:users") {
        let beyond = patch.fields_beyond_metadata();
        if !beyond.is_empty() {
            return Err(portcullis_core::Error::FieldsNotUpdatable(beyond).into());
        }
    }
    if let Some(email) = &patch.email
        && Email::parse(email).is_none()
    {
        return Err(portcullis_core::Error::InvalidEmail(email.clone()).into());
    }
    let user = users::update(&app.tenant, &id, patch, &actor(&app, &claims, &parts)).await?;
    Ok(Json(management_user(&user)))
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<StatusCode> {
    let (parts, _) = request.into_parts();
    let claims = authorize(&app, &parts.headers, DELETE)?;
    users::delete(&app.tenant, &id, &actor(&app, &claims, &parts)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn take_change(
    o: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Change<String>, RequestError> {
    match o.get(field) {
        Some(Value::Null) => {
            o.remove(field);
            Ok(Change::Remove)
        }
        _ => Ok(take_string(o, field)?.map_or(Change::Keep, Change::Set)),
    }
}

/// The subset of Auth0's Lucene user search this server answers: `email:"…"` and
/// `identities.connection:"…"`, joined by `AND`.
fn parse_q(q: Option<&str>) -> Result<UserQuery, RequestError> {
    let mut query = UserQuery::default();
    for (field, value) in search_terms(q)? {
        match field {
            "email" => {
                let email = Email::parse(value)
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_else(|| value.to_lowercase());
                query.email = Some(email);
            }
            "identities.connection" => query.connection = Some(value.to_owned()),
            other => return Err(unsupported_field(other, "email, identities.connection")),
        }
    }
    Ok(query)
}
