//! `/api/v2/anomaly/blocks/ips/{ip}`: inspect or lift suspicious-IP throttling.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use portcullis_core::Error;
use portcullis_core::flows::throttle;

use super::{actor, authorize};
use crate::AppState;
use crate::wire::{FieldProblem, ManagementFailure, RequestError};

const READ: &[&str] = &["read:anomaly_blocks"];
const DELETE: &[&str] = &["delete:anomaly_blocks"];

fn address(ip: &str) -> Result<String, RequestError> {
    ip.parse::<std::net::IpAddr>()
        .map(|a| a.to_string())
        .map_err(|_| RequestError::InvalidField {
            field: "ip".into(),
            problem: FieldProblem::NotAnIpAddress(ip.to_owned()),
        })
}

/// 200 when the address is throttled, 404 when it is not (Auth0's "Check if an IP address is
/// blocked").
pub async fn check(
    State(app): State<AppState>,
    Path(ip): Path<String>,
    request: Request,
) -> Result<StatusCode, ManagementFailure> {
    authorize(&app, request.headers(), READ)?;
    if throttle::is_blocked(&app.tenant, &address(&ip)?).await? {
        Ok(StatusCode::OK)
    } else {
        Err(Error::IpNotBlocked.into())
    }
}

pub async fn remove(
    State(app): State<AppState>,
    Path(ip): Path<String>,
    request: Request,
) -> Result<StatusCode, ManagementFailure> {
    let (parts, _) = request.into_parts();
    let claims = authorize(&app, &parts.headers, DELETE)?;
    throttle::unblock(&app.tenant, &address(&ip)?, &actor(&app, &claims, &parts)).await?;
    Ok(StatusCode::NO_CONTENT)
}
