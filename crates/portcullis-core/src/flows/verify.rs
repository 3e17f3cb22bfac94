//! E-mail verification: the link mailed after sign-up (and by `POST /api/v2/jobs/verification-email`),
//! the Management API's verification tickets, and the hosted page that sets `email_verified`.

use serde_json::{Map, Value};

use crate::flows::reset::DEFAULT_TICKET_LIFETIME_SECS;
use crate::flows::users::{self, TicketBinding, UserPatch};
use crate::logs::{Actor, LogEvent, LogType, Requester};
use crate::mail::TemplateName;
use crate::tickets::{self, TicketKind};
use crate::user::UserRecord;
use crate::{Error, Tenant};

/// Issues a verification ticket; the link Auth0 gives (`…/u/email-verification?ticket=…#`).
pub async fn verification_link(
    tenant: &Tenant,
    user: &UserRecord,
    result_url: Option<&str>,
    ttl_secs: i64,
) -> Result<String, Error> {
    let mut payload = Map::new();
    if let Some(url) = result_url {
        payload.insert("result_url".into(), Value::from(url));
    }
    // The link verifies the address it was mailed to, never a later one.
    tickets::bind(&mut payload, &TicketBinding::of(user, false));
    let ttl = if ttl_secs <= 0 {
        DEFAULT_TICKET_LIFETIME_SECS
    } else {
        ttl_secs
    };
    let token = tickets::issue(
        tenant,
        TicketKind::VerifyEmail,
        &user.user_id(),
        payload,
        ttl,
    )
    .await?;
    Ok(format!(
        "{}u/email-verification?ticket={token}#",
        tenant.config.issuer
    ))
}

/// Mails the `verify_email` template with a fresh link.
pub async fn send_verification_email(tenant: &Tenant, user: &UserRecord) -> Result<(), Error> {
    let url = verification_link(tenant, user, None, DEFAULT_TICKET_LIFETIME_SECS).await?;
    tenant.send_template(TemplateName::VerifyEmail, user, Some(&url));
    Ok(())
}

/// Redeems a verification link: `email_verified` becomes true, `sv` is logged. Returns the
/// ticket's `result_url`; `Err(InvalidTicket)` for a bad, used or expired link.
pub async fn verify_email(
    tenant: &Tenant,
    token: &str,
    requester: &Requester,
) -> Result<Option<String>, Error> {
    let ticket = tickets::redeem(tenant, TicketKind::VerifyEmail, token)
        .await?
        .ok_or(Error::InvalidTicket)?;
    let actor = Actor::user(requester);
    let binding = tickets::binding_of(&ticket).ok_or(Error::InvalidTicket)?;
    let patch = UserPatch {
        email_verified: Some(true),
        precondition: Some(binding),
        ..UserPatch::default()
    };
    let user = users::update(tenant, &ticket.user_id, patch, &actor).await?;
    let event = LogEvent::new(LogType::SuccessVerificationEmail, tenant.clock.now_millis())
        .requester(requester)
        .user(&user);
    tenant.record(event).await;
    Ok(ticket
        .payload
        .get("result_url")
        .and_then(Value::as_str)
        .map(str::to_owned))
}
