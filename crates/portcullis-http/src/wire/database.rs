//! `/dbconnections/*` bodies: `{"name","code","description","statusCode"}`; password-policy
//! failures add `message` and `policy` and carry password-sheriff's report as `description`
//! (Auth0 "Password Strength in Auth0 Database Connections"; Lock maps `name`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_core::Error;
use portcullis_core::identity::UsernameProblem;
use serde_json::{Value, json};

use super::{ApiError, internal, request_status, request_text};

pub struct DatabaseFailure(pub ApiError);

impl<E: Into<ApiError>> From<E> for DatabaseFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

fn bad_request(code: &str, description: impl Into<Value>) -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"name": "BadRequestError", "code": code, "description": description.into(), "statusCode": 400}),
    )
}

/// Malformed sign-ups: Auth0's documented code for them is `invalid_signup`.
fn invalid_signup(description: impl Into<String>) -> (StatusCode, Value) {
    bad_request("invalid_signup", description.into())
}

/// The password validators' family: `name` says which rule failed (Lock maps it to its
/// `password_dictionary_error` / `password_no_user_info_error` texts), `code` is always
/// `invalid_password`.
fn password_error(name: &str, message: &str, description: String) -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"name": name, "message": message, "code": "invalid_password", "description": description, "statusCode": 400}),
    )
}

/// Sign-up with a breached password (`stage.pre-user-registration` shield `block`).
const LEAKED_AT_SIGNUP: &str = "This combination of credentials was detected in a public data breach on another website. Before your account is created, please use a different password to keep it secure.";

/// Auth0's answer when a pre-user-registration Action denies or fails (observed:
/// `InternalExtensibilityError`, `code` `extensibility_error`, the reason as `description`
/// and `message`, the user message as `friendly_message`).
fn extensibility_error(reason: &str, user_message: Option<&str>) -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({
            "name": "InternalExtensibilityError",
            "statusCode": 400,
            "code": "extensibility_error",
            "message": reason,
            "friendly_message": user_message.unwrap_or(reason),
            "description": reason,
            "fromSandbox": true
        }),
    )
}

fn describe(error: &Error) -> (StatusCode, Value) {
    match error {
        Error::SignupDenied {
            reason,
            user_message,
        } => extensibility_error(reason, user_message.as_deref()),
        Error::ScriptFailed(message) => extensibility_error(message, None),
        Error::LoginDenied { reason } | Error::RuleUnauthorized { reason } => {
            extensibility_error(reason, None)
        }
        Error::UserExists => bad_request("user_exists", "The user already exists."),
        Error::UsernameExists => bad_request("username_exists", "The username already exists."),
        // The seed's `unauthorized`, with the text Auth0 has always sent for disabled sign-up.
        Error::SignupDisabled => bad_request("unauthorized", "public signup is disabled"),
        Error::WeakPassword { report, policy } => (
            StatusCode::BAD_REQUEST,
            json!({
                "name": "PasswordStrengthError",
                "message": "Password is too weak",
                "code": "invalid_password",
                "description": report,
                "policy": policy,
                "statusCode": 400
            }),
        ),
        // Bodies as a live tenant sends them (auth0/auth0-custom-password-reset-hosted-page README).
        Error::PasswordTooCommon => password_error(
            "PasswordDictionaryError",
            "Password is too common",
            "Password is not allowed, it might be too common.".to_owned(),
        ),
        Error::PasswordContainsUserInfo => password_error(
            "PasswordNoUserInfoError",
            "Password contains user information",
            "Password is based on user information".to_owned(),
        ),
        Error::PasswordInHistory { size } => password_error(
            "PasswordHistoryError",
            "Password has previously been used",
            format!("You may not reuse any of the last {size} passwords."),
        ),
        Error::SuspiciousIp => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"name": "TooManyAttemptsError", "code": "too_many_attempts",
                   "description": super::oauth::SUSPICIOUS_IP, "statusCode": 429}),
        ),
        Error::PasswordLeaked => bad_request("password_leaked", LEAKED_AT_SIGNUP),
        Error::BreachLookupUnavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"name": "ServiceUnavailableError", "code": "temporarily_unavailable",
                   "description": "The password could not be checked right now; please try again later.", "statusCode": 503}),
        ),
        Error::InvalidEmail(raw) => invalid_signup(format!(
            "error in email - email format validation failed: {raw}"
        )),
        Error::UsernameNotAllowed => {
            invalid_signup("Cannot set username for connection without requires_username")
        }
        Error::UsernameRequired => invalid_signup("Missing required property: username"),
        Error::InvalidUsername(UsernameProblem::Length { min, max }) => invalid_signup(format!(
            "error in username - username length must be between {min} and {max} characters"
        )),
        Error::InvalidUsername(UsernameProblem::Characters) => invalid_signup(
            "error in username - username can only contain letters, numbers and the characters _ + - . ! # $ ' ^ ` ~",
        ),
        Error::UnknownClient => invalid_signup("Unknown client"),
        Error::UnknownConnection => invalid_signup("Connection does not exist"),
        Error::ConnectionDisabledForClient { .. } => invalid_signup("Connection is disabled"),
        // Not reachable from sign-up; answered in the same family should a future flow need it.
        Error::ClientAuthenticationFailed
        | Error::GrantTypeNotAllowed(_)
        | Error::UnsupportedGrantType(_)
        | Error::NoDefaultConnection
        | Error::WrongCredentials { .. }
        | Error::UserBlocked
        | Error::TooManyAttempts
        | Error::InvalidRedirectUri
        | Error::UnsupportedResponseType(_)
        | Error::PkceRequired
        | Error::LoginRequired
        | Error::InvalidAuthorizationCode
        | Error::CodeVerifierMismatch
        | Error::InvalidLoginState
        | Error::CrossOriginNotAllowed
        | Error::InvalidLoginTicket
        | Error::NonceRequired
        | Error::ActionNotFound
        | Error::ActionNameTaken(_)
        | Error::InvalidAction(_)
        | Error::InvalidReturnTo(_)
        | Error::InvalidRefreshToken
        | Error::RedirectUriRequired
        | Error::RefreshUserGone
        | Error::MfaRequired { .. }
        | Error::MfaRegistrationRequired { .. }
        | Error::InvalidMfaToken
        | Error::ExpiredMfaToken
        | Error::MfaTokenOfOtherClient
        | Error::NotEnrolled
        | Error::InvalidOtp
        | Error::InvalidRecoveryCode
        | Error::MfaTooManyAttempts
        | Error::AlreadyEnrolled
        | Error::UnsupportedAuthenticator(_)
        | Error::AuthenticatorNotFound
        | Error::MissingAudience
        | Error::UnknownAudience(_)
        | Error::AudienceNotEnabled(_)
        | Error::AudienceNotGranted(_)
        | Error::ScopesNotGranted(_)
        | Error::MissingAuthentication
        | Error::InvalidToken(_)
        | Error::InsufficientScope(_)
        | Error::FieldsNotUpdatable(_)
        | Error::UserNotFound
        | Error::LogNotFound
        | Error::IpNotBlocked
        | Error::InvalidTicket => bad_request("invalid_signup", "Invalid sign up"),
        Error::Hash(portcullis_core::password::hasher::HashError::Busy) => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"name": "TooManyRequestsError", "code": "too_many_requests",
                   "description": "Rate limit exceeded. Please retry after some time.", "statusCode": 429}),
        ),
        Error::Store(_) | Error::Hash(_) | Error::Key(_) | Error::ContentionExhausted => {
            let failure = internal(error);
            let code = failure.status.as_u16();
            (
                failure.status,
                json!({
                    "name": "ServerError",
                    "code": "server_error",
                    "description": format!("Something went wrong (error id {})", failure.id),
                    "statusCode": code
                }),
            )
        }
    }
}

impl IntoResponse for DatabaseFailure {
    fn into_response(self) -> Response {
        let (status, body) = match &self.0 {
            ApiError::Domain(e) => describe(e),
            ApiError::Request(r) => {
                let status = request_status(r);
                let name = match status {
                    StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLargeError",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaTypeError",
                    StatusCode::NOT_FOUND => "NotFoundError",
                    StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowedError",
                    _ => "BadRequestError",
                };
                (
                    status,
                    json!({
                        "name": name,
                        "code": "invalid_signup",
                        "description": request_text(r),
                        "statusCode": status.as_u16()
                    }),
                )
            }
        };
        let mut response = (status, Json(body)).into_response();
        super::retry_after_when_busy(&self.0, &mut response);
        response
    }
}
