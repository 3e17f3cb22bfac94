//! Suspicious IP throttling in the flows: sign-ups take a token before anything else; a login
//! takes one before its password is checked and gives it back when the password was right, so
//! only failures count and no burst gets past the bucket.

use crate::attack::counting_address;
use crate::attack::throttle::ThrottleStage;
use crate::logs::{Actor, LogEvent, LogType, Requester};
use crate::{Error, Tenant};

fn blocked_event(tenant: &Tenant, stage: ThrottleStage, requester: &Requester) -> LogEvent {
    let flow = match stage {
        ThrottleStage::PreLogin => "login",
        ThrottleStage::PreUserRegistration => "signup",
    };
    LogEvent::new(LogType::BlockedIpAddress, tenant.clock.now_millis())
        .requester(requester)
        .description(match stage {
            ThrottleStage::PreLogin => "Too many failed logins from this IP address",
            ThrottleStage::PreUserRegistration => "Too many sign-ups from this IP address",
        })
        .detail("flow", flow)
}

/// The address whose bucket counts this request, if any (throttling on, address known and
/// not allowlisted), as it is counted (an IPv6 client by its /64).
fn counted_address(tenant: &Tenant, requester: &Requester) -> Option<String> {
    let policy = &tenant.config.throttle;
    requester
        .ip
        .as_deref()
        .filter(|ip| policy.applies_to(Some(ip)))
        .map(counting_address)
}

/// Takes one token for an event at `stage` before the event's work is done; refuses (with the
/// `block` shield) when none is left, so a parallel burst admits exactly `max_attempts`. The
/// administrator is told once, when an admission takes the last token. Events of allowlisted
/// or unknown addresses are not counted. Returns whether a token was taken (to give back with
/// [`give_back`] when the event turns out not to count).
pub async fn admit(
    tenant: &Tenant,
    stage: ThrottleStage,
    requester: &Requester,
) -> Result<bool, Error> {
    let policy = &tenant.config.throttle;
    let Some(ip) = counted_address(tenant, requester) else {
        return Ok(false);
    };
    let bucket = policy.bucket(stage);
    let now = tenant.clock.now_millis();
    let admitted = tenant
        .store
        .take_throttle_token(
            stage.as_str(),
            &ip,
            now,
            bucket.rate_millis,
            bucket.limit_millis(),
        )
        .await?;
    match admitted {
        Some(tat) => {
            if policy.notify_admin && bucket.is_full(Some(tat), now) {
                tenant.notify_admin(
                    "suspicious IP address throttled",
                    format!(
                        "The address {ip} reached the {} limit of suspicious IP throttling ({} attempts).\n\
                         Lift it with DELETE /api/v2/anomaly/blocks/ips/{ip} if it is legitimate.\n",
                        stage.as_str(),
                        bucket.max_attempts
                    ),
                );
            }
            Ok(true)
        }
        None => {
            tenant.record(blocked_event(tenant, stage, requester)).await;
            if policy.block {
                Err(Error::SuspiciousIp)
            } else {
                Ok(false)
            }
        }
    }
}

/// Gives back the token [`admit`] took for an event that does not count (a login whose
/// password was right, or one refused before its password was checked).
pub async fn give_back(
    tenant: &Tenant,
    stage: ThrottleStage,
    requester: &Requester,
) -> Result<(), Error> {
    let Some(ip) = counted_address(tenant, requester) else {
        return Ok(());
    };
    let rate = tenant.config.throttle.bucket(stage).rate_millis;
    tenant
        .store
        .return_throttle_token(stage.as_str(), &ip, rate)
        .await?;
    Ok(())
}

/// Whether `ip` is currently throttled at any stage (`GET /api/v2/anomaly/blocks/ips/{ip}`).
pub async fn is_blocked(tenant: &Tenant, ip: &str) -> Result<bool, Error> {
    let policy = &tenant.config.throttle;
    let now = tenant.clock.now_millis();
    let ip = counting_address(ip);
    for stage in [ThrottleStage::PreLogin, ThrottleStage::PreUserRegistration] {
        let tat = tenant.store.throttle_state(stage.as_str(), &ip).await?;
        if tat.is_some() && policy.bucket(stage).is_full(tat, now) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Lifts the throttling of `ip` (`DELETE /api/v2/anomaly/blocks/ips/{ip}`).
pub async fn unblock(tenant: &Tenant, ip: &str, actor: &Actor) -> Result<(), Error> {
    if tenant.store.clear_throttle(&counting_address(ip)).await? {
        let event = LogEvent::new(LogType::SuccessApiOperation, tenant.clock.now_millis())
            .actor(actor)
            .description(format!("Unblock an IP address ({ip})"));
        tenant.record(event).await;
    }
    Ok(())
}
