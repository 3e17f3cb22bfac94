//! `/api/v2/tickets/password-change`, `/api/v2/tickets/email-verification` and
//! `/api/v2/jobs/verification-email`.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_core::Error;
use portcullis_core::flows::{reset, users, verify};
use portcullis_core::identity::Email;
use serde_json::{Map, Value, json};

use super::authorize;
use crate::AppState;
use crate::extract::{Accepts, read_object, reject_unknown, take_bool, take_string};
use crate::wire::{FieldProblem, ManagementFailure, RequestError};

const CREATE_TICKETS: &[&str] = &["create:user_tickets"];
const UPDATE_USERS: &[&str] = &["update:users"];

type Outcome<T> = Result<T, ManagementFailure>;

fn take_ttl(o: &mut Map<String, Value>) -> Result<i64, RequestError> {
    match o.remove("ttl_sec") {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => {
            n.as_i64()
                .filter(|n| *n >= 0)
                .ok_or_else(|| RequestError::InvalidField {
                    field: "ttl_sec".into(),
                    problem: FieldProblem::NegativeInteger,
                })
        }
        Some(other) => Err(RequestError::InvalidField {
            field: "ttl_sec".into(),
            problem: FieldProblem::WrongType {
                expected: "integer",
                found: crate::extract::json_type(&other),
            },
        }),
    }
}

pub async fn password_change(State(app): State<AppState>, request: Request) -> Outcome<Response> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, CREATE_TICKETS)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let user_id = take_string(&mut o, "user_id")?;
    let connection_id = take_string(&mut o, "connection_id")?;
    let email = take_string(&mut o, "email")?;
    let result_url = take_string(&mut o, "result_url")?;
    let ttl = take_ttl(&mut o)?;
    let mark_verified = take_bool(&mut o, "mark_email_as_verified")?.unwrap_or(false);
    for accepted in ["client_id", "organization_id", "new_password"] {
        take_string(&mut o, accepted)?;
    }
    take_bool(&mut o, "includeEmailInRedirect")?;
    o.remove("identity");
    reject_unknown(o)?;
    let tenant = &app.tenant;
    let user = match (user_id, connection_id, email) {
        (Some(id), _, _) => users::get(tenant, &id).await?,
        (None, Some(connection_id), Some(email)) => {
            let connection = tenant
                .config
                .connections
                .iter()
                .find(|c| c.id() == connection_id || c.name == connection_id)
                .ok_or(Error::UnknownConnection)?;
            let email = Email::parse(&email).ok_or(Error::InvalidEmail(email))?;
            tenant
                .store
                .user_by_email(&connection.name, email.as_str())
                .await
                .map_err(Error::from)?
                .ok_or(Error::UserNotFound)?
        }
        _ => return Err(RequestError::MissingField("user_id").into()),
    };
    let ticket =
        reset::reset_link(tenant, &user, result_url.as_deref(), ttl, mark_verified).await?;
    Ok((StatusCode::CREATED, Json(json!({ "ticket": ticket }))).into_response())
}

pub async fn email_verification(
    State(app): State<AppState>,
    request: Request,
) -> Outcome<Response> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, CREATE_TICKETS)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let user_id = take_string(&mut o, "user_id")?.ok_or(RequestError::MissingField("user_id"))?;
    let result_url = take_string(&mut o, "result_url")?;
    let ttl = take_ttl(&mut o)?;
    for accepted in ["client_id", "organization_id"] {
        take_string(&mut o, accepted)?;
    }
    take_bool(&mut o, "includeEmailInRedirect")?;
    o.remove("identity");
    reject_unknown(o)?;
    let user = users::get(&app.tenant, &user_id).await?;
    let ticket = verify::verification_link(&app.tenant, &user, result_url.as_deref(), ttl).await?;
    Ok((StatusCode::CREATED, Json(json!({ "ticket": ticket }))).into_response())
}

/// Sends the verification e-mail at once; the job is reported completed.
pub async fn verification_email_job(
    State(app): State<AppState>,
    request: Request,
) -> Outcome<Response> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, UPDATE_USERS)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let user_id = take_string(&mut o, "user_id")?.ok_or(RequestError::MissingField("user_id"))?;
    take_string(&mut o, "client_id")?;
    take_string(&mut o, "organization_id")?;
    o.remove("identity");
    reject_unknown(o)?;
    let user = users::get(&app.tenant, &user_id).await?;
    verify::send_verification_email(&app.tenant, &user).await?;
    let now = app.tenant.clock.now_millis();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "status": "completed",
            "type": "verification_email",
            "created_at": portcullis_core::clock::iso8601_millis(now),
            "id": format!("job_{}", portcullis_core::secret::random_token(12)),
        })),
    )
        .into_response())
}
