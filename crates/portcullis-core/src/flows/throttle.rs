//! Suspicious IP throttling in the flows: sign-ups take a token before anything else; logins
//! are refused while the IP's failed-login bucket is full, and each failure takes a token.

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
/// not allowlisted).
fn counted_address<'r>(tenant: &Tenant, requester: &'r Requester) -> Option<&'r str> {
    let policy = &tenant.config.throttle;
    requester
        .ip
        .as_deref()
        .filter(|ip| policy.applies_to(Some(ip)))
}

/// Takes one token for an event at `stage`; refuses (with the `block` shield) when none is
/// left. Events of allowlisted or unknown addresses are not counted.
pub async fn admit(
    tenant: &Tenant,
    stage: ThrottleStage,
    requester: &Requester,
) -> Result<(), Error> {
    let policy = &tenant.config.throttle;
    let Some(ip) = counted_address(tenant, requester) else {
        return Ok(());
    };
    let bucket = policy.bucket(stage);
    let now = tenant.clock.now_millis();
    let admitted = tenant
        .store
        .take_throttle_token(
            stage.as_str(),
            ip,
            now,
            bucket.rate_millis,
            bucket.limit_millis(),
        )
        .await?;
    if admitted {
        return Ok(());
    }
    tenant.record(blocked_event(tenant, stage, requester)).await;
    if policy.notify_admin {
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
    if policy.block {
        Err(Error::SuspiciousIp)
    } else {
        Ok(())
    }
}

/// Refuses when the IP's bucket for `stage` is full, without taking a token.
pub async fn refuse_if_full(
    tenant: &Tenant,
    stage: ThrottleStage,
    requester: &Requester,
) -> Result<(), Error> {
    let policy = &tenant.config.throttle;
    let Some(ip) = counted_address(tenant, requester) else {
        return Ok(());
    };
    if !policy.block {
        return Ok(());
    }
    let tat = tenant.store.throttle_state(stage.as_str(), ip).await?;
    if policy.bucket(stage).is_full(tat, tenant.clock.now_millis()) {
        tenant.record(blocked_event(tenant, stage, requester)).await;
        return Err(Error::SuspiciousIp);
    }
    Ok(())
}

/// Whether `ip` is currently throttled at any stage (`GET /api/v2/anomaly/blocks/ips/{ip}`).
pub async fn is_blocked(tenant: &Tenant, ip: &str) -> Result<bool, Error> {
    let policy = &tenant.config.throttle;
    let now = tenant.clock.now_millis();
    for stage in [ThrottleStage::PreLogin, ThrottleStage::PreUserRegistration] {
        let tat = tenant.store.throttle_state(stage.as_str(), ip).await?;
        if tat.is_some() && policy.bucket(stage).is_full(tat, now) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Lifts the throttling of `ip` (`DELETE /api/v2/anomaly/blocks/ips/{ip}`).
pub async fn unblock(tenant: &Tenant, ip: &str, actor: &Actor) -> Result<(), Error> {
    if tenant.store.clear_throttle(ip).await? {
        let event = LogEvent::new(LogType::SuccessApiOperation, tenant.clock.now_millis())
            .actor(actor)
            .description(format!("Unblock an IP address ({ip})"));
        tenant.record(event).await;
    }
    Ok(())
}
