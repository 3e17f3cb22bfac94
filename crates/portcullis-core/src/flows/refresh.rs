//! Refresh tokens: issued with `offline_access` to clients allowed the `refresh_token` grant,
//! redeemed (and rotated, for rotating clients) by the grant, revoked by `/oauth/revoke`.

use crate::config::{Client, grant};
use crate::flows::users;
use crate::logs::{LogEvent, LogType, Requester};
use crate::refresh::RefreshTokenRecord;
use crate::secret::{SecretDigest, random_token};
use crate::user::UserRecord;
use crate::{Error, Tenant};

fn record_for(
    client: &Client,
    family_id: &str,
    user_id: &str,
    scope: &str,
    audience: Option<&str>,
    now: i64,
    expires_at: Option<i64>,
) -> (String, RefreshTokenRecord) {
    let token = random_token(32);
    let record = RefreshTokenRecord {
        token_hash: SecretDigest::of(&token).to_hex(),
        family_id: family_id.to_owned(),
        user_id: user_id.to_owned(),
        client_id: client.client_id.clone(),
        scope: scope.to_owned(),
        audience: audience.map(str::to_owned),
        created_at: now,
        expires_at,
        idle_expires_at: client.refresh.idle_token_lifetime.map(|s| now + s * 1000),
    };
    (token, record)
}

/// A new refresh token (a new family) when the scope asks `offline_access` and the client may
/// use the grant.
pub async fn issue(
    tenant: &Tenant,
    client: &Client,
    user: &UserRecord,
    scope: Option<&str>,
    audience: Option<&str>,
) -> Result<Option<String>, Error> {
    let scope = scope.unwrap_or("");
    if !scope.split_whitespace().any(|s| s == "offline_access")
        || !client.allows_grant(grant::REFRESH_TOKEN)
    {
        return Ok(None);
    }
    let now = tenant.clock.now_millis();
    let expires_at = client.refresh.token_lifetime.map(|s| now + s * 1000);
    let (token, record) = record_for(
        client,
        &random_token(12),
        &user.user_id(),
        scope,
        audience,
        now,
        expires_at,
    );
    tenant.store.insert_refresh_token(&record).await?;
    Ok(Some(token))
}

/// What a redeemed refresh token grants.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub user: UserRecord,
    pub scope: String,
    pub audience: Option<String>,
    /// The successor, for rotating clients.
    pub refresh_token: Option<String>,
}

/// The `refresh_token` grant. `requested_scope` may narrow the original scope, never widen it.
pub async fn redeem(
    tenant: &Tenant,
    client: &Client,
    token: &str,
    requested_scope: Option<&str>,
    requester: &Requester,
) -> Result<Refreshed, Error> {
    let now = tenant.clock.now_millis();
    let hash = SecretDigest::of(token).to_hex();
    let event = |kind| LogEvent::new(kind, now).client(client).requester(requester);
    let invalid = || async {
        tenant
            .record(
                event(LogType::FailedExchangeRefreshToken)
                    .description("Unknown or invalid refresh token."),
            )
            .await;
        Err(Error::InvalidRefreshToken)
    };
    // A token that cannot be used may be a rotated one shown again: then its family goes.
    let unusable = || async {
        match tenant.store.refresh_history(&hash).await? {
            Some(history) if history.is_reuse() => {
                tenant.store.revoke_family(&history.family_id, now).await?;
                reused(tenant, event(LogType::FailedRefreshReuse)).await
            }
            _ => invalid().await,
        }
    };
    // Look first without rotating: a token of another client is never touched.
    let (record, successor) = match tenant.store.usable_refresh_token(&hash, now).await? {
        Some(record) if record.client_id != client.client_id => {
            return invalid().await;
        }
        Some(record) if !client.refresh.rotating => (record, None),
        Some(record) => {
            // The successor keeps the family's absolute expiry.
            let (next, next_record) = record_for(
                client,
                &record.family_id,
                &record.user_id,
                &record.scope,
                record.audience.as_deref(),
                now,
                record.expires_at,
            );
            match tenant
                .store
                .rotate_refresh_token(&hash, now, &next_record)
                .await?
            {
                Some(record) => (record, Some(next)),
                // A concurrent redemption rotated it first: that is a reuse.
                None => return unusable().await,
            }
        }
        None => return unusable().await,
    };
    let user = match users::get(tenant, &record.user_id).await {
        Ok(user) => user,
        Err(Error::UserNotFound) => return Err(Error::RefreshUserGone),
        Err(e) => return Err(e),
    };
    if user.is_blocked() {
        return Err(Error::UserBlocked);
    }
    let scope = match requested_scope.filter(|s| !s.trim().is_empty()) {
        Some(requested) => requested
            .split_whitespace()
            .filter(|s| record.scope.split_whitespace().any(|o| o == *s))
            .collect::<Vec<_>>()
            .join(" "),
        None => record.scope.clone(),
    };
    tenant
        .record(event(LogType::SuccessExchangeRefreshToken).user(&user))
        .await;
    Ok(Refreshed {
        user,
        scope,
        audience: record.audience,
        refresh_token: successor,
    })
}

async fn reused(tenant: &Tenant, event: LogEvent) -> Result<Refreshed, Error> {
    tenant
        .record(event.description("Reused rotating refresh token detected; its family is revoked"))
        .await;
    Err(Error::InvalidRefreshToken)
}

/// `POST /oauth/revoke`: revokes the token's family if it is the client's; unknown tokens are
/// not an error (RFC 7009).
pub async fn revoke(
    tenant: &Tenant,
    client: &Client,
    token: &str,
    requester: &Requester,
) -> Result<(), Error> {
    let now = tenant.clock.now_millis();
    let hash = SecretDigest::of(token).to_hex();
    if tenant
        .store
        .revoke_refresh_family(&hash, &client.client_id, now)
        .await?
    {
        let event = LogEvent::new(LogType::RefreshTokenRevoked, now)
            .client(client)
            .requester(requester);
        tenant.record(event).await;
    }
    Ok(())
}
