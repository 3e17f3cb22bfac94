//! Every outcome of a flow that is not success. Variants carry data, never an HTTP status or an
//! Auth0 string: the HTTP layer's `wire` module alone turns them into Auth0's bodies.

use crate::identity::UsernameProblem;
use crate::password::hasher::HashError;
use crate::password::policy::PolicyReport;
use crate::store::StoreError;
use crate::tokens::{KeyError, TokenRejection};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- the application (client) ---
    #[error("unknown client")]
    UnknownClient,
    #[error("client authentication failed")]
    ClientAuthenticationFailed,
    #[error("grant type {0} not allowed for the client")]
    GrantTypeNotAllowed(String),
    #[error("unsupported grant type {0}")]
    UnsupportedGrantType(String),

    // --- the connection ---
    #[error("unknown connection")]
    UnknownConnection,
    #[error("connection not enabled for the client")]
    ConnectionDisabledForClient {
        client_id: String,
        connection: String,
    },
    #[error("no default directory is configured")]
    NoDefaultConnection,
    #[error("sign-up is disabled on the connection")]
    SignupDisabled,

    // --- the user's input ---
    #[error("invalid e-mail")]
    InvalidEmail(String),
    #[error("the connection does not use usernames")]
    UsernameNotAllowed,
    #[error("the connection requires a username")]
    UsernameRequired,
    #[error("invalid username")]
    InvalidUsername(UsernameProblem),
    #[error("password too weak")]
    WeakPassword {
        report: PolicyReport,
        policy: String,
    },
    #[error("password too common")]
    PasswordTooCommon,
    #[error("password contains user information")]
    PasswordContainsUserInfo,
    #[error("password used before")]
    PasswordInHistory { size: u32 },
    #[error("password found in a data breach")]
    PasswordLeaked,
    #[error("the breached-password lookup is unavailable")]
    BreachLookupUnavailable,
    #[error("user exists")]
    UserExists,
    #[error("username exists")]
    UsernameExists,

    // --- login ---
    #[error("wrong credentials")]
    WrongCredentials { by_username: bool },
    #[error("user is blocked")]
    UserBlocked,
    #[error("too many failed login attempts")]
    TooManyAttempts,
    #[error("suspicious activity from this IP address")]
    SuspiciousIp,

    // --- APIs and scopes ---
    #[error("no audience and no default audience")]
    MissingAudience,
    #[error("unknown audience {0}")]
    UnknownAudience(String),
    /// `client_credentials` for an audience that is no API of the tenant.
    #[error("no API {0} in this tenant")]
    AudienceNotEnabled(String),
    #[error("client not authorized for audience {0}")]
    AudienceNotGranted(String),
    #[error("scopes not granted: {0:?}")]
    ScopesNotGranted(Vec<String>),

    // --- bearer tokens ---
    #[error("missing authentication")]
    MissingAuthentication,
    #[error("invalid token: {0:?}")]
    InvalidToken(TokenRejection),
    #[error("insufficient scope, expected any of {0:?}")]
    InsufficientScope(&'static [&'static str]),
    /// A change to fields the token's scope does not cover (a user's profile with only
    /// `update:users_app_metadata`).
    #[error("the scope does not allow changing {0:?}")]
    FieldsNotUpdatable(Vec<&'static str>),

    // --- users by id ---
    #[error("user not found")]
    UserNotFound,
    #[error("log event not found")]
    LogNotFound,
    #[error("the IP address is not blocked")]
    IpNotBlocked,
    #[error("the ticket is invalid, expired or used")]
    InvalidTicket,

    // --- web login ---
    #[error("the redirect_uri is not registered for the client")]
    InvalidRedirectUri,
    #[error("unsupported response_type {0}")]
    UnsupportedResponseType(String),
    #[error("PKCE is required for this client")]
    PkceRequired,
    #[error("login required")]
    LoginRequired,
    #[error("invalid authorization code")]
    InvalidAuthorizationCode,
    /// A code exchanged without the `redirect_uri` its `/authorize` request had (RFC 6749
    /// §4.1.3).
    #[error("redirect_uri required")]
    RedirectUriRequired,
    #[error("the code verifier does not match")]
    CodeVerifierMismatch,
    #[error("the login page's state is invalid or expired")]
    InvalidLoginState,
    /// `/co/authenticate` for a client that does not allow it, or from an origin it does
    /// not list.
    #[error("cross origin login not allowed")]
    CrossOriginNotAllowed,
    /// `/authorize?login_ticket=` with a ticket that is unknown, used, expired, of another
    /// client, or presented by another browser.
    #[error("invalid login ticket")]
    InvalidLoginTicket,
    /// A pre-user-registration Action's `api.access.deny(reason, userMessage)`.
    #[error("sign-up denied by an action: {reason}")]
    SignupDenied {
        reason: String,
        user_message: Option<String>,
    },
    /// A post-login Action's `api.access.deny(reason)`, or a Rule's error.
    #[error("login denied: {reason}")]
    LoginDenied { reason: String },
    /// A Rule's `callback(new UnauthorizedError(reason))`.
    #[error("login refused by a rule: {reason}")]
    RuleUnauthorized { reason: String },
    /// An Action or Rule that threw, timed out or ran out of memory.
    #[error("extensibility error: {0}")]
    ScriptFailed(String),
    /// No Action has this id.
    #[error("action not found")]
    ActionNotFound,
    /// Another Action (deployed from a file or the API) has this name.
    #[error("an action named {0} already exists")]
    ActionNameTaken(String),
    /// An Action, or a binding, that cannot be: unknown trigger, not deployed, …
    #[error("invalid action: {0}")]
    InvalidAction(String),
    /// An implicit request for an ID token without a `nonce`.
    #[error("nonce required")]
    NonceRequired,
    #[error("the returnTo URL is not allowed")]
    InvalidReturnTo(String),

    // --- refresh tokens ---
    #[error("unknown or invalid refresh token")]
    InvalidRefreshToken,
    #[error("the refresh token's user no longer exists")]
    RefreshUserGone,

    // --- multi-factor authentication ---
    #[error("multifactor authentication required")]
    MfaRequired { mfa_token: String, enrolled: bool },
    #[error("multifactor registration required")]
    MfaRegistrationRequired { mfa_token: String },
    #[error("invalid mfa_token")]
    InvalidMfaToken,
    #[error("expired mfa_token")]
    ExpiredMfaToken,
    #[error("mfa_token of another client")]
    MfaTokenOfOtherClient,
    #[error("the user is not enrolled")]
    NotEnrolled,
    #[error("invalid otp code")]
    InvalidOtp,
    #[error("invalid recovery code")]
    InvalidRecoveryCode,
    #[error("too many failed codes")]
    MfaTooManyAttempts,
    #[error("the user is already enrolled")]
    AlreadyEnrolled,
    #[error("unsupported authenticator {0}")]
    UnsupportedAuthenticator(String),
    #[error("authenticator not found")]
    AuthenticatorNotFound,

    // --- not the client's fault ---
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("concurrent updates kept colliding")]
    ContentionExhausted,
}
