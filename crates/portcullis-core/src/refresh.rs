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

/// What became of a stored refresh token, usable or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshHistory {
    pub family_id: String,
    pub user_id: String,
    pub rotated: bool,
    pub revoked: bool,
}

impl RefreshHistory {
    /// The rule of rotation: a token already rotated, shown again while its family is live,
    /// was copied — whoever holds the family is not to be trusted, so it is revoked whole.
    pub fn is_reuse(&self) -> bool {
        self.rotated && !self.revoked
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_token_shown_again_is_a_reuse_until_its_family_is_revoked() {
        let history = |rotated, revoked| RefreshHistory {
            family_id: "f".into(),
            user_id: "u".into(),
            rotated,
            revoked,
        };
        assert!(history(true, false).is_reuse());
        assert!(!history(false, false).is_reuse(), "expired, not copied");
        assert!(!history(true, true).is_reuse(), "already revoked");
        assert!(!history(false, true).is_reuse());
    }
}
