//! `POST /oauth/token`: the password grants and `client_credentials`. Unrecognised parameters
//! are ignored (RFC 6749 §3.2) and empty or `null` ones treated as absent, which is how the
//! client libraries send unset options.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::Error;
use portcullis_core::config::grant;
use portcullis_core::flows::client_auth::{ClientCredentials, authenticate};
use portcullis_core::flows::extensibility::{self, CustomClaims, LoginProtocol};
use portcullis_core::flows::login::{PasswordLogin, password_login};
use portcullis_core::flows::tokens::{
    TokenRequest, TokenSet, client_credentials, issue_user_tokens, resolve_user_audience,
};
use portcullis_core::flows::{mfa, refresh, web};
use portcullis_core::mfa::PendingLogin;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::extract::{
    Accepts, basic_credentials, read_object, requester, require_string, take_string,
};
use crate::wire::{FieldProblem, OAuthFailure, RequestError};

/// Grant types this server knows of but serves through other flows not built yet.
const KNOWN_OTHER_GRANTS: &[&str] = &[
    grant::AUTHORIZATION_CODE,
    grant::REFRESH_TOKEN,
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-oob",
    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
];

pub async fn token(
    State(app): State<AppState>,
    request: Request,
) -> Result<Response, OAuthFailure> {
    let (parts, body) = request.into_parts();
    let requester = requester(&parts, &app.tenant.config.trusted_proxies);
    let mut o = read_object(&parts.headers, body, Accepts::JsonOrForm, true).await?;
    o.retain(|_, v| v.as_str() != Some(""));
    let grant_type = require_string(&mut o, "grant_type")?;
    let is_password = grant_type == grant::PASSWORD || grant_type == grant::PASSWORD_REALM;
    let is_client_credentials = grant_type == grant::CLIENT_CREDENTIALS;
    if !is_password && !is_client_credentials && !KNOWN_OTHER_GRANTS.contains(&grant_type.as_str())
    {
        return Err(Error::UnsupportedGrantType(grant_type).into());
    }

    let presented = client_credentials_from(&parts.headers, &mut o)?;
    let tenant = &app.tenant;
    let client = authenticate(tenant, &presented)?;
    if !client.allows_grant(&grant_type) {
        return Err(Error::GrantTypeNotAllowed(grant_type).into());
    }

    let tokens = if is_client_credentials {
        let audience = take_string(&mut o, "audience")?;
        let scope = take_string(&mut o, "scope")?;
        client_credentials(
            tenant,
            client,
            audience.as_deref(),
            scope.as_deref(),
            &requester,
        )
        .await?
    } else if is_password {
        let username = require_string(&mut o, "username")?;
        let password = require_string(&mut o, "password")?;
        // auth-js sends `realm` with the plain password grant too; it names the connection.
        let realm = take_string(&mut o, "realm")?;
        if grant_type == grant::PASSWORD_REALM && realm.is_none() {
            return Err(RequestError::MissingField("realm").into());
        }
        let scope = take_string(&mut o, "scope")?;
        let audience = take_string(&mut o, "audience")?;
        let nonce = take_string(&mut o, "nonce")?;
        // An unknown audience is refused before any hash is spent.
        resolve_user_audience(tenant, audience.as_deref())?;
        let login = PasswordLogin {
            realm,
            username,
            password,
            requester,
            pending: PendingLogin {
                scope,
                audience,
                nonce,
                claims: CustomClaims::default(),
            },
            on_login_page: false,
        };
        let logged_in = password_login(tenant, client, &grant_type, &login).await?;
        let request = PendingLogin {
            claims: logged_in.claims,
            ..login.pending
        };
        signed_in_tokens(tenant, client, &logged_in.user, &request, None).await?
    } else if grant_type == grant::MFA_OTP || grant_type == grant::MFA_RECOVERY_CODE {
        let mfa_token = require_string(&mut o, "mfa_token")?;
        let (user, pending, recovery_code) = if grant_type == grant::MFA_OTP {
            let otp = require_string(&mut o, "otp")?;
            let (user, pending) =
                mfa::redeem_otp(tenant, client, &mfa_token, &otp, &requester, false).await?;
            (user, pending, None)
        } else {
            let code = require_string(&mut o, "recovery_code")?;
            let (user, pending, next) =
                mfa::redeem_recovery_code(tenant, client, &mfa_token, &code, &requester, false)
                    .await?;
            (user, pending, Some(next))
        };
        let tokens = signed_in_tokens(tenant, client, &user, &pending, None).await?;
        return Ok(token_response_with(tokens, recovery_code));
    } else if grant_type == grant::AUTHORIZATION_CODE {
        let code = require_string(&mut o, "code")?;
        let redirect_uri = take_string(&mut o, "redirect_uri")?;
        let code_verifier = take_string(&mut o, "code_verifier")?;
        let (user, granted) = web::exchange_code(
            tenant,
            client,
            &code,
            redirect_uri.as_deref(),
            code_verifier.as_deref(),
            &requester,
        )
        .await?;
        let request = PendingLogin {
            scope: granted.scope,
            audience: granted.audience,
            nonce: granted.nonce,
            claims: granted.claims,
        };
        signed_in_tokens(tenant, client, &user, &request, granted.auth_time).await?
    } else if grant_type == grant::REFRESH_TOKEN {
        let token = require_string(&mut o, "refresh_token")?;
        let scope = take_string(&mut o, "scope")?;
        let mut refreshed =
            refresh::redeem(tenant, client, &token, scope.as_deref(), &requester).await?;
        // The post-login Rules and Actions run for a refresh too; they may refuse it or add
        // claims (a second factor cannot be asked for here).
        let decision = extensibility::post_login(
            tenant,
            client,
            &mut refreshed.user,
            &requester,
            LoginProtocol::RefreshToken,
            Some(&refreshed.scope),
        )
        .await?;
        let api = resolve_user_audience(tenant, refreshed.audience.as_deref())?;
        let mut tokens = issue_user_tokens(
            tenant,
            client,
            &refreshed.user,
            api.as_ref(),
            TokenRequest {
                scope: Some(&refreshed.scope),
                claims: Some(&decision.claims),
                ..TokenRequest::default()
            },
        )?;
        // Rotating clients get the successor; the others keep using the same token.
        tokens.refresh_token = refreshed.refresh_token;
        tokens
    } else {
        return Err(Error::UnsupportedGrantType(grant_type).into());
    };
    Ok(token_response(tokens))
}

/// The tokens of a user who has just signed in, for what the login asked: an ID token with
/// `openid`, the access token for `audience`, and a refresh token with `offline_access`.
async fn signed_in_tokens(
    tenant: &portcullis_core::Tenant,
    client: &portcullis_core::config::Client,
    user: &portcullis_core::user::UserRecord,
    request: &PendingLogin,
    auth_time: Option<i64>,
) -> Result<TokenSet, OAuthFailure> {
    let audience = request.audience.as_deref();
    let api = resolve_user_audience(tenant, audience)?;
    let mut tokens = issue_user_tokens(
        tenant,
        client,
        user,
        api.as_ref(),
        TokenRequest {
            scope: request.scope.as_deref(),
            nonce: request.nonce.as_deref(),
            auth_time,
            claims: Some(&request.claims),
        },
    )?;
    tokens.refresh_token =
        refresh::issue(tenant, client, user, tokens.scope.as_deref(), audience).await?;
    Ok(tokens)
}

/// The client's id and secret from HTTP Basic or the body; both at once must agree.
fn client_credentials_from(
    headers: &axum::http::HeaderMap,
    o: &mut Map<String, Value>,
) -> Result<ClientCredentials, OAuthFailure> {
    let body_id = take_string(o, "client_id")?;
    let body_secret = take_string(o, "client_secret")?;
    match basic_credentials(headers) {
        Some((id, secret)) => {
            if body_id.as_deref().is_some_and(|b| b != id) || body_secret.is_some() {
                return Err(RequestError::InvalidField {
                    field: "client_id".into(),
                    problem: FieldProblem::TwoClientAuthentications,
                }
                .into());
            }
            Ok(ClientCredentials {
                client_id: id,
                client_secret: Some(secret),
            })
        }
        None => Ok(ClientCredentials {
            client_id: body_id.ok_or(RequestError::MissingField("client_id"))?,
            client_secret: body_secret,
        }),
    }
}

fn token_response(tokens: TokenSet) -> Response {
    token_response_with(tokens, None)
}

/// The `mfa-recovery-code` grant adds the user's next recovery code.
fn token_response_with(tokens: TokenSet, recovery_code: Option<String>) -> Response {
    let mut body = json!({
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "token_type": "Bearer",
    });
    if let Some(id_token) = tokens.id_token {
        body["id_token"] = id_token.into();
    }
    if let Some(refresh_token) = tokens.refresh_token {
        body["refresh_token"] = refresh_token.into();
    }
    if let Some(scope) = tokens.scope {
        body["scope"] = scope.into();
    }
    if let Some(code) = recovery_code {
        body["recovery_code"] = code.into();
    }
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
