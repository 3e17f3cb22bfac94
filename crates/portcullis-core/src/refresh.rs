//! Refresh tokens as Auth0 issues them: opaque, stored hashed, per client `rotating` (each use
//! returns a new token; reusing a rotated one revokes the whole family) or `non-rotating`,
//! with absolute and idle lifetimes.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub family_id: String,
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    pub audience: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub idle_expires_at: Option<i64>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshLookup {
    /// Usable (rotating: it has now been marked rotated and its successor inserted).
    Valid(RefreshTokenRecord),
    /// A rotated token presented again: its family has been revoked.
    Reused { family_id: String, user_id: String },
    /// Unknown, revoked or expired.
    Invalid,
}

/// A client's `refresh_token` settings (Auth0's names and defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshPolicy {
    pub rotating: bool,
    /// Absolute lifetime in seconds; `None` = infinite.
    pub token_lifetime: Option<i64>,
    /// Idle lifetime in seconds; `None` = infinite.
    pub idle_token_lifetime: Option<i64>,
}

impl Default for RefreshPolicy {
    /// Auth0's defaults: non-rotating, non-expiring.
    fn default() -> Self {
        Self {
            rotating: false,
            token_lifetime: None,
            idle_token_lifetime: None,
        }
    }
}
