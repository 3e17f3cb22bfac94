//! The Management API's MFA endpoints: a user's enrollments and authentication methods, the
//! recovery code, and the tenant's Guardian factors and policy.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use portcullis_core::clock::iso8601_millis;
use portcullis_core::flows::mfa;
use portcullis_core::mfa::{AuthenticatorKind, AuthenticatorRecord, GuardianFactor};
use serde_json::{Value, json};

use super::authorize;
use super::query::{flag, number};
use crate::AppState;
use crate::wire::{FieldProblem, ManagementFailure, RequestError};

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
                problem: FieldProblem::NotInEnum(other.to_owned()),
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

const FACTOR_NAMES: [&str; 8] = [
    "push-notification",
    "sms",
    "email",
    "duo",
    "otp",
    "webauthn-roaming",
    "webauthn-platform",
    "recovery-code",
];
const UPDATE_FACTORS: &[&str] = &["update:guardian_factors"];
const CREATE_TICKETS: &[&str] = &["create:guardian_enrollment_tickets"];

/// `POST /api/v2/guardian/enrollments/ticket` `{user_id, send_mail?}`.
pub async fn enrollment_ticket(
    State(app): State<AppState>,
    request: Request,
) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, CREATE_TICKETS)?;
    let mut o = crate::extract::read_object(
        &parts.headers,
        body,
        crate::extract::Accepts::JsonOnly,
        false,
    )
    .await?;
    let user_id = crate::extract::require_string(&mut o, "user_id")?;
    let send_mail = crate::extract::take_bool(&mut o, "send_mail")?.unwrap_or(false);
    for accepted in ["email", "email_locale", "factor"] {
        crate::extract::take_string(&mut o, accepted)?;
    }
    crate::extract::take_bool(&mut o, "allow_multiple_enrollments")?;
    crate::extract::reject_unknown(o)?;
    let (ticket_id, ticket_url) = mfa::enrollment_ticket(&app.tenant, &user_id, send_mail).await?;
    Ok(Json(
        json!({"ticket_id": ticket_id, "ticket_url": ticket_url}),
    ))
}
const UPDATE_POLICIES: &[&str] = &["update:mfa_policies"];

/// The factors Auth0 names, with this tenant's settings (only `otp` and `recovery-code` can be on).
pub async fn factors(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ_FACTORS)?;
    let policy = mfa::policy(&app.tenant).await?;
    Ok(Json(Value::Array(
        FACTOR_NAMES
            .iter()
            .map(|name| {
                let enabled = match *name {
                    "otp" => policy.otp,
                    "recovery-code" => policy.recovery_code,
                    _ => false,
                };
                json!({"name": name, "enabled": enabled, "trial_expired": false})
            })
            .collect(),
    )))
}

/// `PUT /api/v2/guardian/factors/{name}` `{"enabled": bool}`; factors not built here cannot be
/// turned on.
pub async fn put_factor(
    State(app): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, UPDATE_FACTORS)?;
    let mut o = crate::extract::read_object(
        &parts.headers,
        body,
        crate::extract::Accepts::JsonOnly,
        false,
    )
    .await?;
    let enabled = crate::extract::take_bool(&mut o, "enabled")?
        .ok_or(RequestError::MissingField("enabled"))?;
    crate::extract::reject_unknown(o)?;
    let mut policy = mfa::policy(&app.tenant).await?;
    match name.as_str() {
        "otp" => policy.set_factor(GuardianFactor::Otp, enabled),
        "recovery-code" => policy.set_factor(GuardianFactor::RecoveryCode, enabled),
        other if FACTOR_NAMES.contains(&other) && !enabled => {}
        other if FACTOR_NAMES.contains(&other) => {
            return Err(RequestError::InvalidField {
                field: "name".into(),
                problem: FieldProblem::FactorUnavailable(other.to_owned()),
            }
            .into());
        }
        other => {
            return Err(RequestError::InvalidField {
                field: "name".into(),
                problem: FieldProblem::NotInEnum(other.to_owned()),
            }
            .into());
        }
    }
    mfa::set_policy(&app.tenant, &policy).await?;
    Ok(Json(json!({ "enabled": enabled })))
}

pub async fn policies(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ_POLICIES)?;
    let policy = mfa::policy(&app.tenant).await?;
    Ok(Json(if policy.always {
        json!(["all-applications"])
    } else {
        json!([])
    }))
}

/// `PUT /api/v2/guardian/policies` with `[]` or `["all-applications"]`; echoes the array.
pub async fn put_policies(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, UPDATE_POLICIES)?;
    let bytes = axum::body::to_bytes(body, crate::extract::MAX_BODY_BYTES)
        .await
        .map_err(|_| RequestError::PayloadTooLarge)?;
    let list: Vec<String> =
        serde_json::from_slice(&bytes).map_err(|e| RequestError::MalformedBody(e.to_string()))?;
    let mut policy = mfa::policy(&app.tenant).await?;
    let always = match list.as_slice() {
        [] => false,
        [one] if one == "all-applications" => true,
        _ => {
            return Err(RequestError::InvalidField {
                field: "policies".into(),
                problem: FieldProblem::UnsupportedPolicies,
            }
            .into());
        }
    };
    if policy.require_always(always).is_err() {
        return Err(RequestError::InvalidField {
            field: "policies".into(),
            problem: FieldProblem::PolicyWithoutOtp,
        }
        .into());
    }
    mfa::set_policy(&app.tenant, &policy).await?;
    Ok(Json(json!(list)))
}
