//! The Management API's Actions: `/api/v2/actions/actions` (drafts, deploy) and
//! `/api/v2/actions/triggers/{id}/bindings`, in Auth0's shapes.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use portcullis_core::actions::{ActionRecord, BindingRecord, Trigger};
use portcullis_core::clock::iso8601_millis;
use portcullis_core::flows::managed_actions::{self, ActionPatch, ActionRef, NewAction};
use serde_json::{Map, Value, json};

use super::authorize;
use crate::AppState;
use crate::extract::{Accepts, read_object, reject_unknown, take_string};
use crate::wire::{FieldProblem, ManagementFailure, RequestError};

const READ: &[&str] = &["read:actions"];
const CREATE: &[&str] = &["create:actions"];
const UPDATE: &[&str] = &["update:actions"];
const DELETE: &[&str] = &["delete:actions"];
/// The runtime Auth0 names; scripts here run in the sandbox whatever it says.
const RUNTIME: &str = "node18";

type Outcome<T> = Result<T, ManagementFailure>;

fn supported_triggers(action: &ActionRecord) -> Value {
    let version = Trigger::parse(&action.trigger).map_or("v2", Trigger::version);
    json!([{"id": action.trigger, "version": version}])
}

/// Auth0's action object; secret values are never returned.
fn action_json(action: &ActionRecord) -> Value {
    let secrets: Vec<Value> = action
        .secrets
        .keys()
        .map(|name| json!({"name": name, "updated_at": iso8601_millis(action.updated_at)}))
        .collect();
    let mut body = json!({
        "id": action.id,
        "name": action.name,
        "supported_triggers": supported_triggers(action),
        "code": action.code,
        "dependencies": [],
        "runtime": RUNTIME,
        "secrets": secrets,
        "status": "built",
        "all_changes_deployed": action.deployed_code.as_deref() == Some(action.code.as_str())
            && action.deployed_secrets == action.secrets,
        "created_at": iso8601_millis(action.created_at),
        "updated_at": iso8601_millis(action.updated_at),
    });
    if action.deployed_code.is_some()
        && let Some(o) = body.as_object_mut()
    {
        o.insert("deployed_version".into(), version_json(action));
        o.insert("built_at".into(), json!(iso8601_millis(action.updated_at)));
    }
    body
}

/// The deployed version object.
fn version_json(action: &ActionRecord) -> Value {
    json!({
        "id": format!("{}-v{}", action.id, action.version),
        "action_id": action.id,
        "code": action.deployed_code,
        "dependencies": [],
        "deployed": true,
        "number": action.version,
        "runtime": RUNTIME,
        "secrets": action.deployed_secrets.keys().map(|n| json!({"name": n})).collect::<Vec<_>>(),
        "status": "built",
        "errors": [],
        "supported_triggers": supported_triggers(action),
        "created_at": iso8601_millis(action.updated_at),
        "updated_at": iso8601_millis(action.updated_at),
        "built_at": iso8601_millis(action.updated_at),
    })
}

fn binding_json(binding: &BindingRecord, action: &ActionRecord) -> Value {
    json!({
        "id": binding.id,
        "trigger_id": binding.trigger,
        "display_name": binding.display_name,
        "action": action_json(action),
        "created_at": iso8601_millis(binding.created_at),
        "updated_at": iso8601_millis(binding.created_at),
    })
}

/// Auth0's `secrets: [{name, value}]` as a map.
fn secrets_from(value: Option<Value>) -> Result<Option<Map<String, Value>>, RequestError> {
    let invalid = |problem: FieldProblem| RequestError::InvalidField {
        field: "secrets".into(),
        problem,
    };
    let Some(value) = value else {
        return Ok(None);
    };
    let items = match value {
        Value::Array(items) => items,
        other => {
            return Err(invalid(FieldProblem::WrongType {
                expected: "array",
                found: crate::extract::json_type(&other),
            }));
        }
    };
    let mut secrets = Map::new();
    for item in items {
        let name = item.get("name").and_then(Value::as_str);
        let value = item.get("value").and_then(Value::as_str);
        match (name, value) {
            (Some(n), Some(v)) if !n.is_empty() => {
                secrets.insert(n.to_owned(), Value::String(v.to_owned()));
            }
            _ => return Err(invalid(FieldProblem::SecretsShape)),
        }
    }
    Ok(Some(secrets))
}

/// `POST /api/v2/actions/actions`.
pub async fn create(
    State(app): State<AppState>,
    request: Request,
) -> Outcome<(StatusCode, Json<Value>)> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, CREATE)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let name = take_string(&mut o, "name")?.ok_or(RequestError::MissingField("name"))?;
    let triggers = o
        .remove("supported_triggers")
        .ok_or(RequestError::MissingField("supported_triggers"))?;
    let trigger = triggers
        .as_array()
        .and_then(|t| t.first())
        .and_then(|t| t.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| RequestError::InvalidField {
            field: "supported_triggers".into(),
            problem: FieldProblem::TriggersShape,
        })?
        .to_owned();
    let code = take_string(&mut o, "code")?.unwrap_or_default();
    let secrets = secrets_from(o.remove("secrets"))?.unwrap_or_default();
    // Accepted and ignored: the sandbox has no npm packages and one runtime.
    o.remove("dependencies");
    o.remove("runtime");
    let deploy_now = crate::extract::take_bool(&mut o, "deploy")?.unwrap_or(false);
    reject_unknown(o)?;
    let mut action = managed_actions::create(
        &app.tenant,
        NewAction {
            name,
            trigger,
            code,
            secrets,
        },
    )
    .await?;
    if deploy_now {
        action = managed_actions::deploy(&app.tenant, &action.id).await?;
    }
    Ok((StatusCode::CREATED, Json(action_json(&action))))
}

/// `GET /api/v2/actions/actions`.
pub async fn list(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ)?;
    let actions = managed_actions::list(&app.tenant).await?;
    let total = actions.len();
    Ok(Json(json!({
        "actions": actions.iter().map(action_json).collect::<Vec<_>>(),
        "total": total,
        "page": 0,
        "per_page": total.max(50),
    })))
}

/// `GET /api/v2/actions/actions/{id}`.
pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ)?;
    Ok(Json(action_json(
        &managed_actions::get(&app.tenant, &id).await?,
    )))
}

/// `PATCH /api/v2/actions/actions/{id}`: changes the draft.
pub async fn update(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, UPDATE)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let patch = ActionPatch {
        name: take_string(&mut o, "name")?,
        code: take_string(&mut o, "code")?,
        secrets: secrets_from(o.remove("secrets"))?,
    };
    o.remove("dependencies");
    o.remove("runtime");
    o.remove("supported_triggers");
    reject_unknown(o)?;
    Ok(Json(action_json(
        &managed_actions::update(&app.tenant, &id, patch).await?,
    )))
}

/// `DELETE /api/v2/actions/actions/{id}`.
pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<StatusCode> {
    authorize(&app, request.headers(), DELETE)?;
    managed_actions::delete(&app.tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v2/actions/actions/{id}/deploy`: the draft becomes the running version.
pub async fn deploy(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), CREATE)?;
    let action = managed_actions::deploy(&app.tenant, &id).await?;
    let mut version = version_json(&action);
    if let Some(o) = version.as_object_mut() {
        o.insert("action".into(), action_json(&action));
    }
    Ok(Json(version))
}

/// `GET /api/v2/actions/triggers`.
pub async fn triggers(State(app): State<AppState>, request: Request) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ)?;
    let triggers: Vec<Value> = Trigger::ALL
        .iter()
        .map(|t| {
            json!({"id": t.as_str(), "version": t.version(), "status": "CURRENT",
                   "runtimes": [RUNTIME], "default_runtime": RUNTIME, "compatible_triggers": []})
        })
        .collect();
    Ok(Json(json!({ "triggers": triggers })))
}

/// `GET /api/v2/actions/triggers/{trigger}/bindings`.
pub async fn bindings(
    State(app): State<AppState>,
    Path(trigger): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    authorize(&app, request.headers(), READ)?;
    let bound = managed_actions::bindings(&app.tenant, &trigger).await?;
    let total = bound.len();
    Ok(Json(json!({
        "bindings": bound.iter().map(|(b, a)| binding_json(b, a)).collect::<Vec<_>>(),
        "total": total,
        "page": 0,
        "per_page": total.max(50),
    })))
}

/// `PATCH /api/v2/actions/triggers/{trigger}/bindings`
/// `{"bindings": [{"ref": {"type": "action_id"|"action_name", "value": …}, "display_name"}]}`.
pub async fn set_bindings(
    State(app): State<AppState>,
    Path(trigger): Path<String>,
    request: Request,
) -> Outcome<Json<Value>> {
    let (parts, body) = request.into_parts();
    authorize(&app, &parts.headers, UPDATE)?;
    let mut o = read_object(&parts.headers, body, Accepts::JsonOnly, false).await?;
    let items = match o.remove("bindings") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(RequestError::InvalidField {
                field: "bindings".into(),
                problem: FieldProblem::WrongType {
                    expected: "array",
                    found: crate::extract::json_type(&other),
                },
            }
            .into());
        }
        None => return Err(RequestError::MissingField("bindings").into()),
    };
    reject_unknown(o)?;
    let mut wanted = Vec::with_capacity(items.len());
    for item in items {
        let kind = item.pointer("/ref/type").and_then(Value::as_str);
        let value = item.pointer("/ref/value").and_then(Value::as_str);
        let reference = match (kind, value) {
            (Some("action_id"), Some(v)) => ActionRef::Id(v.to_owned()),
            (Some("action_name"), Some(v)) => ActionRef::Name(v.to_owned()),
            _ => {
                return Err(RequestError::InvalidField {
                    field: "bindings".into(),
                    problem: FieldProblem::BindingShape,
                }
                .into());
            }
        };
        let display_name = item
            .get("display_name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        wanted.push((reference, display_name));
    }
    let bound = managed_actions::set_bindings(&app.tenant, &trigger, wanted).await?;
    Ok(Json(json!({
        "bindings": bound.iter().map(|(b, a)| binding_json(b, a)).collect::<Vec<_>>(),
    })))
}
