//! The storage contract. Every method that must be atomic owns its transaction inside the
//! implementation; nothing here exposes one. Unique-key violations arrive as
//! [`StoreError::Conflict`], so concurrent writers on several nodes resolve in the database.

use async_trait::async_trait;

use crate::logs::{LogEvent, LogQuery};
use crate::user::UserRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Email,
    Username,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint on {0:?}")]
    Conflict(UniqueField),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Internal(String),
}

/// Which users to list, with Auth0's paging.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Exact (lower-cased) e-mail.
    pub email: Option<String>,
    pub connection: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// A password hash being replaced, for the password history.
#[derive(Debug, Clone)]
pub struct RetiredPassword {
    pub hash: String,
    pub retired_at: i64,
    /// How many retired hashes to keep (Auth0 keeps at most 24).
    pub keep: u32,
}

/// A signing key as stored: its private key never leaves the store but to sign.
#[derive(Debug, Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// Increases by one per rotation; unique, so two nodes racing to create the first key
    /// (or to rotate) cannot both succeed.
    pub generation: i64,
    pub private_key_pem: String,
    pub created_at: i64,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn user_by_email(
        &self,
        connection: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StoreError>;
    async fn user_by_username(
        &self,
        connection: &str,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError>;
    /// Users and the total number matching, ordered by creation.
    async fn list_users(&self, query: &UserQuery) -> Result<(Vec<UserRecord>, u64), StoreError>;
    /// Replaces every field of the user whose id and `version` match `user.id` and
    /// `expected_version`; the stored version becomes `expected_version + 1`. With `retired`,
    /// in the same transaction, the replaced password hash joins the user's password history,
    /// which is pruned to its newest `keep` entries.
    /// `Ok(false)` when the user changed meanwhile or no longer exists.
    async fn replace_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        retired: Option<&RetiredPassword>,
    ) -> Result<bool, StoreError>;
    /// The user's retired password hashes, newest first, at most `limit`.
    async fn password_history(&self, id: &str, limit: u32) -> Result<Vec<String>, StoreError>;
    async fn delete_user(&self, id: &str) -> Result<bool, StoreError>;
    /// Counts a successful login atomically (`logins_count + 1`, `last_login`, `last_ip`).
    async fn record_login(&self, id: &str, at: i64, ip: Option<&str>) -> Result<(), StoreError>;

    /// Appends a tenant log event.
    async fn append_log(&self, event: &LogEvent) -> Result<(), StoreError>;
    /// Log events and the total number matching.
    async fn list_logs(&self, query: &LogQuery) -> Result<(Vec<LogEvent>, u64), StoreError>;
    async fn log_by_id(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError>;

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Inserts a key unless its generation exists (then `Conflict`).
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError>;
}
