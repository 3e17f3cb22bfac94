//! Screening a password against the breached-password corpus at one of Auth0's stages.

use crate::attack::breach::BreachStage;
use crate::{Error, Tenant};

/// What screening found, when the password was not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screening {
    /// Not found, or not looked up at this stage.
    Clean,
    /// Breached, but the stage only notifies.
    Breached,
}

/// Refuses `password` at `stage` when the tenant's policy blocks breached passwords there and
/// the corpus knows it. A failing lookup refuses too, unless the policy fails open.
pub async fn screen_password(
    tenant: &Tenant,
    password: &str,
    stage: BreachStage,
) -> Result<Screening, Error> {
    let policy = &tenant.config.breach_policy;
    let Some(corpus) = tenant.breach.as_ref().filter(|_| policy.checks(stage)) else {
        return Ok(Screening::Clean);
    };
    let found = corpus.is_breached(password).await;
    // Operators watch how often the corpus answers "breached", per stage.
    let result = match found {
        Ok(true) => "breached",
        Ok(false) => "clean",
        Err(_) => "unavailable",
    };
    metrics::counter!(
        "portcullis_breached_password_checks_total",
        "stage" => stage.as_str(),
        "result" => result
    )
    .increment(1);
    if matches!(found, Ok(true)) && policy.notifies_admin(stage) {
        tenant.notify_admin(
            "breached password detected",
            format!(
                "A password found in a public data breach was used at the {stage:?} stage. \
                 The user concerned should choose another one.\n"
            ),
        );
    }
    match found {
        Ok(true) if policy.blocks(stage) => Err(Error::PasswordLeaked),
        Ok(true) => Ok(Screening::Breached),
        Ok(false) => Ok(Screening::Clean),
        Err(e) if policy.fail_open => {
            tracing::warn!(error = %e, "breached-password lookup failed; failing open as configured");
            Ok(Screening::Clean)
        }
        Err(e) => {
            tracing::warn!(error = %e, "breached-password lookup failed; refusing as configured");
            Err(Error::BreachLookupUnavailable)
        }
    }
}
