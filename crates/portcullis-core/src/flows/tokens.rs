//! Issuing tokens: Auth0's claims for user logins and for `client_credentials`.

use serde_json::{Map, Value};

use crate::clock::iso8601_millis;
use crate::config::{Client, ResourceServer, grant};
use crate::flows::extensibility::CustomClaims;
use crate::logs::{LogEvent, LogType, Requester};
use crate::tokens::{AccessClaims, Audience, IdClaims};
use crate::user::UserRecord;
use crate::{Error, Tenant};

/// What `/oauth/token` returns on success.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub expires_in: u64,
}

/// Scopes that concern the user's identity rather than an API.
const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// What an access token for the MFA API may carry (Auth0's MFA API scopes).
pub const MFA_API_SCOPES: &[&str] = &["enroll", "read:authenticators", "remove:authenticators"];

/// The API a user's access token is for: a configured resource server, the tenant's default
/// audience, or none (then the token is good for `/userinfo` only).
pub fn resolve_user_audience(
    tenant: &Tenant,
    audience: Option<&str>,
) -> Result<Option<ResourceServer>, Error> {
    let audience = audience
        .filter(|a| !a.is_empty())
        .or(tenant.config.default_audience.as_deref());
    match audience {
        None => Ok(None),
        Some(a) if a == tenant.config.userinfo_audience() => Ok(None),
        Some(a) => tenant
            .config
            .resource_server(a)
            .map(Some)
            .ok_or_else(|| Error::UnknownAudience(a.to_owned())),
    }
}

/// What a user's tokens carry beyond the user: the scope asked for, the ID token's `nonce`
/// and `auth_time`, and the claims Actions and Rules added.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenRequest<'a> {
    pub scope: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub auth_time: Option<i64>,
    pub claims: Option<&'a CustomClaims>,
}

pub fn issue_user_tokens(
    tenant: &Tenant,
    client: &Client,
    user: &UserRecord,
    api: Option<&ResourceServer>,
    request: TokenRequest<'_>,
) -> Result<TokenSet, Error> {
    let TokenRequest {
        scope: requested_scope,
        nonce,
        auth_time,
        claims,
    } = request;
    let no_claims = CustomClaims::default();
    let claims = claims.unwrap_or(&no_claims);
    let config = &tenant.config;
    let is_management = api.is_some_and(|a| a.identifier == config.management_audience());
    let is_mfa_api = api.is_some_and(|a| a.identifier == config.mfa_audience());
    // Without RBAC, Auth0 grants what is asked for an API; a user's token never carries the
    // Management API's administrative scopes, and one for the MFA API only its own.
    let grantable = |s: &str| match api {
        None => false,
        Some(_) if is_management => false,
        Some(_) if is_mfa_api => MFA_API_SCOPES.contains(&s),
        Some(_) => true,
    };
    let scopes: Vec<&str> = requested_scope
        .unwrap_or("")
        .split_whitespace()
        .filter(|s| OIDC_SCOPES.contains(s) || grantable(s))
        .fold(Vec::new(), |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        });
    let scope = scopes.join(" ");
    let wants_openid = scopes.contains(&"openid");
    let now = tenant.clock.now_secs();
    let (audience, expires_in) = match api {
        Some(api) if wants_openid => (
            Audience::Many(vec![api.identifier.clone(), config.userinfo_audience()]),
            api.token_lifetime_secs,
        ),
        Some(api) => (
            Audience::One(api.identifier.clone()),
            api.token_lifetime_secs,
        ),
        None => (
            Audience::One(config.userinfo_audience()),
            crate::config::DEFAULT_ACCESS_TOKEN_LIFETIME,
        ),
    };
    let access = AccessClaims {
        iss: config.issuer.clone(),
        sub: user.user_id(),
        aud: audience,
        iat: now,
        exp: now + expires_in as i64,
        scope: Some(scope.clone()),
        gty: None,
        azp: client.client_id.clone(),
        custom: CustomClaims::allowed(&claims.access_token),
    };
    // Without an API, Auth0 issues an opaque token good for /userinfo only.
    let access_token = if api.is_some() {
        tenant.keys.sign(&access)?
    } else {
        tenant.keys.seal_opaque(&access)?
    };
    let id_token = if wants_openid {
        let id = IdClaims {
            iss: config.issuer.clone(),
            sub: user.user_id(),
            aud: client.client_id.clone(),
            iat: now,
            exp: now + client.id_token_lifetime_secs as i64,
            nonce: nonce.map(str::to_owned),
            auth_time,
            profile: {
                let mut profile = profile_claims(user, &scopes);
                profile.extend(CustomClaims::allowed(&claims.id_token));
                profile
            },
        };
        Some(tenant.keys.sign(&id)?)
    } else {
        None
    };
    Ok(TokenSet {
        access_token,
        id_token,
        refresh_token: None,
        scope: (!scope.is_empty()).then_some(scope),
        expires_in,
    })
}

/// The OIDC standard claims the scopes allow, as Auth0 puts them in ID tokens and `/userinfo`.
pub fn profile_claims(user: &UserRecord, scopes: &[&str]) -> Map<String, Value> {
    let mut claims = Map::new();
    if scopes.contains(&"profile") {
        if let Some(v) = &user.given_name {
            claims.insert("given_name".into(), v.clone().into());
        }
        if let Some(v) = &user.family_name {
            claims.insert("family_name".into(), v.clone().into());
        }
        claims.insert("nickname".into(), user.nickname.clone().into());
        claims.insert("name".into(), user.name.clone().into());
        claims.insert("picture".into(), user.picture.clone().into());
        claims.insert("updated_at".into(), iso8601_millis(user.updated_at).into());
    }
    if scopes.contains(&"email") {
        claims.insert("email".into(), user.email.clone().into());
        claims.insert("email_verified".into(), user.email_verified.into());
    }
    claims
}

/// The `client_credentials` grant: a machine-to-machine token for an API the client has a
/// client grant for, carrying the requested subset of the granted scopes (all when none asked).
pub async fn client_credentials(
    tenant: &Tenant,
    client: &Client,
    audience: Option<&str>,
    requested_scope: Option<&str>,
    requester: &Requester,
) -> Result<TokenSet, Error> {
    let result = issue_client_credentials(tenant, client, audience, requested_scope);
    let now = tenant.clock.now_millis();
    let event = match &result {
        Ok(_) => LogEvent::new(LogType::SuccessExchangeClientCredentials, now),
        Err(e) => {
            LogEvent::new(LogType::FailedExchangeClientCredentials, now).description(e.to_string())
        }
    };
    let event = match audience {
        Some(a) => event.detail("audience", a),
        None => event,
    };
    tenant
        .record(event.client(client).requester(requester))
        .await;
    result
}

fn issue_client_credentials(
    tenant: &Tenant,
    client: &Client,
    audience: Option<&str>,
    requested_scope: Option<&str>,
) -> Result<TokenSet, Error> {
    if !client.allows_grant(grant::CLIENT_CREDENTIALS) || !client.is_confidential() {
        return Err(Error::GrantTypeNotAllowed(
            grant::CLIENT_CREDENTIALS.to_owned(),
        ));
    }
    let config = &tenant.config;
    let audience = audience
        .filter(|a| !a.is_empty())
        .or(config.default_audience.as_deref())
        .ok_or(Error::MissingAudience)?;
    // The MFA API acts for a user: no machine-to-machine token is ever good for it.
    let api = config
        .resource_server(audience)
        .filter(|api| api.identifier != config.mfa_audience())
        .ok_or_else(|| Error::AudienceNotEnabled(audience.to_owned()))?;
    let grant = config
        .client_grant(&client.client_id, &api.identifier)
        .ok_or_else(|| Error::AudienceNotGranted(api.identifier.clone()))?;
    let scopes: Vec<String> = match requested_scope.map(str::split_whitespace) {
        Some(requested) => {
            let requested: Vec<&str> = requested.collect();
            let missing: Vec<String> = requested
                .iter()
                .filter(|s| !grant.scope.iter().any(|g| g == *s))
                .map(|s| (*s).to_owned())
                .collect();
            if !missing.is_empty() {
                return Err(Error::ScopesNotGranted(missing));
            }
            let mut unique: Vec<String> = Vec::new();
            for s in requested {
                if !unique.iter().any(|u| u == s) {
                    unique.push(s.to_owned());
                }
            }
            unique
        }
        None => grant.scope.clone(),
    };
    let scope = scopes.join(" ");
    let now = tenant.clock.now_secs();
    let claims = AccessClaims {
        iss: config.issuer.clone(),
        sub: format!("{}@clients", client.client_id),
        aud: Audience::One(api.identifier.clone()),
        iat: now,
        exp: now + api.token_lifetime_secs as i64,
        scope: Some(scope.clone()),
        gty: Some("client-credentials".to_owned()),
        custom: Map::new(),
        azp: client.client_id.clone(),
    };
    Ok(TokenSet {
        access_token: tenant.keys.sign(&claims)?,
        id_token: None,
        refresh_token: None,
        scope: Some(scope),
        expires_in: api.token_lifetime_secs,
    })
}
