//! `POST /dbconnections/signup` (JSON or form).

use axum::Json;
use axum::extract::{Request, State};
use portcullis_core::flows::signup::{NewUser, SignUp, sign_up as run_sign_up};
use serde_json::Value;

use crate::AppState;
use crate::extract::{
    Accepts, read_object, reject_unknown, requester, require_string, take_object, take_string,
};
use crate::wire::user::{SignupEcho, signup_user};
use crate::wire::{DatabaseFailure, FieldProblem, RequestError};

pub async fn sign_up(
    State(app): State<AppState>,
    request: Request,
) -> Result<Json<Value>, DatabaseFailure> {
    let (parts, body) = request.into_parts();
    let mut o = read_object(&parts.headers, body, Accepts::JsonOrForm, true).await?;
    let client_id = require_string(&mut o, "client_id")?;
    let connection = require_string(&mut o, "connection")?;
    let email = require_string(&mut o, "email")?;
    let password =
        take_string(&mut o, "password")?.ok_or(RequestError::MissingField("password"))?;
    let username = take_string(&mut o, "username")?;
    let given_name = take_string(&mut o, "given_name")?;
    let family_name = take_string(&mut o, "family_name")?;
    let name = take_string(&mut o, "name")?;
    let nickname = take_string(&mut o, "nickname")?;
    let picture = take_string(&mut o, "picture")?;
    let user_metadata = take_object(&mut o, "user_metadata")?;
    if let Some(metadata) = &user_metadata {
        check_signup_metadata(metadata)?;
    }
    reject_unknown(o)?;

    let echo = SignupEcho {
        given_name: given_name.is_some(),
        family_name: family_name.is_some(),
        name: name.is_some(),
        nickname: nickname.is_some(),
        picture: picture.is_some(),
        user_metadata: user_metadata.is_some(),
    };
    let request = SignUp {
        client_id,
        connection,
        user: NewUser {
            email,
            password,
            username,
            given_name,
            family_name,
            name,
            nickname,
            picture,
            user_metadata: user_metadata.unwrap_or_default(),
            ..NewUser::default()
        },
    };
    let user = run_sign_up(
        &app.tenant,
        request,
        &requester(&parts, &app.tenant.config.trusted_proxies),
    )
    .await?;
    Ok(Json(signup_user(&user, &echo)))
}

/// Auth0 allows at most 10 `user_metadata` fields at sign-up, each a string.
fn check_signup_metadata(metadata: &serde_json::Map<String, Value>) -> Result<(), RequestError> {
    if metadata.len() > 10 {
        return Err(RequestError::InvalidField {
            field: "user_metadata".into(),
            problem: FieldProblem::TooManyProperties { maximum: 10 },
        });
    }
    for (k, v) in metadata {
        if !v.is_string() {
            return Err(RequestError::InvalidField {
                field: format!("user_metadata.{k}"),
                problem: FieldProblem::WrongType {
                    expected: "string",
                    found: crate::extract::json_type(v),
                },
            });
        }
    }
    Ok(())
}
