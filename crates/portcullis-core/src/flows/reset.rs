//! Password reset: `POST /dbconnections/change_password` mails a single-use link (the same
//! answer whether or not the e-mail exists), the Management API issues the same link as a
//! ticket, and the hosted page sets the new password under every rule of the connection. A
//! successful reset lifts brute-force blocks, as on Auth0.

use serde_json::{Map, Value};

use crate::flows::unblock::unblock_user;
use crate::flows::users::{self, TicketBinding, UserPatch};
use crate::identity::Email;
use crate::logs::{Actor, LogEvent, LogType, Requester};
use crate::mail::TemplateName;
use crate::tickets::{self, TicketKind};
use crate::user::UserRecord;
use crate::{Error, Tenant};

/// Auth0's default ticket lifetime (`ttl_sec` 0 or absent): 5 days.
pub const DEFAULT_TICKET_LIFETIME_SECS: i64 = 432_000;

/// `POST /dbconnections/change_password`.
pub async fn request_reset(
    tenant: &Tenant,
    client_id: &str,
    connection: &str,
    email: &str,
    requester: &Requester,
) -> Result<(), Error> {
    let client = tenant
        .config
        .client(client_id)
        .ok_or(Error::UnknownClient)?;
    let connection = tenant
        .config
        .connection(connection)
        .ok_or(Error::UnknownConnection)?;
    // A connection the application does not use resets nobody through it (and mails nobody).
    if !connection.is_enabled_for(&client.client_id) {
        return Err(Error::ConnectionDisabledForClient {
            client_id: client.client_id.clone(),
            connection: connection.name.clone(),
        });
    }
    let email = Email::parse(email).ok_or_else(|| Error::InvalidEmail(email.to_owned()))?;
    let now = tenant.clock.now_millis();
    // Reset requests are throttled per client address (refused) and per e-mail address (the
    // same answer, but no more mail): nobody can flood an inbox or the mail server.
    if let Some(ip) = requester
        .ip
        .as_deref()
        .filter(|ip| tenant.config.throttle.applies_to(Some(ip)))
    {
        let address = format!("ip:{}", crate::attack::counting_address(ip));
        if !take_reset_token(tenant, &address, RESET_REQUESTS_PER_IP, now).await? {
            return Err(Error::SuspiciousIp);
        }
    }
    let recipient = format!("email:{}|{}", connection.name, email.as_str());
    // Nothing tells the caller whether the e-mail exists: the answer is the same (Auth0's
    // behaviour), and so is its time — the answer waits only for a yes/no that costs the same
    // either way (and shows that the database answers), and the same background task starts
    // either way to find the user, issue the ticket, send the mail and log it.
    tenant
        .store
        .user_exists(&connection.name, email.as_str())
        .await?;
    let (background, client, requester) = (tenant.clone(), client.clone(), requester.clone());
    let connection = connection.name.clone();
    tenant.in_background(async move {
        let tenant = background;
        // The mail bucket is taken after the answer, so its state cannot shape the answer's
        // time either.
        match take_reset_token(&tenant, &recipient, RESET_MAILS_PER_ADDRESS, now).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not take a password-reset mail token");
                return;
            }
        }
        let user = match tenant
            .store
            .user_by_email(&connection, email.as_str())
            .await
        {
            Ok(Some(user)) => user,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the user of a password reset");
                return;
            }
        };
        match reset_link(&tenant, &user, None, DEFAULT_TICKET_LIFETIME_SECS, false).await {
            Ok(url) => {
                tenant.send_template(TemplateName::ResetEmail, &user, Some(&url));
                let event = LogEvent::new(LogType::SuccessChangePasswordRequest, now)
                    .client(&client)
                    .requester(&requester)
                    .user(&user);
                tenant.record(event).await;
            }
            Err(e) => tracing::warn!(error = %e, "could not issue a password-reset ticket"),
        }
    });
    Ok(())
}

/// The throttle stage of password-reset requests; keys are `ip:…` and `email:…`.
const RESET_STAGE: &str = "change-password";
/// Reset requests per client address, one more every [`RESET_REFILL_MILLIS`] / 10.
const RESET_REQUESTS_PER_IP: i64 = 50;
/// Reset mails per e-mail address, one more every [`RESET_REFILL_MILLIS`] / 5.
const RESET_MAILS_PER_ADDRESS: i64 = 5;
/// The buckets refill completely within an hour.
const RESET_REFILL_MILLIS: i64 = 3_600_000;

/// Takes a token of the reset bucket `key` holding `max` (refilled within the hour).
async fn take_reset_token(tenant: &Tenant, key: &str, max: i64, now: i64) -> Result<bool, Error> {
    let rate = RESET_REFILL_MILLIS / max;
    Ok(tenant
        .store
        .take_throttle_token(RESET_STAGE, key, now, rate, rate * max)
        .await?
        .is_some())
}

/// Issues a reset ticket; the link Auth0 gives (`…/lo/reset?ticket=…#`).
pub async fn reset_link(
    tenant: &Tenant,
    user: &UserRecord,
    result_url: Option<&str>,
    ttl_secs: i64,
    mark_email_as_verified: bool,
) -> Result<String, Error> {
    let mut payload = Map::new();
    if let Some(url) = result_url {
        payload.insert("result_url".into(), Value::from(url));
    }
    payload.insert(
        "mark_email_as_verified".into(),
        Value::from(mark_email_as_verified),
    );
    // The link works for this address and this password only, and replaces earlier links.
    tickets::bind(&mut payload, &TicketBinding::of(user, true));
    let ttl = if ttl_secs <= 0 {
        DEFAULT_TICKET_LIFETIME_SECS
    } else {
        ttl_secs
    };
    tenant
        .store
        .void_tickets(
            &user.user_id(),
            TicketKind::ResetPassword.as_str(),
            tenant.clock.now_millis(),
        )
        .await?;
    let token = tickets::issue(
        tenant,
        TicketKind::ResetPassword,
        &user.user_id(),
        payload,
        ttl,
    )
    .await?;
    Ok(format!("{}lo/reset?ticket={token}#", tenant.config.issuer))
}

/// The user a reset link is for, if the link is still good.
pub async fn reset_target(tenant: &Tenant, token: &str) -> Result<Option<UserRecord>, Error> {
    let Some(ticket) = tickets::peek(tenant, TicketKind::ResetPassword, token).await? else {
        return Ok(None);
    };
    match users::get(tenant, &ticket.user_id).await {
        Ok(user) if tickets::binding_of(&ticket).is_some_and(|b| b.holds_for(&user)) => {
            Ok(Some(user))
        }
        Ok(_) => Ok(None),
        Err(Error::UserNotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sets the new password of a reset link. The ticket is used only by a successful change, so
/// a password the rules refuse leaves the link working. Returns the ticket's `result_url`.
pub async fn reset_password(
    tenant: &Tenant,
    token: &str,
    new_password: &str,
    requester: &Requester,
) -> Result<Option<String>, Error> {
    let ticket = tickets::peek(tenant, TicketKind::ResetPassword, token)
        .await?
        .ok_or(Error::InvalidTicket)?;
    let actor = Actor::user(requester);
    let mark_verified = ticket.payload.get("mark_email_as_verified") == Some(&Value::Bool(true));
    // Bound to the address and the password it was issued for: once either changed (by an
    // earlier use of this link, in parallel too, or any other change) it is refused.
    let binding = tickets::binding_of(&ticket).ok_or(Error::InvalidTicket)?;
    let patch = UserPatch {
        password: Some(new_password.to_owned()),
        email_verified: mark_verified.then_some(true),
        precondition: Some(binding),
        ..UserPatch::default()
    };
    let user = users::update(tenant, &ticket.user_id, patch, &actor).await?;
    crate::flows::extensibility::post_change_password(tenant, &user, requester);
    // A concurrent reset with the same link may have won; the password set here stands.
    tickets::redeem(tenant, TicketKind::ResetPassword, token).await?;
    unblock_user(
        tenant,
        &user,
        &actor,
        "User block released by a password reset",
    )
    .await?;
    Ok(ticket
        .payload
        .get("result_url")
        .and_then(Value::as_str)
        .map(str::to_owned))
}
