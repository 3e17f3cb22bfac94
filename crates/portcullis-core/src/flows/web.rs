//! Web login: `/authorize` with the authorization-code flow and PKCE, the hosted login page's
//! session, the code exchange, and logout.

use serde::{Deserialize, Serialize};

use crate::codes_and_sessions::{
    AuthCodeRecord, CODE_LIFETIME_SECS, CodeGrant, SESSION_LIFETIME_SECS, SessionRecord,
};
use crate::config::{Client, grant};
use crate::flows::users;
use crate::logs::{LogEvent, LogType, Requester};
use crate::secret::{SecretDigest, random_token};
use crate::user::UserRecord;
use crate::{Error, Tenant};

/// A checked `/authorize` request: where to send the answer and what to grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub client_id: String,
    /// `code`, or the legacy implicit types (`token`, `id_token`, `id_token token`).
    #[serde(default)]
    pub response_type: ResponseType,
    pub response_mode: String,
    pub state: Option<String>,
    pub prompt: Option<String>,
    pub connection: Option<String>,
    pub login_hint: Option<String>,
    /// The longest time since the user last typed a password that still counts (seconds).
    #[serde(default)]
    pub max_age: Option<i64>,
    pub grant: CodeGrant,
    /// When the login page's transaction ends (milliseconds).
    pub expires_at: i64,
    /// Digest of the transaction cookie of the browser that started the login, so a form
    /// answer from any other browser is refused (login CSRF).
    #[serde(default)]
    pub browser_binding: String,
}

/// What `/authorize` answers with: a code (the authorization-code flow), or, for legacy
/// clients allowed the `implicit` grant, tokens in the fragment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseType {
    pub code: bool,
    pub access_token: bool,
    pub id_token: bool,
}

impl ResponseType {
    /// `response_type` as a space-separated set: `code`, or any of `token` and `id_token`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut kind = Self::default();
        for part in text.split(' ').filter(|p| !p.is_empty()) {
            let seen = match part {
                "code" => std::mem::replace(&mut kind.code, true),
                "token" => std::mem::replace(&mut kind.access_token, true),
                "id_token" => std::mem::replace(&mut kind.id_token, true),
                _ => return None,
            };
            if seen {
                return None;
            }
        }
        let implicit = kind.access_token || kind.id_token;
        // Hybrid flows (code with tokens) are not offered.
        (kind.code != implicit).then_some(kind)
    }

    pub fn is_implicit(self) -> bool {
        !self.code
    }
}

/// Binds `authorization` to the browser that will carry the returned cookie value.
pub fn bind_to_browser(authorization: &mut Authorization) -> String {
    let cookie = random_token(32);
    authorization.browser_binding = SecretDigest::of(&cookie).to_hex();
    cookie
}

/// Whether `cookie` is the transaction cookie `authorization` was bound to.
pub fn is_same_browser(authorization: &Authorization, cookie: Option<&str>) -> bool {
    let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 256) else {
        return false;
    };
    let digest = SecretDigest::of(cookie).to_hex();
    subtle::ConstantTimeEq::ct_eq(digest.as_bytes(), authorization.browser_binding.as_bytes())
        .into()
}

/// The raw parameters of `/authorize`.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub connection: Option<String>,
    pub login_hint: Option<String>,
    pub max_age: Option<String>,
}

/// The checks that decide whether errors may be sent back to the application at all: an
/// unknown client or an unregistered redirect URI is answered on an error page, never by a
/// redirect (no open redirects).
pub fn redirect_target<'t>(
    tenant: &'t Tenant,
    params: &AuthorizeParams,
) -> Result<(&'t Client, String), Error> {
    let client = params
        .client_id
        .as_deref()
        .and_then(|id| tenant.config.client(id))
        .ok_or(Error::UnknownClient)?;
    let redirect_uri = params
        .redirect_uri
        .clone()
        .ok_or(Error::InvalidRedirectUri)?;
    // Exact match against the registered callbacks, as Auth0 requires.
    if !client.callbacks.contains(&redirect_uri) {
        return Err(Error::InvalidRedirectUri);
    }
    // `web_message` posts the answer to the window of the callback's origin, which must be one
    // of the client's Allowed Web Origins.
    if params.response_mode.as_deref() == Some("web_message")
        && !client
            .web_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin_of(&redirect_uri))
    {
        return Err(Error::InvalidRedirectUri);
    }
    Ok((client, redirect_uri))
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(end) => &url[..after_scheme + end],
        None => url,
    }
}

/// The remaining checks, whose failures go back to the application.
pub fn check(
    tenant: &Tenant,
    client: &Client,
    redirect_uri: String,
    params: AuthorizeParams,
) -> Result<Authorization, Error> {
    let requested = params.response_type.clone().unwrap_or_default();
    let response_type = ResponseType::parse(&requested)
        .ok_or_else(|| Error::UnsupportedResponseType(requested.clone()))?;
    let required_grant = if response_type.is_implicit() {
        grant::IMPLICIT
    } else {
        grant::AUTHORIZATION_CODE
    };
    if !client.allows_grant(required_grant) {
        return Err(Error::GrantTypeNotAllowed(required_grant.to_owned()));
    }
    let method = params.code_challenge_method.clone();
    if response_type.is_implicit() {
        // An ID token in a URL must be bound to the request that asked for it (OIDC Core
        // §3.2.2.1), and tokens never travel in a query string.
        if response_type.id_token && params.nonce.as_deref().is_none_or(str::is_empty) {
            return Err(Error::NonceRequired);
        }
        if params.response_mode.as_deref() == Some("query") {
            return Err(Error::UnsupportedResponseType(format!(
                "{requested} with response_mode query"
            )));
        }
    } else {
        match (&params.code_challenge, method.as_deref()) {
            (Some(_), Some("S256")) => {}
            (Some(_), Some("plain") | None) if client.is_confidential() => {}
            (None, _) if client.is_confidential() => {}
            // Public clients must prove possession with S256 (RFC 9700 §2.1.1).
            _ => return Err(Error::PkceRequired),
        }
    }
    if let Some(audience) = params.audience.as_deref().filter(|a| !a.is_empty())
        && audience != tenant.config.userinfo_audience()
        && tenant.config.resource_server(audience).is_none()
    {
        return Err(Error::UnknownAudience(audience.to_owned()));
    }
    let response_mode = match params.response_mode.as_deref() {
        None if response_type.is_implicit() => "fragment",
        None | Some("query") => "query",
        Some("fragment") => "fragment",
        Some("form_post") => "form_post",
        Some("web_message") => "web_message",
        Some(other) => {
            return Err(Error::UnsupportedResponseType(format!(
                "response_mode {other}"
            )));
        }
    };
    Ok(Authorization {
        client_id: client.client_id.clone(),
        response_type,
        response_mode: response_mode.to_owned(),
        state: params.state,
        prompt: params.prompt,
        connection: params.connection,
        login_hint: params.login_hint,
        // A value that is not a non-negative number of seconds is ignored.
        max_age: params
            .max_age
            .as_deref()
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|v| *v >= 0),
        grant: CodeGrant {
            redirect_uri,
            scope: params.scope,
            audience: params.audience.filter(|a| !a.is_empty()),
            nonce: params.nonce,
            code_challenge: params.code_challenge,
            code_challenge_method: method,
            auth_time: None,
            claims: Default::default(),
        },
        expires_at: tenant.clock.now_millis() + CODE_LIFETIME_SECS * 1000,
        browser_binding: String::new(),
    })
}

/// Whether `user`'s connection is enabled for `client`: a login through a connection the
/// application does not use must not become its code or tokens, however the user got a
/// session (a password, a sign-up, or single sign-on from another application).
pub fn connection_enabled_for(tenant: &Tenant, client: &Client, user: &UserRecord) -> bool {
    tenant
        .config
        .connection(&user.connection)
        .is_some_and(|c| c.is_enabled_for(&client.client_id))
}

/// What follows an authentication on the hosted pages, before the application's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterLogin {
    /// Nothing more: answer the application.
    Answer,
    /// A second factor first, with this `mfa_token`; `enrolled`: whether the user has one.
    SecondFactor { mfa_token: String, enrolled: bool },
}

/// The one decision every way into a web session takes after the user proved who they are
/// (a browser session, a sign-up): the connection must be enabled for the client, the
/// post-login Rules and Actions run (their claims land in the authorization's grant), and a
/// second factor is asked for when the policy, a script or the MFA API audience wants one —
/// unless `second_factor_done` (the session's login already passed one).
pub async fn after_login(
    tenant: &Tenant,
    client: &Client,
    user: &mut UserRecord,
    authorization: &mut Authorization,
    requester: &Requester,
    second_factor_done: bool,
) -> Result<AfterLogin, Error> {
    if !connection_enabled_for(tenant, client, user) {
        return Err(Error::ConnectionDisabledForClient {
            client_id: client.client_id.clone(),
            connection: user.connection.clone(),
        });
    }
    let decision = crate::flows::extensibility::post_login(
        tenant,
        client,
        user,
        requester,
        crate::flows::extensibility::LoginProtocol::WebLogin,
        authorization.grant.scope.as_deref(),
    )
    .await?;
    authorization.grant.claims = decision.claims.clone();
    if second_factor_done {
        return Ok(AfterLogin::Answer);
    }
    let pending = crate::mfa::PendingLogin {
        scope: authorization.grant.scope.clone(),
        audience: authorization.grant.audience.clone(),
        nonce: authorization.grant.nonce.clone(),
        claims: decision.claims,
    };
    match crate::flows::mfa::require_second_factor(
        tenant,
        client,
        user,
        pending,
        true,
        decision.multifactor,
    )
    .await
    {
        Ok(()) => Ok(AfterLogin::Answer),
        Err(Error::MfaRequired {
            mfa_token,
            enrolled,
        }) => Ok(AfterLogin::SecondFactor {
            mfa_token,
            enrolled,
        }),
        Err(e) => Err(e),
    }
}

/// The fields of a successful answer to the application: a code, or (implicit) the tokens.
pub async fn answer_fields(
    tenant: &Tenant,
    user: &UserRecord,
    authorization: &Authorization,
    authenticated_at_millis: i64,
) -> Result<Vec<(&'static str, String)>, Error> {
    let client = tenant
        .config
        .client(&authorization.client_id)
        .ok_or(Error::UnknownClient)?;
    if !connection_enabled_for(tenant, client, user) {
        return Err(Error::ConnectionDisabledForClient {
            client_id: client.client_id.clone(),
            connection: user.connection.clone(),
        });
    }
    let kind = authorization.response_type;
    if !kind.is_implicit() {
        let code = issue_code(tenant, user, authorization, authenticated_at_millis).await?;
        return Ok(vec![("code", code)]);
    }
    let grant = &authorization.grant;
    let api = crate::flows::tokens::resolve_user_audience(tenant, grant.audience.as_deref())?;
    // The ID token carries only what its scope asks; `openid` is implied by `id_token`.
    let scope = match (&grant.scope, kind.id_token) {
        (Some(s), true) if !s.split(' ').any(|p| p == "openid") => Some(format!("openid {s}")),
        (None, true) => Some("openid".to_owned()),
        (scope, _) => scope.clone(),
    };
    let tokens = crate::flows::tokens::issue_user_tokens(
        tenant,
        client,
        user,
        api.as_ref(),
        crate::flows::tokens::TokenRequest {
            scope: scope.as_deref(),
            nonce: grant.nonce.as_deref(),
            auth_time: Some(authenticated_at_millis / 1000),
            claims: Some(&grant.claims),
        },
    )?;
    let mut fields = Vec::new();
    if kind.access_token {
        fields.push(("access_token", tokens.access_token));
        if let Some(scope) = tokens.scope {
            fields.push(("scope", scope));
        }
        fields.push(("expires_in", tokens.expires_in.to_string()));
        fields.push(("token_type", "Bearer".to_owned()));
    }
    if kind.id_token
        && let Some(id_token) = tokens.id_token
    {
        fields.push(("id_token", id_token));
    }
    Ok(fields)
}

pub async fn issue_code(
    tenant: &Tenant,
    user: &UserRecord,
    authorization: &Authorization,
    authenticated_at_millis: i64,
) -> Result<String, Error> {
    let code = random_token(32);
    let now = tenant.clock.now_millis();
    let mut grant = authorization.grant.clone();
    grant.auth_time = Some(authenticated_at_millis / 1000);
    tenant
        .store
        .insert_auth_code(&AuthCodeRecord {
            code_hash: SecretDigest::of(&code).to_hex(),
            client_id: authorization.client_id.clone(),
            user_id: user.user_id(),
            grant,
            created_at: now,
            expires_at: now + CODE_LIFETIME_SECS * 1000,
        })
        .await?;
    Ok(code)
}

/// The `authorization_code` grant: the code once, for its client and redirect URI, with the
/// PKCE verifier when a challenge was made. Logged as `seacft` / `feacft`.
pub async fn exchange_code(
    tenant: &Tenant,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    requester: &Requester,
) -> Result<(UserRecord, CodeGrant), Error> {
    let event = |kind| {
        LogEvent::new(kind, tenant.clock.now_millis())
            .client(client)
            .requester(requester)
    };
    match redeem_code(tenant, client, code, redirect_uri, code_verifier).await {
        Ok((user, grant)) => {
            tenant
                .record(event(LogType::SuccessExchangeAuthorizationCode).user(&user))
                .await;
            Ok((user, grant))
        }
        Err(e) => {
            tenant
                .record(event(LogType::FailedExchangeAuthorizationCode).description(e.to_string()))
                .await;
            Err(e)
        }
    }
}

async fn redeem_code(
    tenant: &Tenant,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<(UserRecord, CodeGrant), Error> {
    if code.is_empty() || code.len() > 256 {
        return Err(Error::InvalidAuthorizationCode);
    }
    let now = tenant.clock.now_millis();
    let record = tenant
        .store
        .consume_auth_code(&SecretDigest::of(code).to_hex(), now)
        .await?
        .ok_or(Error::InvalidAuthorizationCode)?;
    if record.client_id != client.client_id {
        return Err(Error::InvalidAuthorizationCode);
    }
    // `/authorize` always has a redirect_uri, so the exchange must name the same one.
    match redirect_uri {
        None => return Err(Error::RedirectUriRequired),
        Some(r) if r != record.grant.redirect_uri => return Err(Error::InvalidAuthorizationCode),
        Some(_) => {}
    }
    if let Some(challenge) = &record.grant.code_challenge {
        let verifier = code_verifier.ok_or(Error::CodeVerifierMismatch)?;
        let computed = match record.grant.code_challenge_method.as_deref() {
            Some("S256") => {
                use base64::Engine;
                use sha2::{Digest, Sha256};
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(Sha256::digest(verifier.as_bytes()))
            }
            _ => verifier.to_owned(),
        };
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into();
        if !matches {
            return Err(Error::CodeVerifierMismatch);
        }
    } else if !client.is_confidential() {
        return Err(Error::CodeVerifierMismatch);
    }
    let user = match users::get(tenant, &record.user_id).await {
        Ok(user) => user,
        Err(Error::UserNotFound) => return Err(Error::InvalidAuthorizationCode),
        Err(e) => return Err(e),
    };
    if user.is_blocked() {
        return Err(Error::UserBlocked);
    }
    Ok((user, record.grant))
}

/// Starts a browser session for `user` (`second_factor`: whether the login passed one);
/// returns the cookie value (stored hashed).
pub async fn start_session(
    tenant: &Tenant,
    user: &UserRecord,
    second_factor: bool,
) -> Result<String, Error> {
    let id = random_token(32);
    let now = tenant.clock.now_millis();
    tenant
        .store
        .insert_session(&SessionRecord {
            id_hash: SecretDigest::of(&id).to_hex(),
            user_id: user.user_id(),
            created_at: now,
            expires_at: now + SESSION_LIFETIME_SECS * 1000,
            mfa_at: second_factor.then_some(now),
        })
        .await?;
    Ok(id)
}

/// A live browser session: its user, when they logged in, and whether with a second factor.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub user: UserRecord,
    pub authenticated_at: i64,
    pub second_factor: bool,
}

/// What an existing browser session gives an `/authorize` request.
#[derive(Debug, Clone)]
pub enum SessionAnswer {
    /// Answer the application at once, for this user (as the post-login scripts left it).
    Answer {
        user: Box<UserRecord>,
        authenticated_at: i64,
    },
    /// Ask for the second factor on the hosted pages first.
    SecondFactor { mfa_token: String, enrolled: bool },
}

/// The decision for a request that arrives with a session: the same post-login path as every
/// login ([`after_login`]), where a second factor the session's login did not pass is asked
/// for — or, with `prompt=none` (no page may be shown), `mfa_required` goes back.
pub async fn answer_with_session(
    tenant: &Tenant,
    client: &Client,
    session: BrowserSession,
    authorization: &mut Authorization,
    requester: &Requester,
) -> Result<SessionAnswer, Error> {
    let mut user = session.user;
    match after_login(
        tenant,
        client,
        &mut user,
        authorization,
        requester,
        session.second_factor,
    )
    .await?
    {
        AfterLogin::Answer => Ok(SessionAnswer::Answer {
            user: Box::new(user),
            authenticated_at: session.authenticated_at,
        }),
        AfterLogin::SecondFactor { .. } if authorization.prompt.as_deref() == Some("none") => {
            Err(Error::MfaRequired {
                mfa_token: String::new(),
                enrolled: false,
            })
        }
        AfterLogin::SecondFactor {
            mfa_token,
            enrolled,
        } => Ok(SessionAnswer::SecondFactor {
            mfa_token,
            enrolled,
        }),
    }
}

/// The live session of a session cookie, if any (and its user not blocked). With `max_age`
/// (seconds), a session whose login is older counts as none, so the user logs in again
/// (OpenID Connect Core §3.1.2.1).
pub async fn session_user(
    tenant: &Tenant,
    cookie: &str,
    max_age: Option<i64>,
) -> Result<Option<BrowserSession>, Error> {
    if cookie.is_empty() || cookie.len() > 256 {
        return Ok(None);
    }
    let Some(session) = tenant
        .store
        .session(
            &SecretDigest::of(cookie).to_hex(),
            tenant.clock.now_millis(),
        )
        .await?
    else {
        return Ok(None);
    };
    if let Some(max_age) = max_age
        && tenant.clock.now_millis() - session.created_at > max_age.saturating_mul(1000)
    {
        return Ok(None);
    }
    match users::get(tenant, &session.user_id).await {
        Ok(user) if !user.is_blocked() => Ok(Some(BrowserSession {
            user,
            authenticated_at: session.created_at,
            second_factor: session.mfa_at.is_some(),
        })),
        Ok(_) | Err(Error::UserNotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /v2/logout`: ends the session. With a `client_id`, `returnTo` must be one of that
/// application's `allowed_logout_urls` (exactly), and without one the user goes to the first
/// of them when `default_to_first` (Auth0's `/v2/logout`); without a `client_id`, `returnTo`
/// must be one of the tenant's.
pub async fn logout(
    tenant: &Tenant,
    cookie: Option<&str>,
    client_id: Option<&str>,
    return_to: Option<&str>,
    default_to_first: bool,
    requester: &Requester,
) -> Result<Option<String>, Error> {
    let client = client_id.and_then(|id| tenant.config.client(id));
    let allowed = match client {
        Some(client) => &client.allowed_logout_urls,
        None => &tenant.config.allowed_logout_urls,
    };
    let target = match return_to {
        Some(url) if allowed.iter().any(|u| u == url) => Some(url.to_owned()),
        Some(url) => return Err(Error::InvalidReturnTo(url.to_owned())),
        None if default_to_first => client.and_then(|c| c.allowed_logout_urls.first().cloned()),
        None => None,
    };
    if let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 256) {
        let now = tenant.clock.now_millis();
        let id_hash = SecretDigest::of(cookie).to_hex();
        if let Some(session) = tenant.store.session(&id_hash, now).await? {
            tenant.store.revoke_session(&id_hash, now).await?;
            let mut event = LogEvent::new(LogType::SuccessLogout, now).requester(requester);
            if let Some(client) = client_id.and_then(|id| tenant.config.client(id)) {
                event = event.client(client);
            }
            match users::get(tenant, &session.user_id).await {
                Ok(user) => event = event.user(&user),
                Err(Error::UserNotFound) => {}
                Err(e) => return Err(e),
            }
            tenant.record(event).await;
        }
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::ResponseType;

    #[test]
    fn response_types_are_sets_of_code_or_tokens() {
        let code = ResponseType::parse("code").expect("code");
        assert!(!code.is_implicit());
        let both = ResponseType::parse("token id_token").expect("implicit");
        assert_eq!(ResponseType::parse("id_token token"), Some(both));
        assert!(both.is_implicit() && both.access_token && both.id_token);
        assert!(ResponseType::parse("id_token").is_some_and(|t| !t.access_token));
        for refused in [
            "",
            "code token",
            "code id_token",
            "token token",
            "device",
            "code  x",
        ] {
            assert_eq!(ResponseType::parse(refused), None, "{refused:?}");
        }
    }
}
