//! What a hosted page says when a flow fails: Auth0's reset-page texts (its password reset
//! page template: `weakPasswordError`, `passwordHistoryError`, …) and Lock's English strings.

use axum::http::StatusCode;
use portcullis_core::Error;

use super::internal;

pub fn page_message(error: &Error) -> (StatusCode, String) {
    use StatusCode as S;
    let text = |s: &str| s.to_owned();
    match error {
        Error::WeakPassword { report, .. } => {
            let checklist: Vec<String> = report
                .checklist()
                .into_iter()
                .map(|(depth, text, met)| {
                    let indent = "  ".repeat(usize::from(depth));
                    let mark = if met { "✓" } else { "✗" };
                    format!("{indent}{mark} {text}")
                })
                .collect();
            (
                S::BAD_REQUEST,
                format!("Password is too weak.\n{}", checklist.join("\n")),
            )
        }
        Error::PasswordInHistory { .. } => {
            (S::BAD_REQUEST, text("Password has previously been used."))
        }
        Error::PasswordTooCommon => (S::BAD_REQUEST, text("Password is too common.")),
        Error::PasswordContainsUserInfo => (
            S::BAD_REQUEST,
            text("Password is based on user information."),
        ),
        Error::PasswordLeaked => (
            S::BAD_REQUEST,
            text(
                "This password was detected in a public data breach on another website. Please use a different password.",
            ),
        ),
        // Lock's `mfa_invalid_code` text.
        Error::InvalidOtp => (S::BAD_REQUEST, text("Wrong code. Please try again.")),
        Error::InvalidRecoveryCode => (
            S::BAD_REQUEST,
            text("The recovery code is not valid. Please try again."),
        ),
        Error::AlreadyEnrolled => (S::BAD_REQUEST, text("You are already enrolled.")),
        Error::InvalidTicket | Error::UserNotFound => (
            S::BAD_REQUEST,
            text("This link is invalid, has expired, or was already used."),
        ),
        Error::BreachLookupUnavailable => (
            S::SERVICE_UNAVAILABLE,
            text("The password could not be checked right now; please try again later."),
        ),
        Error::InvalidRedirectUri => (
            S::BAD_REQUEST,
            text("The redirect_uri is not in the application's Allowed Callback URLs."),
        ),
        // Auth0's logout error, quoting the URL.
        Error::InvalidReturnTo(url) => (
            S::BAD_REQUEST,
            format!(
                "The \"returnTo\" querystring parameter \"{url}\" is not defined as a valid URL in \"Allowed Logout URLs\"."
            ),
        ),
        Error::SignupDenied {
            reason,
            user_message,
        } => (
            S::BAD_REQUEST,
            user_message.clone().unwrap_or_else(|| reason.clone()),
        ),
        Error::LoginDenied { reason } | Error::RuleUnauthorized { reason } => {
            (S::FORBIDDEN, reason.clone())
        }
        Error::ScriptFailed(_) => (
            S::BAD_REQUEST,
            text("We could not complete this request. Please try again later."),
        ),
        Error::CrossOriginNotAllowed => (
            S::FORBIDDEN,
            text("This application may not log you in from its own page."),
        ),
        Error::InvalidLoginTicket => (
            S::BAD_REQUEST,
            text("This login has expired. Please log in again from the application."),
        ),
        Error::InvalidLoginState => (
            S::BAD_REQUEST,
            text("This login page has expired. Please start again from the application."),
        ),
        // The hosted login and sign-up pages (Auth0's Universal Login wording).
        Error::UserExists => (S::BAD_REQUEST, text("The user already exists.")),
        Error::UsernameExists => (S::BAD_REQUEST, text("The username already exists.")),
        Error::SignupDisabled => (S::FORBIDDEN, text("Sign-ups are not allowed.")),
        Error::InvalidEmail(_) => (S::BAD_REQUEST, text("Email is not valid.")),
        Error::UsernameRequired => (S::BAD_REQUEST, text("Username is required.")),
        Error::UsernameNotAllowed | Error::InvalidUsername(_) => {
            (S::BAD_REQUEST, text("Username is not valid."))
        }
        Error::WrongCredentials { by_username: false } => {
            (S::BAD_REQUEST, text("Wrong email or password."))
        }
        Error::WrongCredentials { by_username: true } => {
            (S::BAD_REQUEST, text("Wrong username or password."))
        }
        Error::UserBlocked => (
            S::UNAUTHORIZED,
            text("Your account has been blocked. Please contact the administrator."),
        ),
        Error::TooManyAttempts => (
            S::TOO_MANY_REQUESTS,
            text(
                "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it.",
            ),
        ),
        Error::SuspiciousIp => (S::TOO_MANY_REQUESTS, text(super::oauth::SUSPICIOUS_IP)),
        Error::MfaRequired { .. } | Error::MfaRegistrationRequired { .. } => (
            S::FORBIDDEN,
            text(
                "Multi-factor authentication is required for this account; this application cannot complete it yet.",
            ),
        ),
        Error::MfaTooManyAttempts => (
            S::TOO_MANY_REQUESTS,
            text("Too many wrong codes. Please wait and try again later."),
        ),
        Error::UnknownClient
        | Error::UnsupportedResponseType(_)
        | Error::PkceRequired
        | Error::LoginRequired
        | Error::NonceRequired
        | Error::ActionNotFound
        | Error::ActionNameTaken(_)
        | Error::InvalidAction(_)
        | Error::InvalidAuthorizationCode
        | Error::CodeVerifierMismatch
        | Error::ClientAuthenticationFailed
        | Error::GrantTypeNotAllowed(_)
        | Error::UnsupportedGrantType(_)
        | Error::UnknownConnection
        | Error::ConnectionDisabledForClient { .. }
        | Error::NoDefaultConnection
        | Error::InvalidRefreshToken
        | Error::RedirectUriRequired
        | Error::RefreshUserGone
        | Error::InvalidMfaToken
        | Error::ExpiredMfaToken
        | Error::MfaTokenOfOtherClient
        | Error::NotEnrolled
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
        | Error::LogNotFound
        | Error::IpNotBlocked => (S::BAD_REQUEST, text("The request could not be completed.")),
        Error::Hash(portcullis_core::password::hasher::HashError::Busy) => (
            S::TOO_MANY_REQUESTS,
            text("Too many requests right now. Please try again in a moment."),
        ),
        Error::Store(_) | Error::Hash(_) | Error::Key(_) | Error::ContentionExhausted => {
            let failure = internal(error);
            (
                failure.status,
                format!(
                    "Something went wrong (error id {}). Please try again later.",
                    failure.id
                ),
            )
        }
    }
}

/// Auth0's `error` and `error_description` for an `/authorize` request that cannot go back to
/// its application (unknown client, or a `redirect_uri` that is not one of its callbacks): what
/// its error page is given.
pub fn authorize_refusal(
    error: &Error,
    client_id: Option<&str>,
    redirect_uri: Option<&str>,
) -> (&'static str, String) {
    match (error, client_id, redirect_uri) {
        (Error::UnknownClient, None, _) => (
            "invalid_request",
            "Missing required parameter: client_id".to_owned(),
        ),
        (Error::UnknownClient, Some(id), _) => ("invalid_request", format!("Unknown client: {id}")),
        (_, _, None) => (
            "invalid_request",
            "Missing required parameter: redirect_uri".to_owned(),
        ),
        (_, _, Some(uri)) => (
            "unauthorized_client",
            format!("Callback URL mismatch. {uri} is not in the list of allowed callback URLs."),
        ),
    }
}

/// The title of the error page.
pub const ERROR_PAGE_TITLE: &str = "Something went wrong";
