//! OAuth endpoint bodies `{"error","error_description"}` (RFC 6749 §5.2 with Auth0's codes and
//! texts, seed-errors.md), and `/userinfo`'s bearer challenge.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::Error;
use portcullis_core::password::hasher::HashError;
use portcullis_core::tokens::TokenRejection;
use serde_json::{Value, json};

use super::{ApiError, RequestError, internal, request_status, request_text};

pub struct OAuthFailure(pub ApiError);

impl<E: Into<ApiError>> From<E> for OAuthFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

fn oauth(status: StatusCode, error: &str, description: impl Into<String>) -> (StatusCode, Value) {
    (
        status,
        json!({"error": error, "error_description": description.into()}),
    )
}

/// `error` and `error_description` of a failure, for answers carried in a redirect.
pub fn redirect_error(error: &Error) -> (String, String) {
    let (_, body) = describe(error);
    let field = |k: &str| {
        body.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    (field("error"), field("error_description"))
}

/// Suspicious IP throttling's answer (seed-errors.md; wording inferred).
pub(crate) const SUSPICIOUS_IP: &str = "We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.";

/// Where Auth0 documents the grant types a client may use; sent with `unauthorized_client`.
const GRANT_TYPES_DOC: &str = "https://auth0.com/docs/clients/client-grant-types";

fn describe(error: &Error) -> (StatusCode, Value) {
    use StatusCode as S;
    match error {
        Error::WrongCredentials { by_username: false } => {
            oauth(S::FORBIDDEN, "invalid_grant", "Wrong email or password.")
        }
        Error::WrongCredentials { by_username: true } => {
            oauth(S::FORBIDDEN, "invalid_grant", "Wrong username or password.")
        }
        Error::UserBlocked => oauth(S::UNAUTHORIZED, "unauthorized", "user is blocked"),
        // MFA (Auth0's ROPG + MFA and MFA API pages; Auth0.swift/Android error matching).
        Error::MfaRequired {
            mfa_token,
            enrolled,
        } => {
            let requirement = if *enrolled { "challenge" } else { "enroll" };
            (
                S::FORBIDDEN,
                json!({
                    "error": "mfa_required",
                    "error_description": "Multifactor authentication required",
                    "mfa_token": mfa_token,
                    "mfa_requirements": { requirement: [{"type": "otp"}] }
                }),
            )
        }
        Error::MfaRegistrationRequired { mfa_token } => (
            S::FORBIDDEN,
            json!({
                "error": "mfa_registration_required",
                "error_description": "Multifactor authentication required",
                "mfa_token": mfa_token
            }),
        ),
        Error::InvalidMfaToken => oauth(S::FORBIDDEN, "invalid_grant", "Malformed mfa_token"),
        Error::ExpiredMfaToken => oauth(S::FORBIDDEN, "expired_token", "mfa_token is expired"),
        Error::MfaTokenOfOtherClient => oauth(
            S::FORBIDDEN,
            "invalid_request",
            "mfa_token not issued to this client",
        ),
        Error::NotEnrolled => oauth(
            S::UNAUTHORIZED,
            "unsupported_challenge_type",
            "User is not enrolled with guardian",
        ),
        Error::InvalidOtp => oauth(S::FORBIDDEN, "invalid_grant", "Invalid otp_code."),
        Error::InvalidRecoveryCode => {
            oauth(S::FORBIDDEN, "invalid_grant", "MFA Authorization rejected.")
        }
        Error::MfaTooManyAttempts => oauth(
            S::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many failed codes. Wait for some minutes before retrying.",
        ),
        Error::AlreadyEnrolled => oauth(S::FORBIDDEN, "access_denied", "User is already enrolled"),
        Error::UnsupportedAuthenticator(kind) => oauth(
            S::BAD_REQUEST,
            "unsupported_challenge_type",
            format!("Unsupported authenticator or challenge type: {kind}"),
        ),
        Error::AuthenticatorNotFound => oauth(S::NOT_FOUND, "not_found", "Authenticator not found"),
        Error::InvalidRedirectUri => oauth(
            S::BAD_REQUEST,
            "invalid_request",
            "The redirect_uri is not registered for this client",
        ),
        Error::UnsupportedResponseType(kind) => oauth(
            S::BAD_REQUEST,
            "unsupported_response_type",
            format!("Unsupported response type: {kind}"),
        ),
        Error::PkceRequired => oauth(
            S::BAD_REQUEST,
            "invalid_request",
            "code_challenge with code_challenge_method S256 is required for this client",
        ),
        Error::LoginRequired => oauth(S::BAD_REQUEST, "login_required", "Login required"),
        // An Action's or Rule's refusal. Auth0 answers the token endpoint with HTTP 500 for
        // an Action's deny; a refusal is not a server fault, so 403 with the same body.
        Error::LoginDenied { reason } => oauth(S::FORBIDDEN, "access_denied", reason.clone()),
        Error::SignupDenied { reason, .. } => oauth(S::FORBIDDEN, "access_denied", reason.clone()),
        // A Rule's `UnauthorizedError` (Lock shows its description as a rule error).
        Error::RuleUnauthorized { reason } => {
            oauth(S::UNAUTHORIZED, "unauthorized", reason.clone())
        }
        Error::ScriptFailed(message) => oauth(S::FORBIDDEN, "access_denied", message.clone()),
        Error::ActionNotFound | Error::ActionNameTaken(_) | Error::InvalidAction(_) => {
            oauth(S::BAD_REQUEST, "invalid_request", error.to_string())
        }
        Error::NonceRequired => oauth(
            S::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: nonce",
        ),
        Error::InvalidAuthorizationCode => {
            oauth(S::FORBIDDEN, "invalid_grant", "Invalid authorization code")
        }
        Error::RedirectUriRequired => oauth(
            S::FORBIDDEN,
            "invalid_grant",
            "redirect_uri is required if it was included in the authorization request.",
        ),
        Error::CodeVerifierMismatch => oauth(
            S::FORBIDDEN,
            "invalid_grant",
            "Failed to verify code verifier",
        ),
        Error::InvalidLoginState => oauth(S::BAD_REQUEST, "invalid_request", "Invalid state"),
        Error::CrossOriginNotAllowed => oauth(
            S::FORBIDDEN,
            "unauthorized_client",
            "Cross origin login not allowed.",
        ),
        Error::InvalidLoginTicket => oauth(
            S::FORBIDDEN,
            "access_denied",
            "The login ticket is invalid or expired. Please log in again.",
        ),
        Error::InvalidReturnTo(_) => oauth(
            S::BAD_REQUEST,
            "invalid_request",
            "The returnTo URL is not allowed",
        ),
        Error::InvalidRefreshToken => oauth(
            S::FORBIDDEN,
            "invalid_grant",
            "Unknown or invalid refresh token.",
        ),
        Error::RefreshUserGone => oauth(
            S::FORBIDDEN,
            "invalid_grant",
            "The refresh_token was generated for a user who doesn't exist anymore.",
        ),
        Error::SuspiciousIp => oauth(S::TOO_MANY_REQUESTS, "too_many_attempts", SUSPICIOUS_IP),
        // Brute-force protection's block (seed-errors.md; quoted verbatim by Auth0's docs).
        Error::TooManyAttempts => oauth(
            S::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it.",
        ),
        // The login `block` shield: 401 and the text Auth0 documents for /co/authenticate (the
        // token endpoint's own answer is undocumented; clients match only the code).
        Error::PasswordLeaked => oauth(
            S::UNAUTHORIZED,
            "password_leaked",
            "This login attempt has been blocked because the password you're using was previously disclosed through a data breach (not in this application).",
        ),
        Error::BreachLookupUnavailable => oauth(
            S::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The password could not be checked right now; please try again later.",
        ),
        // A wrong or missing secret, and an unknown client, answer alike: nothing tells which
        // client ids exist (auth0/auth0.js#317, auth0/node-auth0#682).
        Error::ClientAuthenticationFailed | Error::UnknownClient => {
            oauth(S::UNAUTHORIZED, "access_denied", "Unauthorized")
        }
        Error::GrantTypeNotAllowed(grant) => (
            S::FORBIDDEN,
            json!({
                "error": "unauthorized_client",
                "error_description": format!("Grant type '{grant}' not allowed for the client."),
                "error_uri": GRANT_TYPES_DOC
            }),
        ),
        Error::UnsupportedGrantType(grant) => oauth(
            S::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Unsupported grant type: {grant}"),
        ),
        // Auth0 answers this with a server_error; a missing setting is the caller's to fix, so
        // it is a 400 here with Auth0's text.
        Error::NoDefaultConnection => oauth(
            S::BAD_REQUEST,
            "invalid_request",
            "Authorization server not configured with default connection.",
        ),
        Error::UnknownConnection => oauth(
            S::BAD_REQUEST,
            "invalid_request",
            "the connection was not found",
        ),
        Error::ConnectionDisabledForClient { .. } => oauth(
            S::BAD_REQUEST,
            "invalid_request",
            "the connection was disabled",
        ),
        Error::MissingAudience => oauth(
            S::FORBIDDEN,
            "access_denied",
            "No audience parameter was provided, and no default audience has been configured",
        ),
        Error::UnknownAudience(audience) => oauth(
            S::FORBIDDEN,
            "access_denied",
            format!("Service not found: {audience}"),
        ),
        Error::AudienceNotEnabled(audience) => oauth(
            S::FORBIDDEN,
            "access_denied",
            format!("Service not enabled within domain: {audience}"),
        ),
        Error::AudienceNotGranted(audience) => oauth(
            S::FORBIDDEN,
            "access_denied",
            format!(
                "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
            ),
        ),
        Error::ScopesNotGranted(scopes) => oauth(
            S::FORBIDDEN,
            "access_denied",
            format!("Client has not been granted scopes: {}", scopes.join(" ")),
        ),
        Error::InvalidEmail(_) => oauth(S::BAD_REQUEST, "invalid_request", "Invalid email"),
        Error::MissingAuthentication | Error::InvalidToken(_) => {
            oauth(S::UNAUTHORIZED, "invalid_token", "Invalid token")
        }
        Error::InsufficientScope(_) | Error::FieldsNotUpdatable(_) => {
            oauth(S::FORBIDDEN, "insufficient_scope", "Insufficient scope")
        }
        Error::UserNotFound | Error::LogNotFound | Error::IpNotBlocked | Error::InvalidTicket => {
            oauth(S::FORBIDDEN, "invalid_grant", "Wrong email or password.")
        }
        // Sign-up outcomes cannot arise on the token endpoint.
        Error::SignupDisabled
        | Error::UsernameNotAllowed
        | Error::UsernameRequired
        | Error::InvalidUsername(_)
        | Error::WeakPassword { .. }
        | Error::PasswordTooCommon
        | Error::PasswordContainsUserInfo
        | Error::PasswordInHistory { .. }
        | Error::UserExists
        | Error::UsernameExists => oauth(S::BAD_REQUEST, "invalid_request", "Invalid request"),
        Error::Hash(HashError::Busy) => oauth(
            S::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Rate limit exceeded. Please retry after some time.",
        ),
        Error::Store(_) | Error::Hash(_) | Error::Key(_) | Error::ContentionExhausted => {
            let failure = internal(error);
            let code = if failure.status == S::SERVICE_UNAVAILABLE {
                "temporarily_unavailable"
            } else {
                "server_error"
            };
            oauth(
                failure.status,
                code,
                format!("Something went wrong (error id {})", failure.id),
            )
        }
    }
}

fn describe_request(r: &RequestError) -> (StatusCode, Value) {
    oauth(request_status(r), "invalid_request", request_text(r))
}

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        let (status, body) = match &self.0 {
            ApiError::Domain(e) => describe(e),
            ApiError::Request(r) => describe_request(r),
        };
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        super::retry_after_when_busy(&self.0, &mut response);
        response
    }
}

/// `/co/authenticate`'s answers: the OAuth family, except that wrong credentials are
/// `access_denied` (which Lock shows as "Wrong email or password.").
pub struct CrossOriginFailure(pub ApiError);

impl<E: Into<ApiError>> From<E> for CrossOriginFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for CrossOriginFailure {
    fn into_response(self) -> Response {
        match &self.0 {
            ApiError::Domain(Error::WrongCredentials { by_username }) => {
                let text = if *by_username {
                    "Wrong username or password."
                } else {
                    "Wrong email or password."
                };
                let (status, body) = oauth(StatusCode::FORBIDDEN, "access_denied", text);
                let mut response = (status, Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            _ => OAuthFailure(self.0).into_response(),
        }
    }
}

/// `POST /oauth/revoke` answers a failed client authentication with RFC 7009's
/// `invalid_client` (Auth0's revocation errors), not the token endpoint's `access_denied`.
pub struct RevocationFailure(pub ApiError);

impl<E: Into<ApiError>> From<E> for RevocationFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for RevocationFailure {
    fn into_response(self) -> Response {
        match &self.0 {
            ApiError::Domain(Error::ClientAuthenticationFailed | Error::UnknownClient) => {
                let (status, body) = oauth(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "The request is not authorized. Check that the client credentials (client_id and client_secret) are present in the request and hold valid values.",
                );
                (status, Json(body)).into_response()
            }
            _ => OAuthFailure(self.0).into_response(),
        }
    }
}

/// `/userinfo` answers a bad token with `401 Unauthorized` as plain text and a bearer
/// challenge (RFC 6750 §3), as Auth0 does (auth0/Auth0.Android#629, react-native-auth0#241).
pub struct UserinfoFailure(pub ApiError);

impl<E: Into<ApiError>> From<E> for UserinfoFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for UserinfoFailure {
    fn into_response(self) -> Response {
        let challenge = |description: &str| {
            format!(
                "Bearer realm=\"Users\", error=\"invalid_token\", error_description=\"{description}\""
            )
        };
        let www_authenticate = match &self.0 {
            ApiError::Domain(Error::MissingAuthentication) => "Bearer realm=\"Users\"".to_owned(),
            ApiError::Domain(Error::InvalidToken(TokenRejection::Expired)) => {
                challenge("The token has expired")
            }
            // A token that is not ours, and one whose user was deleted since, are both invalid.
            ApiError::Domain(Error::InvalidToken(_) | Error::UserNotFound) => {
                challenge("Invalid token")
            }
            // Anything else (an internal failure) is rendered as the token endpoint renders it.
            ApiError::Domain(_) | ApiError::Request(_) => {
                return OAuthFailure(self.0).into_response();
            }
        };
        let mut response = (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
        if let Ok(value) = HeaderValue::from_str(&www_authenticate) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
