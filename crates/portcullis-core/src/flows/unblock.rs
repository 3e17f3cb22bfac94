//! Lifting brute-force blocks: the Management API's `user-blocks`, the unblock link mailed to
//! the user, and a successful password reset. Each lift is logged as `ublkdu`.

use serde_json::{Map, Value};

use crate::attack::brute_force::{AttemptKey, lapsed_before};
use crate::flows::users;
use crate::logs::{Actor, LogEvent, LogType};
use crate::mail::TemplateName;
use crate::tickets::{self, TicketKind};
use crate::user::UserRecord;
use crate::{Error, Tenant};

/// How long an unblock link works.
pub const UNBLOCK_TICKET_LIFETIME_SECS: i64 = 5 * 24 * 60 * 60;

/// The identifiers a user can be blocked under: e-mail and username.
fn identifiers(user: &UserRecord) -> Vec<String> {
    let mut ids = vec![user.email.clone()];
    ids.extend(user.username.clone());
    ids
}

fn not_before(tenant: &Tenant) -> i64 {
    lapsed_before(tenant.clock.now_millis())
}

/// The blocks of a user (`GET /api/v2/user-blocks/{id}`).
pub async fn blocks_of_user(tenant: &Tenant, user_id: &str) -> Result<Vec<AttemptKey>, Error> {
    let user = users::get(tenant, user_id).await?;
    Ok(tenant
        .store
        .login_blocks(
            Some(&user.connection),
            &identifiers(&user),
            not_before(tenant),
        )
        .await?)
}

/// The blocks of an identifier in every connection (`GET /api/v2/user-blocks?identifier=`).
pub async fn blocks_of_identifier(
    tenant: &Tenant,
    identifier: &str,
) -> Result<Vec<AttemptKey>, Error> {
    let id = identifier.trim().to_lowercase();
    Ok(tenant
        .store
        .login_blocks(None, &[id], not_before(tenant))
        .await?)
}

/// Lifts every block of a user (`DELETE /api/v2/user-blocks/{id}`, the unblock link).
pub async fn unblock_user(
    tenant: &Tenant,
    user: &UserRecord,
    actor: &Actor,
    how: &str,
) -> Result<(), Error> {
    let lifted = tenant
        .store
        .unblock_identifiers(Some(&user.connection), &identifiers(user))
        .await?;
    if lifted > 0 {
        let event = LogEvent::new(LogType::UserBlockReleased, tenant.clock.now_millis())
            .actor(actor)
            .user(user)
            .description(how.to_owned());
        tenant.record(event).await;
    }
    Ok(())
}

pub async fn unblock_user_id(tenant: &Tenant, user_id: &str, actor: &Actor) -> Result<(), Error> {
    let user = users::get(tenant, user_id).await?;
    unblock_user(
        tenant,
        &user,
        actor,
        "User block released by an administrator",
    )
    .await
}

/// Lifts the blocks of an identifier in every connection.
pub async fn unblock_identifier(
    tenant: &Tenant,
    identifier: &str,
    actor: &Actor,
) -> Result<(), Error> {
    let id = identifier.trim().to_lowercase();
    let lifted = tenant
        .store
        .unblock_identifiers(None, std::slice::from_ref(&id))
        .await?;
    if lifted > 0 {
        let event = LogEvent::new(LogType::UserBlockReleased, tenant.clock.now_millis())
            .actor(actor)
            .user_name(&id)
            .description("User block released by an administrator");
        tenant.record(event).await;
    }
    Ok(())
}

/// Mails the blocked user a single-use link that lifts the block (`user_notification`).
pub async fn notify_blocked_user(tenant: &Tenant, user: &UserRecord) -> Result<(), Error> {
    let mut payload = Map::new();
    payload.insert("connection".into(), Value::from(user.connection.clone()));
    let token = tickets::issue(
        tenant,
        TicketKind::Unblock,
        &user.user_id(),
        payload,
        UNBLOCK_TICKET_LIFETIME_SECS,
    )
    .await?;
    let link = format!("{}unblock?ticket={token}", tenant.config.issuer);
    tenant.send_template(TemplateName::BlockedAccount, user, Some(&link));
    Ok(())
}

/// Redeems an unblock link. `Ok(false)` for an unknown, used or expired ticket.
pub async fn redeem_unblock_ticket(
    tenant: &Tenant,
    token: &str,
    requester: &crate::logs::Requester,
) -> Result<bool, Error> {
    let Some(ticket) = tickets::redeem(tenant, TicketKind::Unblock, token).await? else {
        return Ok(false);
    };
    let user = match users::get(tenant, &ticket.user_id).await {
        Ok(user) => user,
        Err(Error::UserNotFound) => return Ok(false),
        Err(e) => return Err(e),
    };
    let actor = Actor::user(requester);
    unblock_user(
        tenant,
        &user,
        &actor,
        "User block released by the unblock link",
    )
    .await?;
    Ok(true)
}
