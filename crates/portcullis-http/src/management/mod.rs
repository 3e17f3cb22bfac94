//! The Management API (`/api/v2`): bearer tokens from `client_credentials` for this tenant's
//! Management API audience, checked for scope on every call.

mod actions;
mod anomaly;
mod logs;
mod mfa;
mod query;
mod tickets;
mod user_blocks;
mod users;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use portcullis_core::Error;
use portcullis_core::logs::Actor;
use portcullis_core::tokens::AccessClaims;

use crate::extract::bearer_token;
use crate::{AppState, Routes};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .route("/api/v2/users", get(users::list).post(users::create))
        .route(
            "/api/v2/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/api/v2/users-by-email", get(users::by_email))
        .route("/api/v2/users/{id}/logs", get(logs::for_user))
        .route(
            "/api/v2/user-blocks",
            get(user_blocks::get_by_identifier).delete(user_blocks::delete_by_identifier),
        )
        .route(
            "/api/v2/user-blocks/{id}",
            get(user_blocks::get_by_user).delete(user_blocks::delete_by_user),
        )
        .route(
            "/api/v2/anomaly/blocks/ips/{ip}",
            get(anomaly::check).delete(anomaly::remove),
        )
        .route(
            "/api/v2/tickets/password-change",
            post(tickets::password_change),
        )
        .route(
            "/api/v2/tickets/email-verification",
            post(tickets::email_verification),
        )
        .route(
            "/api/v2/jobs/verification-email",
            post(tickets::verification_email_job),
        )
        .route("/api/v2/users/{id}/enrollments", get(mfa::enrollments))
        .route(
            "/api/v2/users/{id}/authentication-methods",
            get(mfa::methods).delete(mfa::delete_methods),
        )
        .route(
            "/api/v2/users/{id}/authentication-methods/{method_id}",
            get(mfa::method_by_id).delete(mfa::delete_method),
        )
        .route(
            "/api/v2/users/{id}/multifactor/{provider}",
            axum::routing::delete(mfa::delete_multifactor),
        )
        .route(
            "/api/v2/users/{id}/recovery-code-regeneration",
            post(mfa::regenerate_recovery_code),
        )
        .route(
            "/api/v2/guardian/enrollments/ticket",
            post(mfa::enrollment_ticket),
        )
        .route("/api/v2/guardian/factors", get(mfa::factors))
        .route(
            "/api/v2/guardian/factors/{name}",
            axum::routing::put(mfa::put_factor),
        )
        .route(
            "/api/v2/guardian/policies",
            get(mfa::policies).put(mfa::put_policies),
        )
        .route("/api/v2/logs", get(logs::list))
        .route("/api/v2/logs/{id}", get(logs::get))
        .route(
            "/api/v2/actions/actions",
            get(actions::list).post(actions::create),
        )
        .route(
            "/api/v2/actions/actions/{id}",
            get(actions::get)
                .patch(actions::update)
                .delete(actions::delete),
        )
        .route("/api/v2/actions/actions/{id}/deploy", post(actions::deploy))
        .route("/api/v2/actions/triggers", get(actions::triggers))
        .route(
            "/api/v2/actions/triggers/{trigger}/bindings",
            get(actions::bindings).patch(actions::set_bindings),
        )
}

/// The application and caller behind a Management API request, for the tenant log.
pub(crate) fn actor(
    app: &AppState,
    claims: &AccessClaims,
    parts: &axum::http::request::Parts,
) -> Actor {
    Actor {
        client_id: Some(claims.azp.clone()),
        requester: crate::extract::requester(parts, &app.tenant.config.trusted_proxies),
    }
}

/// Verifies the bearer token and that it carries one of `any_of`.
pub(crate) fn authorize(
    app: &AppState,
    headers: &HeaderMap,
    any_of: &'static [&'static str],
) -> Result<AccessClaims, Error> {
    let tenant = &app.tenant;
    let token = bearer_token(headers).ok_or(Error::MissingAuthentication)?;
    let claims = tenant
        .keys
        .verify(
            token,
            &tenant.config.issuer,
            &tenant.config.management_audience(),
            tenant.clock.now_secs(),
        )
        .map_err(Error::InvalidToken)?;
    if any_of.iter().any(|s| claims.has_scope(s)) {
        Ok(claims)
    } else {
        Err(Error::InsufficientScope(any_of))
    }
}
