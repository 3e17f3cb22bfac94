//! `GET|POST /userinfo`: the profile claims the access token's scopes allow.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use portcullis_core::Error;
use portcullis_core::flows::tokens::profile_claims;
use portcullis_core::flows::users;
use serde_json::{Map, Value};

use crate::AppState;
use crate::extract::bearer_token;
use crate::wire::UserinfoFailure;

pub async fn userinfo(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, UserinfoFailure> {
    let tenant = &app.tenant;
    let token = bearer_token(&headers).ok_or(Error::MissingAuthentication)?;
    let claims = tenant
        .keys
        .verify_access_token(
            token,
            &tenant.config.issuer,
            &tenant.config.userinfo_audience(),
            tenant.clock.now_secs(),
        )
        .map_err(Error::InvalidToken)?;
    let user = users::get(tenant, &claims.sub).await?;
    let scopes: Vec<&str> = claims.scopes().collect();
    let mut body = Map::new();
    body.insert("sub".into(), user.user_id().into());
    body.extend(profile_claims(&user, &scopes));
    Ok(Json(Value::Object(body)))
}
