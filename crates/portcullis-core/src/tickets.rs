//! Single-use tickets mailed to users (the unblock link; later password reset and e-mail
//! verification): a random token whose SHA-256 alone is stored, consumed atomically once.

use serde_json::{Map, Value};

use crate::flows::users::TicketBinding;
use crate::secret::{SecretDigest, random_token};
use crate::{Error, Tenant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    Unblock,
    ResetPassword,
    VerifyEmail,
    GuardianEnrollment,
    /// `/co/authenticate`'s `login_ticket`, redeemed at `/authorize`.
    LoginTicket,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unblock => "unblock",
            Self::ResetPassword => "reset_password",
            Self::VerifyEmail => "verify_email",
            Self::GuardianEnrollment => "guardian_enrollment",
            Self::LoginTicket => "login_ticket",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    pub id_hash: String,
    pub kind: String,
    pub user_id: String,
    pub payload: Map<String, Value>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Issues a ticket; returns the token to put in the link (never stored).
pub async fn issue(
    tenant: &Tenant,
    kind: TicketKind,
    user_id: &str,
    payload: Map<String, Value>,
    lifetime_secs: i64,
) -> Result<String, Error> {
    let token = random_token(32);
    let now = tenant.clock.now_millis();
    let record = TicketRecord {
        id_hash: SecretDigest::of(&token).to_hex(),
        kind: kind.as_str().to_owned(),
        user_id: user_id.to_owned(),
        payload,
        created_at: now,
        expires_at: now + lifetime_secs * 1000,
    };
    tenant.store.insert_ticket(&record).await?;
    Ok(token)
}

/// The stored form of a presented token; `None` for one no ticket can have.
fn hash_of(token: &str) -> Option<String> {
    (!token.is_empty() && token.len() <= 256).then(|| SecretDigest::of(token).to_hex())
}

/// Looks a ticket up without using it: `None` when unknown, used, expired or of another kind.
pub async fn peek(
    tenant: &Tenant,
    kind: TicketKind,
    token: &str,
) -> Result<Option<TicketRecord>, Error> {
    let Some(hash) = hash_of(token) else {
        return Ok(None);
    };
    Ok(tenant
        .store
        .ticket(&hash, kind.as_str(), tenant.clock.now_millis())
        .await?)
}

/// Consumes a ticket of `kind`: `None` when unknown, used, expired or of another kind.
pub async fn redeem(
    tenant: &Tenant,
    kind: TicketKind,
    token: &str,
) -> Result<Option<TicketRecord>, Error> {
    let Some(hash) = hash_of(token) else {
        return Ok(None);
    };
    Ok(tenant
        .store
        .consume_ticket(&hash, kind.as_str(), tenant.clock.now_millis())
        .await?)
}

/// The binding a ticket's payload names, if any (see [`TicketBinding`]).
pub fn binding_of(ticket: &TicketRecord) -> Option<TicketBinding> {
    let email = ticket.payload.get("email")?.as_str()?.to_owned();
    let credential = ticket
        .payload
        .get("credential")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(TicketBinding { email, credential })
}

/// Writes `binding` into a ticket's payload.
pub fn bind(payload: &mut Map<String, Value>, binding: &TicketBinding) {
    payload.insert("email".into(), Value::from(binding.email.clone()));
    if let Some(credential) = &binding.credential {
        payload.insert("credential".into(), Value::from(credential.clone()));
    }
}
