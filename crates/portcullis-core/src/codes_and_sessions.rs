//! Web login records: authorization codes and browser sessions.

use crate::flows::extensibility::CustomClaims;
use serde::{Deserialize, Serialize};

/// What an authorization code grants, fixed at `/authorize`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    pub redirect_uri: String,
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// When the user last typed a password (seconds): the ID token's `auth_time`.
    #[serde(default)]
    pub auth_time: Option<i64>,
    /// Claims the login's Actions and Rules added.
    #[serde(default, skip_serializing_if = "CustomClaims::is_empty")]
    pub claims: CustomClaims,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCodeRecord {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub grant: CodeGrant,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// When the session's login passed a second factor, if it did.
    pub mfa_at: Option<i64>,
}

/// Authorization codes live 10 minutes and work once.
pub const CODE_LIFETIME_SECS: i64 = 600;
/// Browser sessions last 3 days (Auth0's default inactivity timeout).
pub const SESSION_LIFETIME_SECS: i64 = 259_200;
