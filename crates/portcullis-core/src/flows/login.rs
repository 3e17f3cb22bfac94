//! Resource-owner password login (`password` and Auth0's `password-realm` grants). A login
//! costs exactly one password hash: an unknown user is verified against the dummy hash and
//! answers exactly as a wrong password does. Whether the user is blocked, or the password
//! breached, is only revealed to someone who knows the password.

use crate::attack::breach::BreachStage;
use crate::attack::brute_force::{AfterAttempt, AttemptKey, BeforeAttempt, lapsed_before};
use crate::attack::throttle::ThrottleStage;
use crate::config::Client;
use crate::flows::extensibility::{self, CustomClaims, LoginProtocol};
use crate::flows::screening::{Screening, screen_password};
use crate::flows::throttle;
use crate::identity::Email;
use crate::logs::{LogEvent, LogType, Requester};
use crate::mail::TemplateName;
use crate::mfa::PendingLogin;
use crate::user::UserRecord;
use crate::{Error, Tenant};

#[derive(Debug, Clone)]
pub struct PasswordLogin {
    /// The connection (`realm`); without one, the tenant's `default_directory`. The
    /// password-realm grant requires it, and some libraries send it with the plain grant too.
    pub realm: Option<String>,
    pub username: String,
    pub password: String,
    pub requester: Requester,
    /// What the login asks for, kept with the `mfa_token` when a second factor is needed.
    pub pending: PendingLogin,
    /// Whether the password was typed into the hosted login page (logged as Auth0's `s`)
    /// rather than exchanged at `/oauth/token` (`sepft`).
    pub on_login_page: bool,
}

/// A login that passed: the user, and the claims its Actions and Rules added.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: UserRecord,
    pub claims: CustomClaims,
}

/// A password login under every protection, counted by outcome for the operator's metrics
/// (`portcullis_logins_total{outcome}`).
pub async fn password_login(
    tenant: &Tenant,
    client: &Client,
    grant_type: &str,
    login: &PasswordLogin,
) -> Result<LoggedIn, Error> {
    let result = checked_password_login(tenant, client, grant_type, login).await;
    let outcome = match &result {
        Ok(_) => "success",
        Err(Error::WrongCredentials { .. }) => "wrong_credentials",
        Err(Error::UserBlocked) => "blocked",
        Err(Error::TooManyAttempts) => "too_many_attempts",
        Err(Error::SuspiciousIp) => "suspicious_ip",
        Err(Error::PasswordLeaked) => "password_leaked",
        Err(Error::MfaRequired { .. } | Error::MfaRegistrationRequired { .. }) => "mfa_required",
        Err(
            Error::LoginDenied { .. } | Error::RuleUnauthorized { .. } | Error::ScriptFailed(_),
        ) => "denied_by_script",
        Err(_) => "error",
    };
    metrics::counter!("portcullis_logins_total", "outcome" => outcome).increment(1);
    result
}

async fn checked_password_login(
    tenant: &Tenant,
    client: &Client,
    grant_type: &str,
    login: &PasswordLogin,
) -> Result<LoggedIn, Error> {
    let now = tenant.clock.now_millis();
    let event = |kind| {
        LogEvent::new(kind, now)
            .client(client)
            .requester(&login.requester)
    };
    let identifier = login.username.trim();
    let failed = |kind, description: String| {
        event(kind)
            .user_name(identifier)
            .description(description)
            .detail("error", serde_json::json!({"message": "login failed"}))
    };

    let connection = match resolve_connection(tenant, client, grant_type, login) {
        Ok(c) => c,
        Err(e) => {
            tenant
                .record(failed(LogType::FailedExchangePassword, e.to_string()))
                .await;
            return Err(e);
        }
    };
    // Every gate reserves before the hash and settles after it, each in one statement in the
    // database, so a parallel burst on any number of nodes gets exactly as many verdicts as
    // the limits allow. Suspicious IP throttling first: a failed login across accounts takes
    // a token of the address's bucket, and a right password gives it back.
    let throttled = match throttle::admit(tenant, ThrottleStage::PreLogin, &login.requester).await {
        Ok(taken) => taken,
        Err(e) => {
            tenant
                .record(failed(LogType::FailedLogin, e.to_string()).connection(&connection.name))
                .await;
            return Err(e);
        }
    };
    // Brute-force protection: the attempt counts as a failure before its hash; a blocked
    // identifier (from this IP, in the default mode), or one whose remaining attempts are all
    // in flight, is refused before any hash is spent on it.
    let policy = &tenant.config.brute_force;
    let attempt_key = policy
        .key(&connection.name, identifier, login.requester.ip.as_deref())
        .filter(|_| connection.brute_force_protection);
    let reserved = match (&attempt_key, policy.before_attempt(now)) {
        (
            Some(key),
            BeforeAttempt::Reserve {
                max_attempts,
                lapsed_before,
            },
        ) => {
            let slot = tenant
                .store
                .reserve_login_attempt(key, now, max_attempts, lapsed_before)
                .await?;
            if slot.is_none() {
                if throttled {
                    throttle::give_back(tenant, ThrottleStage::PreLogin, &login.requester).await?;
                }
                let e = failed(
                    LogType::FailedLogin,
                    "Too many failed login attempts".into(),
                )
                .connection(&connection.name);
                tenant.record(e).await;
                return Err(Error::TooManyAttempts);
            }
            slot
        }
        _ => None,
    };
    // What a request gives back: its brute-force reservation, and with `throttle_token` (it
    // ended without a verdict on the password) the address's throttle token too.
    let requester = &login.requester;
    let give_back = |throttle_token: bool| {
        let attempt_key = &attempt_key;
        async move {
            if throttle_token && throttled {
                throttle::give_back(tenant, ThrottleStage::PreLogin, requester).await?;
            }
            if let (Some(key), Some(_)) = (attempt_key, reserved) {
                tenant.store.return_login_attempt(key).await?;
            }
            Ok::<(), Error>(())
        }
    };

    let user = if connection.requires_username && !identifier.contains('@') {
        tenant
            .store
            .user_by_username(&connection.name, &identifier.to_lowercase())
            .await?
    } else {
        match Email::parse(identifier) {
            Some(email) => {
                tenant
                    .store
                    .user_by_email(&connection.name, email.as_str())
                    .await?
            }
            None => None,
        }
    };
    let verified = match tenant
        .hasher
        .verify(
            &login.password,
            user.as_ref().map(|u| u.password_hash.as_str()),
        )
        .await
    {
        Ok(verified) => verified,
        Err(e) => {
            give_back(true).await?;
            return Err(e.into());
        }
    };
    let wrong = Error::WrongCredentials {
        by_username: connection.requires_username,
    };
    if verified {
        // A right password is not a failed login for the address's bucket.
        if throttled {
            throttle::give_back(tenant, ThrottleStage::PreLogin, &login.requester).await?;
        }
    } else if let Some(key) = &attempt_key {
        match policy.after_attempt(reserved, false) {
            AfterAttempt::Block => {
                if tenant
                    .store
                    .block_login_key(key, now, policy.max_attempts)
                    .await?
                {
                    announce_block(tenant, key, user.as_ref(), &login.requester, client).await?;
                }
            }
            AfterAttempt::CountFailure => {
                count_failure(tenant, key, user.as_ref(), &login.requester, client).await?;
            }
            AfterAttempt::Counted | AfterAttempt::Settle { .. } | AfterAttempt::Clear => {}
        }
    }
    // A right password refused for another reason below gives its brute-force attempt back.
    let user = match user {
        Some(user) if verified => user,
        Some(user) => {
            let e = failed(
                LogType::FailedLoginIncorrectPassword,
                "Wrong email or password.".into(),
            )
            .user(&user)
            .user_name(identifier);
            tenant.record(e).await;
            return Err(wrong);
        }
        None => {
            let e = failed(
                LogType::FailedLoginInvalidUser,
                "Wrong email or password.".into(),
            )
            .connection(&connection.name);
            tenant.record(e).await;
            return Err(wrong);
        }
    };
    if user.is_blocked() {
        give_back(false).await?;
        tenant
            .record(failed(LogType::FailedLogin, "user is blocked".into()).user(&user))
            .await;
        return Err(Error::UserBlocked);
    }
    let screening = screen_password(tenant, &login.password, BreachStage::Login).await;
    if matches!(
        screening,
        Ok(Screening::Breached) | Err(Error::PasswordLeaked)
    ) {
        // Auth0's `pwd_leak`, and the `user_notification` shield's mail, whether or not the
        // `block` shield refuses the login.
        tenant
            .record(event(LogType::BreachedPasswordLogin).user(&user))
            .await;
        if tenant.config.breach_policy.notify_user {
            tenant.send_template(TemplateName::StolenCredentials, &user, None);
        }
    }
    if let Err(e) = screening {
        give_back(false).await?;
        tenant
            .record(failed(LogType::FailedLogin, e.to_string()).user(&user))
            .await;
        return Err(e);
    }
    // A successful password check resets the count (Auth0's rule), its own reservation too.
    if let Some(key) = &attempt_key {
        match policy.after_attempt(reserved, true) {
            AfterAttempt::Settle { slot } => tenant.store.settle_login_success(key, slot).await?,
            AfterAttempt::Clear => tenant.store.clear_login_failures(key).await?,
            AfterAttempt::Block | AfterAttempt::Counted | AfterAttempt::CountFailure => {}
        }
    }
    // The tenant's Rules and post-login Actions may refuse, add claims or ask for MFA.
    let mut user = user;
    let protocol = if login.on_login_page {
        LoginProtocol::WebLogin
    } else {
        LoginProtocol::Password
    };
    let decision = match extensibility::post_login(
        tenant,
        client,
        &mut user,
        &login.requester,
        protocol,
        login.pending.scope.as_deref(),
    )
    .await
    {
        Ok(decision) => decision,
        Err(e) => {
            let kind = if login.on_login_page {
                LogType::FailedLogin
            } else {
                LogType::FailedExchangePassword
            };
            tenant.record(failed(kind, e.to_string()).user(&user)).await;
            return Err(e);
        }
    };
    let mut pending = login.pending.clone();
    pending.claims = decision.claims.clone();
    // The second factor, when the tenant's policy or a script demands one: no tokens yet,
    // an mfa_token.
    if let Err(e) = crate::flows::mfa::require_second_factor(
        tenant,
        client,
        &user,
        pending,
        login.on_login_page,
        decision.multifactor,
    )
    .await
    {
        if matches!(
            e,
            Error::MfaRequired { .. } | Error::MfaRegistrationRequired { .. }
        ) {
            tenant.record(event(LogType::MfaRequired).user(&user)).await;
        }
        return Err(e);
    }
    tenant
        .store
        .record_login(&user.id, now, login.requester.ip.as_deref(), &{
            let success = event(if login.on_login_page {
                LogType::SuccessLogin
            } else {
                LogType::SuccessExchangePassword
            })
            .user(&user);
            // What the Actions and Rules printed (Auth0 shows it with the execution).
            if decision.logs.is_empty() {
                success
            } else {
                success.detail("actions", serde_json::json!({ "logs": decision.logs }))
            }
        })
        .await?;
    Ok(LoggedIn {
        user: UserRecord {
            logins_count: user.logins_count + 1,
            last_login: Some(now),
            last_ip: login.requester.ip.clone(),
            ..user
        },
        claims: decision.claims,
    })
}

/// The database connection of the hosted pages when `/authorize` named none: the tenant's
/// `default_directory`, else the first connection enabled for the client.
pub fn hosted_page_connection<'t>(tenant: &'t Tenant, client_id: &str) -> Result<&'t str, Error> {
    if let Some(name) = tenant.config.default_directory.as_deref() {
        return Ok(name);
    }
    tenant
        .config
        .connections
        .iter()
        .find(|c| c.is_enabled_for(client_id))
        .map(|c| c.name.as_str())
        .ok_or(Error::NoDefaultConnection)
}

fn resolve_connection<'t>(
    tenant: &'t Tenant,
    client: &Client,
    grant_type: &str,
    login: &PasswordLogin,
) -> Result<&'t crate::config::Connection, Error> {
    // The hosted page is reached through `/authorize`, which checked the client's grants.
    if !login.on_login_page && !client.allows_grant(grant_type) {
        return Err(Error::GrantTypeNotAllowed(grant_type.to_owned()));
    }
    let connection_name = match &login.realm {
        Some(realm) => realm.as_str(),
        None if login.on_login_page => hosted_page_connection(tenant, &client.client_id)?,
        None => tenant
            .config
            .default_directory
            .as_deref()
            .ok_or(Error::NoDefaultConnection)?,
    };
    let connection = tenant
        .config
        .connection(connection_name)
        .ok_or(Error::UnknownConnection)?;
    if !connection.is_enabled_for(&client.client_id) {
        return Err(Error::ConnectionDisabledForClient {
            client_id: client.client_id.clone(),
            connection: connection.name.clone(),
        });
    }
    Ok(connection)
}

/// Counts a failed login after the fact (brute-force protection without the `block` shield,
/// which refuses nothing); the failure that reaches `max_attempts` marks the key blocked.
async fn count_failure(
    tenant: &Tenant,
    key: &AttemptKey,
    user: Option<&UserRecord>,
    requester: &Requester,
    client: &Client,
) -> Result<(), Error> {
    let policy = &tenant.config.brute_force;
    let now = tenant.clock.now_millis();
    let count = tenant
        .store
        .record_login_failure(key, now, policy.max_attempts, lapsed_before(now))
        .await?;
    if !policy.blocks_at(count.failures) {
        return Ok(());
    }
    announce_block(tenant, key, user, requester, client).await
}

/// A key just blocked: logged as `limit_wc`, and the user mailed an unblock link when the
/// `user_notification` shield is on.
async fn announce_block(
    tenant: &Tenant,
    key: &AttemptKey,
    user: Option<&UserRecord>,
    requester: &Requester,
    client: &Client,
) -> Result<(), Error> {
    let policy = &tenant.config.brute_force;
    let now = tenant.clock.now_millis();
    let mut event = LogEvent::new(LogType::BlockedAccount, now)
        .client(client)
        .requester(requester)
        .connection(&key.connection)
        .user_name(&key.identifier)
        .detail("max_attempts", policy.max_attempts);
    if let Some(user) = user {
        event = event.user(user);
    }
    tenant.record(event).await;
    if policy.notify_user
        && let Some(user) = user
    {
        crate::flows::unblock::notify_blocked_user(tenant, user).await?;
    }
    Ok(())
}
