//! The second factor of a password login, through Auth0's MFA API and grants: a login that
//! needs MFA gets an `mfa_token` instead of tokens; with it the application enrolls a TOTP
//! authenticator (`/mfa/associate`), challenges (`/mfa/challenge`) and redeems a code
//! (`mfa-otp` grant) or the recovery code (`mfa-recovery-code` grant).

use crate::at_rest::Purpose;
use crate::config::{Client, grant};
use crate::flows::users;
use crate::logs::{LogEvent, LogType, Requester};
use crate::mfa::totp;
use crate::mfa::{
    AuthenticatorKind, AuthenticatorRecord, MFA_TOKEN_LIFETIME_SECS, MfaTokenRecord,
    OTP_ATTEMPT_REFILL_MILLIS, OTP_ATTEMPTS, OTP_THROTTLE_STAGE, PendingLogin,
    new_authenticator_id, new_recovery_code, recovery_code_hash,
};
use crate::secret::{SecretDigest, random_token};
use crate::user::UserRecord;
use crate::{Error, Tenant};

fn confirmed_otp(
    authenticators: &[AuthenticatorRecord],
) -> impl Iterator<Item = &AuthenticatorRecord> {
    authenticators
        .iter()
        .filter(|a| a.kind == AuthenticatorKind::Otp && a.confirmed)
}

/// After a correct password: nothing when MFA is not needed (neither the tenant's policy nor
/// an Action or Rule asks for it); otherwise the `mfa_token` the
/// application continues with — `mfa_required` when the user has a factor or the client can
/// enroll one through the MFA API, `mfa_registration_required` when it cannot.
pub async fn require_second_factor(
    tenant: &Tenant,
    client: &Client,
    user: &UserRecord,
    pending: PendingLogin,
    on_login_page: bool,
    asked_by_script: bool,
) -> Result<(), Error> {
    // A token for the MFA API manages the user's factors: once there is one, only a login
    // that passed it may have such a token, whatever the policy says (as on Auth0).
    let for_mfa_api = pending.audience.as_deref() == Some(tenant.config.mfa_audience().as_str());
    if !asked_by_script && !for_mfa_api && !policy(tenant).await?.required() {
        return Ok(());
    }
    let enrolled = confirmed_otp(&tenant.store.authenticators(&user.id).await?)
        .next()
        .is_some();
    if !asked_by_script && !enrolled && !policy(tenant).await?.required() {
        return Ok(());
    }
    let now = tenant.clock.now_millis();
    let token = format!("mfa_{}", random_token(32));
    let record = MfaTokenRecord {
        token_hash: SecretDigest::of(&token).to_hex(),
        user_id: user.user_id(),
        client_id: client.client_id.clone(),
        request: pending,
        created_at: now,
        expires_at: now + MFA_TOKEN_LIFETIME_SECS * 1000,
    };
    tenant.store.insert_mfa_token(&record).await?;
    // The hosted pages ask for the code themselves; an application needs the MFA grant.
    if !on_login_page && !client.allows_grant(grant::MFA_OTP) {
        return Err(Error::MfaRegistrationRequired { mfa_token: token });
    }
    Err(Error::MfaRequired {
        mfa_token: token,
        enrolled,
    })
}

/// The login an `mfa_token` stands for, and its user. A token of another client is refused.
pub async fn session(
    tenant: &Tenant,
    mfa_token: &str,
    client_id: Option<&str>,
) -> Result<(MfaTokenRecord, UserRecord), Error> {
    if mfa_token.is_empty() || mfa_token.len() > 256 {
        return Err(Error::InvalidMfaToken);
    }
    let hash = SecretDigest::of(mfa_token).to_hex();
    let record = tenant
        .store
        .mfa_token(&hash)
        .await?
        .ok_or(Error::InvalidMfaToken)?;
    if record.expires_at <= tenant.clock.now_millis() {
        return Err(Error::ExpiredMfaToken);
    }
    if client_id.is_some_and(|c| c != record.client_id) {
        return Err(Error::MfaTokenOfOtherClient);
    }
    let user = match users::get(tenant, &record.user_id).await {
        Ok(user) => user,
        Err(Error::UserNotFound) => return Err(Error::InvalidMfaToken),
        Err(e) => return Err(e),
    };
    if user.is_blocked() {
        return Err(Error::UserBlocked);
    }
    Ok((record, user))
}

/// What a call to the MFA API wants to do with the user's authenticators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MfaApiRight {
    Enroll,
    Read,
    Remove,
}

impl MfaApiRight {
    /// The scope an access token needs for it.
    fn scope(self) -> &'static [&'static str] {
        match self {
            Self::Enroll => &["enroll"],
            Self::Read => &["read:authenticators"],
            Self::Remove => &["remove:authenticators"],
        }
    }
}

/// The user behind a bearer credential of the MFA API: an access token for the MFA API
/// audience with the scope `right` needs, or, for enrolling the first factor and listing,
/// the `mfa_token` of a login waiting for its second factor.
async fn mfa_api_caller(
    tenant: &Tenant,
    bearer: &str,
    right: MfaApiRight,
) -> Result<UserRecord, Error> {
    let is_jwt = bearer.bytes().filter(|b| *b == b'.').count() == 2;
    if !is_jwt {
        return match right {
            MfaApiRight::Remove => Err(Error::InvalidToken(
                crate::tokens::TokenRejection::Malformed,
            )),
            MfaApiRight::Enroll | MfaApiRight::Read => Ok(session(tenant, bearer, None).await?.1),
        };
    }
    let config = &tenant.config;
    let claims = tenant
        .keys
        .verify(
            bearer,
            &config.issuer,
            &config.mfa_audience(),
            tenant.clock.now_secs(),
        )
        .map_err(Error::InvalidToken)?;
    if !right.scope().iter().any(|s| claims.has_scope(s)) {
        return Err(Error::InsufficientScope(right.scope()));
    }
    let user = match users::get(tenant, &claims.sub).await {
        Ok(user) => user,
        Err(Error::UserNotFound) => {
            return Err(Error::InvalidToken(
                crate::tokens::TokenRejection::Malformed,
            ));
        }
        Err(e) => return Err(e),
    };
    if user.is_blocked() {
        return Err(Error::UserBlocked);
    }
    Ok(user)
}

/// What `/mfa/associate` returns once.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub secret: String,
    pub barcode_uri: String,
    pub recovery_codes: Vec<String>,
}

/// A fresh pending TOTP authenticator (replacing an earlier pending one), unless the user
/// already has a confirmed one; logs `gd_start_enroll`. Returns the secret and its URI.
async fn start_otp_enrollment(
    tenant: &Tenant,
    user: &UserRecord,
    existing: &[AuthenticatorRecord],
) -> Result<(String, String), Error> {
    if confirmed_otp(existing).next().is_some() {
        return Err(Error::AlreadyEnrolled);
    }
    tenant
        .store
        .delete_pending_authenticators(&user.id, AuthenticatorKind::Otp.as_str())
        .await?;
    let now = tenant.clock.now_millis();
    let secret = totp::new_secret();
    let barcode_uri = totp::otpauth_uri(&secret, &tenant.config.tenant_name, &user.email)
        .ok_or_else(|| Error::Store(crate::store::StoreError::Internal("TOTP URI".into())))?;
    let id = new_authenticator_id(AuthenticatorKind::Otp);
    let sealed = tenant
        .at_rest
        .seal(Purpose::TotpSecret, &id, secret.as_bytes());
    tenant
        .store
        .insert_authenticator(&AuthenticatorRecord {
            id,
            user_id: user.id.clone(),
            kind: AuthenticatorKind::Otp,
            secret: Some(sealed),
            code_hash: None,
            confirmed: false,
            created_at: now,
            last_step: None,
        })
        .await?;
    tenant
        .record(LogEvent::new(LogType::GuardianStartEnroll, now).user(user))
        .await;
    Ok((secret, barcode_uri))
}

/// The TOTP secret of an authenticator, opened from its sealed form. One that does not open
/// (damaged, or sealed under a key this node lacks) accepts no code, and the operator hears.
fn totp_secret(tenant: &Tenant, authenticator: &AuthenticatorRecord) -> Option<String> {
    let stored = authenticator.secret.as_deref()?;
    match tenant
        .at_rest
        .open_text(Purpose::TotpSecret, &authenticator.id, stored)
    {
        Ok(secret) => Some(secret),
        Err(e) => {
            tracing::error!(authenticator = %authenticator.id, error = %e, "a TOTP secret does not open");
            None
        }
    }
}

/// A new recovery code for the user (stored hashed); returned once.
async fn insert_recovery_code(tenant: &Tenant, user_id: &str) -> Result<String, Error> {
    let code = new_recovery_code();
    tenant
        .store
        .insert_authenticator(&AuthenticatorRecord {
            id: new_authenticator_id(AuthenticatorKind::RecoveryCode),
            user_id: user_id.to_owned(),
            kind: AuthenticatorKind::RecoveryCode,
            secret: None,
            code_hash: Some(recovery_code_hash(&code)),
            confirmed: true,
            created_at: tenant.clock.now_millis(),
            last_step: None,
        })
        .await?;
    Ok(code)
}

/// `POST /mfa/associate` for `otp`: a new pending TOTP authenticator (replacing an earlier
/// pending one), and the recovery code at the first enrollment.
///
/// With an `mfa_token` this is the first enrollment of a login waiting for its second factor
/// (refused once the user has a confirmed factor); with an access token for the MFA API, the
/// token must carry `enroll`.
pub async fn associate(
    tenant: &Tenant,
    bearer: &str,
    authenticator_types: &[String],
) -> Result<Enrollment, Error> {
    let user = mfa_api_caller(tenant, bearer, MfaApiRight::Enroll).await?;
    let factors = policy(tenant).await?;
    if authenticator_types.is_empty()
        || authenticator_types.iter().any(|t| t != "otp")
        || !factors.otp
    {
        return Err(Error::UnsupportedAuthenticator(
            authenticator_types.join(","),
        ));
    }
    let existing = tenant.store.authenticators(&user.id).await?;
    let (secret, barcode_uri) = start_otp_enrollment(tenant, &user, &existing).await?;
    let mut recovery_codes = Vec::new();
    let has_recovery = existing
        .iter()
        .any(|a| a.kind == AuthenticatorKind::RecoveryCode);
    if factors.recovery_code && !has_recovery {
        recovery_codes.push(insert_recovery_code(tenant, &user.id).await?);
    }
    Ok(Enrollment {
        secret,
        barcode_uri,
        recovery_codes,
    })
}

/// `POST /mfa/challenge` for `otp`: nothing to send, the user reads the app.
pub async fn challenge(
    tenant: &Tenant,
    mfa_token: &str,
    client_id: &str,
    challenge_type: &str,
) -> Result<(), Error> {
    let (_, user) = session(tenant, mfa_token, Some(client_id)).await?;
    if !challenge_type.split_whitespace().any(|t| t == "otp") {
        return Err(Error::UnsupportedAuthenticator(challenge_type.to_owned()));
    }
    // A pending enrollment may be challenged too: its first code confirms it.
    let authenticators = tenant.store.authenticators(&user.id).await?;
    if authenticators
        .iter()
        .any(|a| a.kind == AuthenticatorKind::Otp)
    {
        Ok(())
    } else {
        Err(Error::NotEnrolled)
    }
}

/// `GET /mfa/authenticators`: with the `mfa_token` of a login (to choose what to challenge)
/// or an access token for the MFA API with `read:authenticators`.
pub async fn authenticators(
    tenant: &Tenant,
    bearer: &str,
) -> Result<Vec<AuthenticatorRecord>, Error> {
    let user = mfa_api_caller(tenant, bearer, MfaApiRight::Read).await?;
    Ok(tenant.store.authenticators(&user.id).await?)
}

/// `DELETE /mfa/authenticators/{id}`: only with an access token for the MFA API carrying
/// `remove:authenticators`, which a user with a factor gets only after passing it. An
/// `mfa_token` proves the password alone and can never remove a factor.
pub async fn delete_authenticator(tenant: &Tenant, bearer: &str, id: &str) -> Result<(), Error> {
    let user = mfa_api_caller(tenant, bearer, MfaApiRight::Remove).await?;
    if tenant
        .store
        .delete_authenticators(&user.id, Some(id))
        .await?
        == 0
    {
        return Err(Error::AuthenticatorNotFound);
    }
    Ok(())
}

fn gd_event(
    tenant: &Tenant,
    kind: LogType,
    client: &Client,
    requester: &Requester,
    user: &UserRecord,
) -> LogEvent {
    LogEvent::new(kind, tenant.clock.now_millis())
        .client(client)
        .requester(requester)
        .user(user)
}

/// Takes one attempt of the user's code bucket before a code is checked (in one statement,
/// so parallel guesses cannot pass it); `false` when none is left.
async fn take_otp_attempt(tenant: &Tenant, user_id: &str) -> Result<bool, Error> {
    Ok(tenant
        .store
        .take_throttle_token(
            OTP_THROTTLE_STAGE,
            user_id,
            tenant.clock.now_millis(),
            OTP_ATTEMPT_REFILL_MILLIS,
            OTP_ATTEMPTS * OTP_ATTEMPT_REFILL_MILLIS,
        )
        .await?
        .is_some())
}

/// A right code gives its attempt back.
async fn give_back_otp_attempt(tenant: &Tenant, user_id: &str) -> Result<(), Error> {
    tenant
        .store
        .return_throttle_token(OTP_THROTTLE_STAGE, user_id, OTP_ATTEMPT_REFILL_MILLIS)
        .await?;
    Ok(())
}

/// The `mfa-otp` grant: a right, unreplayed code of a TOTP authenticator completes the login
/// (and confirms a pending enrollment). Codes are checked under the user's attempt bucket
/// (ten, one back every six minutes), as Auth0's `gd_otp_rate_limit_exceed`.
pub async fn redeem_otp(
    tenant: &Tenant,
    client: &Client,
    mfa_token: &str,
    otp: &str,
    requester: &Requester,
    on_login_page: bool,
) -> Result<(UserRecord, PendingLogin), Error> {
    if !on_login_page && !client.allows_grant(grant::MFA_OTP) {
        return Err(Error::GrantTypeNotAllowed(grant::MFA_OTP.to_owned()));
    }
    let (record, user) = session(tenant, mfa_token, Some(&client.client_id)).await?;
    let now = tenant.clock.now_millis();
    if !take_otp_attempt(tenant, &user.id).await? {
        tenant
            .record(gd_event(
                tenant,
                LogType::GuardianOtpRateLimit,
                client,
                requester,
                &user,
            ))
            .await;
        return Err(Error::MfaTooManyAttempts);
    }
    let authenticators = tenant.store.authenticators(&user.id).await?;
    let now_secs = tenant.clock.now_secs();
    let matched = authenticators
        .iter()
        .filter(|a| a.kind == AuthenticatorKind::Otp)
        .find_map(|a| {
            totp_secret(tenant, a)
                .as_deref()
                .and_then(|s| totp::check(s, otp, now_secs))
                .map(|step| (a, step))
        });
    let (accepted, enrolling) = match matched {
        Some((authenticator, step)) => (
            tenant
                .store
                .accept_otp_step(&authenticator.id, step)
                .await?,
            !authenticator.confirmed,
        ),
        None => (false, false),
    };
    if !accepted {
        tenant
            .record(gd_event(
                tenant,
                LogType::GuardianAuthFailed,
                client,
                requester,
                &user,
            ))
            .await;
        return Err(Error::InvalidOtp);
    }
    give_back_otp_attempt(tenant, &user.id).await?;
    if !tenant
        .store
        .consume_mfa_token(&record.token_hash, now)
        .await?
    {
        return Err(Error::InvalidMfaToken);
    }
    if enrolling {
        tenant
            .record(gd_event(
                tenant,
                LogType::GuardianEnrollmentComplete,
                client,
                requester,
                &user,
            ))
            .await;
    }
    tenant
        .record(gd_event(
            tenant,
            LogType::GuardianAuthSucceeded,
            client,
            requester,
            &user,
        ))
        .await;
    let exchange = gd_event(
        tenant,
        LogType::SuccessExchangeMfaOtp,
        client,
        requester,
        &user,
    );
    tenant
        .store
        .record_login(&user.id, now, requester.ip.as_deref(), &exchange)
        .await?;
    Ok((user, record.request))
}

/// The `mfa-recovery-code` grant: the current recovery code completes the login once and is
/// replaced by a new one, returned to the application.
pub async fn redeem_recovery_code(
    tenant: &Tenant,
    client: &Client,
    mfa_token: &str,
    code: &str,
    requester: &Requester,
    on_login_page: bool,
) -> Result<(UserRecord, PendingLogin, String), Error> {
    if !on_login_page && !client.allows_grant(grant::MFA_RECOVERY_CODE) {
        return Err(Error::GrantTypeNotAllowed(
            grant::MFA_RECOVERY_CODE.to_owned(),
        ));
    }
    let (record, user) = session(tenant, mfa_token, Some(&client.client_id)).await?;
    let new_code = new_recovery_code();
    let rotated = tenant
        .store
        .rotate_recovery_code(
            &user.id,
            &recovery_code_hash(code),
            &recovery_code_hash(&new_code),
        )
        .await?;
    if !rotated {
        tenant
            .record(gd_event(
                tenant,
                LogType::GuardianRecoveryFailed,
                client,
                requester,
                &user,
            ))
            .await;
        return Err(Error::InvalidRecoveryCode);
    }
    let now = tenant.clock.now_millis();
    if !tenant
        .store
        .consume_mfa_token(&record.token_hash, now)
        .await?
    {
        return Err(Error::InvalidMfaToken);
    }
    tenant
        .record(gd_event(
            tenant,
            LogType::GuardianRecoverySucceeded,
            client,
            requester,
            &user,
        ))
        .await;
    let exchange = gd_event(
        tenant,
        LogType::SuccessExchangeMfaRecoveryCode,
        client,
        requester,
        &user,
    );
    tenant
        .store
        .record_login(&user.id, now, requester.ip.as_deref(), &exchange)
        .await?;
    Ok((user, record.request, new_code))
}

/// The user's authenticators (`/api/v2/users/{id}/authentication-methods`, `/enrollments`).
pub async fn user_authenticators(
    tenant: &Tenant,
    user_id: &str,
) -> Result<Vec<AuthenticatorRecord>, Error> {
    let user = users::get(tenant, user_id).await?;
    Ok(tenant.store.authenticators(&user.id).await?)
}

/// Deletes one authenticator of the user, or all of them (`Auth0: gd_unenroll`).
pub async fn delete_user_authenticators(
    tenant: &Tenant,
    user_id: &str,
    id: Option<&str>,
) -> Result<(), Error> {
    let user = users::get(tenant, user_id).await?;
    let deleted = tenant.store.delete_authenticators(&user.id, id).await?;
    if id.is_some() && deleted == 0 {
        return Err(Error::AuthenticatorNotFound);
    }
    if deleted > 0 {
        let event = LogEvent::new(LogType::GuardianUnenroll, tenant.clock.now_millis()).user(&user);
        tenant.record(event).await;
    }
    Ok(())
}

/// Removes the user's TOTP authenticators (`DELETE /api/v2/users/{id}/multifactor/google-authenticator`).
pub async fn delete_user_otp(tenant: &Tenant, user_id: &str) -> Result<(), Error> {
    let user = users::get(tenant, user_id).await?;
    for a in tenant.store.authenticators(&user.id).await? {
        if a.kind == AuthenticatorKind::Otp {
            tenant
                .store
                .delete_authenticators(&user.id, Some(&a.id))
                .await?;
        }
    }
    Ok(())
}

/// A new recovery code replacing the old one (`POST /api/v2/users/{id}/recovery-code-regeneration`).
pub async fn regenerate_recovery_code(tenant: &Tenant, user_id: &str) -> Result<String, Error> {
    let user = users::get(tenant, user_id).await?;
    for a in tenant.store.authenticators(&user.id).await? {
        if a.kind == AuthenticatorKind::RecoveryCode {
            tenant
                .store
                .delete_authenticators(&user.id, Some(&a.id))
                .await?;
        }
    }
    let code = insert_recovery_code(tenant, &user.id).await?;
    Ok(code)
}

/// The tenant's Guardian policy: the Management API's stored override, else the configuration.
pub async fn policy(tenant: &Tenant) -> Result<crate::mfa::MfaPolicy, Error> {
    Ok(match tenant.store.setting(crate::mfa::SETTING).await? {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| tenant.config.mfa.clone()),
        None => tenant.config.mfa.clone(),
    })
}

/// Stores a changed Guardian policy for every node.
pub async fn set_policy(tenant: &Tenant, policy: &crate::mfa::MfaPolicy) -> Result<(), Error> {
    let text = serde_json::to_string(policy)
        .map_err(|e| crate::store::StoreError::Internal(e.to_string()))?;
    tenant.store.put_setting(crate::mfa::SETTING, &text).await?;
    Ok(())
}

/// Guardian enrollment tickets live 5 days, as Auth0's.
pub const ENROLLMENT_TICKET_LIFETIME_SECS: i64 = 432_000;

/// `POST /api/v2/guardian/enrollments/ticket`: a link to the hosted enrollment page, mailed
/// to the user when asked. Returns the ticket id and URL.
pub async fn enrollment_ticket(
    tenant: &Tenant,
    user_id: &str,
    send_mail: bool,
) -> Result<(String, String), Error> {
    let user = users::get(tenant, user_id).await?;
    let token = crate::tickets::issue(
        tenant,
        crate::tickets::TicketKind::GuardianEnrollment,
        &user.user_id(),
        serde_json::Map::new(),
        ENROLLMENT_TICKET_LIFETIME_SECS,
    )
    .await?;
    let url = format!(
        "{}guardian-enrollment-ticket?ticket={token}",
        tenant.config.issuer
    );
    if send_mail {
        tenant.send_template(
            crate::mail::TemplateName::EnrollmentEmail,
            &user,
            Some(&url),
        );
    }
    Ok((token, url))
}

/// What the hosted enrollment page shows.
#[derive(Debug, Clone)]
pub struct EnrollmentPage {
    pub email: String,
    pub secret: String,
    pub barcode_uri: String,
}

async fn enrollment_user(tenant: &Tenant, token: &str) -> Result<UserRecord, Error> {
    let ticket = crate::tickets::peek(
        tenant,
        crate::tickets::TicketKind::GuardianEnrollment,
        token,
    )
    .await?
    .ok_or(Error::InvalidTicket)?;
    users::get(tenant, &ticket.user_id).await
}

/// Opens the hosted enrollment page: a fresh pending TOTP authenticator to scan.
pub async fn start_ticket_enrollment(
    tenant: &Tenant,
    token: &str,
) -> Result<EnrollmentPage, Error> {
    let user = enrollment_user(tenant, token).await?;
    let existing = tenant.store.authenticators(&user.id).await?;
    let (secret, barcode_uri) = start_otp_enrollment(tenant, &user, &existing).await?;
    Ok(EnrollmentPage {
        email: user.email,
        secret,
        barcode_uri,
    })
}

/// Confirms the page's enrollment with a code from the app; uses the ticket. Returns the
/// recovery code when this is the user's first.
pub async fn finish_ticket_enrollment(
    tenant: &Tenant,
    token: &str,
    code: &str,
) -> Result<Option<String>, Error> {
    let user = enrollment_user(tenant, token).await?;
    if !take_otp_attempt(tenant, &user.id).await? {
        return Err(Error::MfaTooManyAttempts);
    }
    let now_secs = tenant.clock.now_secs();
    let authenticators = tenant.store.authenticators(&user.id).await?;
    let matched = authenticators
        .iter()
        .filter(|a| a.kind == AuthenticatorKind::Otp && !a.confirmed)
        .find_map(|a| {
            totp_secret(tenant, a)
                .as_deref()
                .and_then(|s| totp::check(s, code, now_secs))
                .map(|step| (a, step))
        });
    let Some((authenticator, step)) = matched else {
        return Err(Error::InvalidOtp);
    };
    if !tenant
        .store
        .accept_otp_step(&authenticator.id, step)
        .await?
    {
        return Err(Error::InvalidOtp);
    }
    give_back_otp_attempt(tenant, &user.id).await?;
    crate::tickets::redeem(
        tenant,
        crate::tickets::TicketKind::GuardianEnrollment,
        token,
    )
    .await?;
    tenant
        .record(
            LogEvent::new(
                LogType::GuardianEnrollmentComplete,
                tenant.clock.now_millis(),
            )
            .user(&user),
        )
        .await;
    let has_recovery = authenticators
        .iter()
        .any(|a| a.kind == AuthenticatorKind::RecoveryCode);
    if policy(tenant).await?.recovery_code && !has_recovery {
        return Ok(Some(
            regenerate_recovery_code(tenant, &user.user_id()).await?,
        ));
    }
    Ok(None)
}
