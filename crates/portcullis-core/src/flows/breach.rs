//! Screening a password against the breached-password corpus at one of Auth0's stages.

use crate::attack::breach::BreachStage;
use crate::{Error, Tenant};

/// Refuses `password` at `stage` when the tenant's policy blocks breached passwords there and
/// the corpus knows it. A failing lookup refuses too, unless the policy fails open.
pub async fn screen_password(
    tenant: &Tenant,
    password: &str,
    stage: BreachStage,
) -> Result<(), Error> {
    let policy = &tenant.config.breach_policy;
    let Some(corpus) = tenant.breach.as_ref().filter(|_| policy.checks(stage)) else {
        return Ok(());
    };
    match corpus.is_breached(password).await {
        Ok(true) if policy.blocks(stage) => Err(Error::PasswordLeaked),
        // Notification-only shields: noted here; mail and tenant logs report it.
        Ok(true) => {
            tracing::info!(?stage, "breached password seen (notify shield)");
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(e) if policy.fail_open => {
            tracing::warn!(error = %e, "breached-password lookup failed; failing open as configured");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "breached-password lookup failed; refusing as configured");
            Err(Error::BreachLookupUnavailable)
        }
    }
}
