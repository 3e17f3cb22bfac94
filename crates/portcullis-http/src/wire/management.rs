//! Management API bodies: `{"statusCode","error","message","errorCode"}` (management-api.md §2).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_core::Error;
use portcullis_core::identity::UsernameProblem;
use portcullis_core::tokens::TokenRejection;
use serde_json::json;

use super::{ApiError, RequestError, internal, request_status, request_text};

pub struct ManagementFailure(pub ApiError);

impl<E: Into<ApiError>> From<E> for ManagementFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

struct Body {
    status: StatusCode,
    message: String,
    error_code: Option<&'static str>,
}

fn body(status: StatusCode, message: impl Into<String>, error_code: Option<&'static str>) -> Body {
    Body {
        status,
        message: message.into(),
        error_code,
    }
}

fn payload(message: impl Into<String>) -> Body {
    body(
        StatusCode::BAD_REQUEST,
        format!("Payload validation error: '{}'.", message.into()),
        Some("invalid_body"),
    )
}

fn describe(error: &Error) -> Body {
    use StatusCode as S;
    match error {
        Error::MissingAuthentication => body(S::UNAUTHORIZED, "Missing authentication", None),
        Error::InvalidToken(TokenRejection::Expired) => body(
            S::UNAUTHORIZED,
            "Expired token received for JSON Web Token validation",
            None,
        ),
        Error::InvalidToken(TokenRejection::BadSignature) => body(
            S::UNAUTHORIZED,
            "Invalid signature received for JSON Web Token validation.",
            None,
        ),
        Error::InvalidToken(
            TokenRejection::Malformed | TokenRejection::WrongAudience | TokenRejection::WrongIssuer,
        ) => body(S::UNAUTHORIZED, "Invalid token", None),
        Error::InsufficientScope(expected) => body(
            S::FORBIDDEN,
            format!(
                "Insufficient scope, expected any of: {}",
                expected.join(",")
            ),
            Some("insufficient_scope"),
        ),
        Error::FieldsNotUpdatable(fields) => body(
            S::FORBIDDEN,
            format!(
                "You cannot update the following fields: {}",
                fields.join(", ")
            ),
            Some("insufficient_scope"),
        ),
        Error::AuthenticatorNotFound => body(
            S::NOT_FOUND,
            "Authentication method not found.",
            Some("inexistent_authentication_method"),
        ),
        Error::InvalidTicket => body(
            S::NOT_FOUND,
            "The ticket does not exist, has expired or was used.",
            Some("inexistent_ticket"),
        ),
        Error::IpNotBlocked => body(
            S::NOT_FOUND,
            "IP address is not blocked.",
            Some("not_found"),
        ),
        Error::LogNotFound => body(
            S::NOT_FOUND,
            "The log does not exist.",
            Some("inexistent_log"),
        ),
        Error::ActionNotFound => body(
            S::NOT_FOUND,
            "The action does not exist.",
            Some("not_found"),
        ),
        Error::ActionNameTaken(name) => body(
            S::CONFLICT,
            format!("An action named {name} already exists."),
            Some("conflict"),
        ),
        Error::InvalidAction(problem) => {
            body(S::BAD_REQUEST, problem.clone(), Some("invalid_body"))
        }
        Error::UserNotFound => body(
            S::NOT_FOUND,
            "The user does not exist.",
            Some("inexistent_user"),
        ),
        Error::UserExists => body(
            S::CONFLICT,
            "The user already exists.",
            Some("auth0_idp_error"),
        ),
        Error::UsernameExists => body(
            S::CONFLICT,
            "The username provided is in use already.",
            Some("auth0_idp_error"),
        ),
        Error::PasswordLeaked => body(
            S::BAD_REQUEST,
            "PasswordLeakedError: Password has been found in a data breach",
            Some("password_leaked"),
        ),
        Error::BreachLookupUnavailable => body(
            S::SERVICE_UNAVAILABLE,
            "The password could not be checked against breached passwords right now",
            Some("temporarily_unavailable"),
        ),
        Error::PasswordTooCommon => body(
            S::BAD_REQUEST,
            "PasswordDictionaryError: Password is too common",
            None,
        ),
        Error::PasswordContainsUserInfo => body(
            S::BAD_REQUEST,
            "PasswordNoUserInfoError: Password contains user information",
            None,
        ),
        Error::PasswordInHistory { .. } => body(
            S::BAD_REQUEST,
            "PasswordHistoryError: Password has previously been used",
            None,
        ),
        Error::WeakPassword { .. } => body(
            S::BAD_REQUEST,
            "PasswordStrengthError: Password is too weak",
            None,
        ),
        Error::InvalidEmail(raw) => body(
            S::BAD_REQUEST,
            format!(
                "Payload validation error: 'Object didn't pass validation for format email: {raw}' on property email (The user's email)."
            ),
            Some("invalid_body"),
        ),
        Error::UnknownConnection => body(
            S::BAD_REQUEST,
            "The connection does not exist.",
            Some("inexistent_connection"),
        ),
        Error::ConnectionDisabledForClient {
            client_id,
            connection,
        } => body(
            S::BAD_REQUEST,
            format!(
                "Connection must be enabled for this client to perform single user creation and signup operations (client_id: {client_id} - connection: {connection})"
            ),
            Some("auth0_idp_error"),
        ),
        Error::UsernameNotAllowed => body(
            S::BAD_REQUEST,
            "Cannot set username for connection without requires_username",
            Some("invalid_body"),
        ),
        Error::UsernameRequired => payload("Missing required property: username"),
        Error::InvalidUsername(UsernameProblem::Length { min, max }) => body(
            S::BAD_REQUEST,
            format!("Username length must be between {min} and {max} characters"),
            Some("invalid_body"),
        ),
        Error::InvalidUsername(UsernameProblem::Characters) => body(
            S::BAD_REQUEST,
            "Username can only contain letters, numbers and the characters _ + - . ! # $ ' ^ ` ~",
            Some("invalid_body"),
        ),
        // Outcomes of other surfaces; a Management call never produces them.
        Error::SignupDisabled
        | Error::UnknownClient
        | Error::ClientAuthenticationFailed
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
        | Error::SignupDenied { .. }
        | Error::LoginDenied { .. }
        | Error::RuleUnauthorized { .. }
        | Error::ScriptFailed(_)
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
        | Error::SuspiciousIp
        | Error::MissingAudience
        | Error::UnknownAudience(_)
        | Error::AudienceNotEnabled(_)
        | Error::AudienceNotGranted(_)
        | Error::ScopesNotGranted(_) => body(S::BAD_REQUEST, error.to_string(), None),
        Error::Hash(portcullis_core::password::hasher::HashError::Busy) => body(
            S::TOO_MANY_REQUESTS,
            "Global limit has been reached",
            Some("too_many_requests"),
        ),
        Error::Store(_) | Error::Hash(_) | Error::Key(_) | Error::ContentionExhausted => {
            let failure = internal(error);
            body(
                failure.status,
                format!("Internal error (error id {})", failure.id),
                None,
            )
        }
    }
}

fn describe_request(r: &RequestError) -> Body {
    match r {
        RequestError::MissingField(field) => payload(format!("Missing required property: {field}")),
        RequestError::UnknownFields(fields) => payload(format!(
            "Additional properties not allowed: {}",
            fields.join(",")
        )),
        RequestError::InvalidField { field, problem } => body(
            StatusCode::BAD_REQUEST,
            format!("Payload validation error: '{problem}' on property {field}."),
            Some("invalid_body"),
        ),
        RequestError::MalformedBody(why) => body(
            StatusCode::BAD_REQUEST,
            format!("Invalid request payload JSON format: {why}"),
            Some("invalid_body"),
        ),
        RequestError::InvalidQuery(why) => body(
            StatusCode::BAD_REQUEST,
            format!("Query validation error: {why}"),
            Some("invalid_query_string"),
        ),
        RequestError::UnsupportedMediaType
        | RequestError::PayloadTooLarge
        | RequestError::NotFound
        | RequestError::MethodNotAllowed => body(request_status(r), request_text(r), None),
    }
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl IntoResponse for ManagementFailure {
    fn into_response(self) -> Response {
        let b = match &self.0 {
            ApiError::Domain(e) => describe(e),
            ApiError::Request(r) => describe_request(r),
        };
        let mut json = json!({
            "statusCode": b.status.as_u16(),
            "error": reason(b.status),
            "message": b.message,
        });
        if let Some(code) = b.error_code {
            json["errorCode"] = code.into();
        }
        let mut response = (b.status, Json(json)).into_response();
        super::retry_after_when_busy(&self.0, &mut response);
        response
    }
}
