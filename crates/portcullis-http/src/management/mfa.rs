//! The Management API's MFA endpoints: a user's enrollments and authentication methods, the
//! recovery code, and the tenant's Guardian factors and policy.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use portcullis_core::clock::iso8601_millis;
use portcullis_core::flows::mfa;
use portcullis_core::mfa::{AuthenticatorKind, AuthenticatorRecord};
use serde_json::{Value, json};

use super::authorize;
use super::query::{flag, number};
use crate::AppState;
use crate::wire::{ManagementFailure, RequestError};

const READ_USERS: &[&str] = &["read:users"];
const UPDATE_USERS: &[&str] = &["update:users"];
const READ_METHODS: &[&str] = &["read:authentication_methods", "read:users"];
const DELETE_METHODS: &[&str] = &["delete:authentication_methods", "update:users"];
const READ_FACTORS: &[&str] = &["read:guardian_factors"];
const READ_POLICIES: &[&str] = &["read:mfa_policies"];

type Outcome<T> = Result<T, ManagementFailure>;

/// Auth0's authentication-method object.
fn method(a: &AuthenticatorRecord) -> Value {
    let kind = match a.kind {
        AuthenticatorKind::Otp => "totp",
        AuthenticatorKind::RecoveryCode => "recovery-code",
    };
    json!({"id": a.id, "type": kind, "confirmed": a.confirmed, "created_at": iso8601_millis(a.created_at)})
}

pub async fn enrollments(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ_USERS)?;
    let list = mfa::user_authenticators(&app.tenant, &id).await?;
    Ok(Json(Value::Array(
        list.iter()
            .filter(|a| a.kind == AuthenticatorKind::Otp)
            .map(|a| {
                json!({
                    "id": a.id,
                    "status": if a.confirmed { "confirmed" } else { "pending" },
                    "type": "authenticator",
                    "auth_method": "authenticator",
                    "enrolled_at": iso8601_millis(a.created_at),
                })
            })
            .collect(),
    )))
}

pub async fn methods(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ_METHODS)?;
    let list: Vec<Value> = mfa::user_authenticators(&app.tenant, &id)
        .await?
        .iter()
        .map(method)
        .collect();
    if flag(&query, "include_totals", false)? {
        let per_page = number(&query, "per_page", 50)?;
        let page = number(&query, "page", 0)?;
        let start = page.saturating_mul(per_page);
        let slice: Vec<Value> = list
            .iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(per_page).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        return Ok(Json(
            json!({"start": start, "limit": per_page, "total": list.len(), "authenticators": slice}),
        ));
    }
    Ok(Json(Value::Array(list)))
}

pub async fn method_by_id(
    State(app): State<AppState>,
    Path((id, method_id)): Path<(String, String)>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ_METHODS)?;
    let list = mfa::user_authenticators(&app.tenant, &id).await?;
    let found = list
        .iter()
        .find(|a| a.id == method_id)
        .ok_or(portcullis_core::Error::AuthenticatorNotFound)?;
    Ok(Json(method(found)))
}

pub async fn delete_methods(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<StatusCode> {
    authorize(&app, request.headers(), DELETE_METHODS)?;
    mfa::delete_user_authenticators(&app.tenant, &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_method(
    State(app): State<AppState>,
    Path((id, method_id)): Path<(String, String)>,
    request: Request,
) -> Outcome<StatusCode> {
    authorize(&app, request.headers(), DELETE_METHODS)?;
    mfa::delete_user_authenticators(&app.tenant, &id, Some(&method_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_multifactor(
    State(app): State<AppState>,
    Path((id, provider)): Path<(String, String)>,
    request: Request,
) -> Outcome<StatusCode> {
    authorize(&app, request.headers(), UPDATE_USERS)?;
    match provider.as_str() {
        "google-authenticator" => mfa::delete_user_otp(&app.tenant, &id).await?,
        // No Duo enrollments exist here; Auth0 answers 204 for none either.
        "duo" => {}
        other => {
            return Err(RequestError::InvalidField {
                field: "provider".into(),
                problem: format!("No enum match for: {other}"),
            }
            .into());
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn regenerate_recovery_code(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), UPDATE_USERS)?;
    let code = mfa::regenerate_recovery_code(&app.tenant, &id).await?;
    Ok(Json(json!({ "recovery_code": code })))
}

/// The factors Auth0 names, with this tenant's settings (only `otp` and `recovery-code` can be on).
pub async fn factors(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ_FACTORS)?;
    let policy = &app.tenant.config.mfa;
    let names = [
        ("push-notification", false),
        ("sms", false),
        ("email", false),
        ("duo", false),
        ("otp", policy.otp),
        ("webauthn-roaming", false),
        ("webauthn-platform", false),
        ("recovery-code", policy.recovery_code),
    ];
    Ok(Json(Value::Array(
        names
            .iter()
            .map(
                |(name, enabled)| json!({"name": name, "enabled": enabled, "trial_expired": false}),
            )
            .collect(),
    )))
}

pub async fn policies(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ_POLICIES)?;
    Ok(Json(if app.tenant.config.mfa.always {
        json!(["all-applications"])
    } else {
        json!([])
    }))
}
