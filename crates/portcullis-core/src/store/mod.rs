//! The storage contract. Every method that must be atomic owns its transaction inside the
//! implementation; nothing here exposes one. Unique-key violations arrive as
//! [`StoreError::Conflict`], so concurrent writers on several nodes resolve in the database.

pub mod memory;

use async_trait::async_trait;

use crate::actions::{ActionRecord, BindingRecord};
use crate::attack::brute_force::{AttemptKey, FailureCount};
use crate::codes_and_sessions::{AuthCodeRecord, SessionRecord};
use crate::logs::{LogEvent, LogQuery};
use crate::mfa::{AuthenticatorRecord, MfaTokenRecord};
use crate::refresh::{RefreshHistory, RefreshTokenRecord};
use crate::tickets::TicketRecord;
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
    /// Also count every match: a scan of the matching rows, which on a large tenant costs
    /// more than the page itself, so only when asked (`include_totals`).
    pub with_total: bool,
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

/// Every aggregate's trait, for the callers of the store (`use crate::store::prelude::*`):
/// their methods are then callable on a `dyn Store`.
pub mod prelude {
    pub use super::{
        ActionStore, AttemptStore, KeyStore, LogStore, MfaStore, SessionStore, SettingStore, Store,
        TicketStore, UserStore,
    };
}

/// The whole store: every aggregate's contract, as the tenant holds it. Implemented for every
/// type that implements them all; a new aggregate is a new trait added here.
pub trait Store:
    UserStore
    + AttemptStore
    + TicketStore
    + MfaStore
    + SessionStore
    + ActionStore
    + SettingStore
    + LogStore
    + KeyStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: UserStore
        + AttemptStore
        + TicketStore
        + MfaStore
        + SessionStore
        + ActionStore
        + SettingStore
        + LogStore
        + KeyStore
        + std::fmt::Debug
{
}

/// Users, their password history and login statistics.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// Inserts users in one transaction: all of them, or none on any error (seeding).
    async fn insert_users(&self, users: &[UserRecord]) -> Result<(), StoreError>;
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
    /// Whether `connection` has a user with `email`: as cheap when one exists as when none
    /// does (nothing but one flag to read), where timing must not tell which.
    async fn user_exists(&self, connection: &str, email: &str) -> Result<bool, StoreError>;
    /// A page of users ordered by creation, and the number of all matches when
    /// `query.with_total` asks for it.
    async fn list_users(
        &self,
        query: &UserQuery,
    ) -> Result<(Vec<UserRecord>, Option<u64>), StoreError>;
    /// Replaces every field of the user whose id and `version` match `user.id` and
    /// `expected_version`; the stored version becomes `expected_version + 1`. With `retired`,
    /// in the same transaction, the replaced password hash joins the user's password history,
    /// which is pruned to its newest `keep` entries. With `end_sessions_at`, in the same
    /// transaction, the user's sessions and refresh tokens are revoked at that time.
    /// `Ok(false)` when the user changed meanwhile or no longer exists.
    async fn replace_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        retired: Option<&RetiredPassword>,
        end_sessions_at: Option<i64>,
    ) -> Result<bool, StoreError>;
    /// The user's retired password hashes, newest first, at most `limit`.
    async fn password_history(&self, id: &str, limit: u32) -> Result<Vec<String>, StoreError>;
    async fn delete_user(&self, id: &str) -> Result<bool, StoreError>;
    /// Counts a successful login atomically (`logins_count + 1`, `last_login`, `last_ip`).
    /// Counts a successful login atomically (`logins_count + 1`, `last_login`, `last_ip`) and
    /// appends its log event in the same transaction: one commit per login.
    async fn record_login(
        &self,
        id: &str,
        at: i64,
        ip: Option<&str>,
        event: &LogEvent,
    ) -> Result<(), StoreError>;
}

/// Brute-force counters per (connection, identifier, address) and the suspicious-IP buckets:
/// atomic counters only; the rules that drive them are in `attack`.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Counts one failed login under `key` atomically and, when the count reaches
    /// `max_attempts`, blocks the key (a block never moves once set). A count whose last
    /// failure is before `lapsed_before` starts over. Returns the new count.
    async fn record_login_failure(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<FailureCount, StoreError>;
    /// Reserves one attempt under `key` before its password is checked, in one statement: it
    /// counts as a failure at once (`last_failure = now`), unless the key is blocked or its
    /// count already reached `max_attempts` — then nothing changes and `None` comes back. A
    /// count that lapsed (no failure since `lapsed_before`) starts over. Returns the new count.
    async fn reserve_login_attempt(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<Option<u32>, StoreError>;
    /// Blocks `key` at `now` if its count reached `max_attempts` and it is not blocked yet;
    /// whether this call blocked it.
    async fn block_login_key(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
    ) -> Result<bool, StoreError>;
    /// Settles the reservation `slot` of `key` as a success: the count starts over (Auth0's
    /// reset after a successful login) when no attempt was reserved after this one; otherwise
    /// only this attempt is given back, so the ones still in flight keep their places. A
    /// block stays.
    async fn settle_login_success(&self, key: &AttemptKey, slot: u32) -> Result<(), StoreError>;
    /// Gives back one reserved attempt of an unblocked `key` (a right password refused for
    /// another reason).
    async fn return_login_attempt(&self, key: &AttemptKey) -> Result<(), StoreError>;
    /// The current count of `key` (`blocked_at` set when blocked), unless it has lapsed: no
    /// failure since `not_before`.
    async fn login_attempts(
        &self,
        key: &AttemptKey,
        not_before: i64,
    ) -> Result<Option<FailureCount>, StoreError>;
    /// Forgets failures under `key` (a successful login).
    async fn clear_login_failures(&self, key: &AttemptKey) -> Result<(), StoreError>;
    /// Blocked keys of these identifiers (in any connection when `connection` is `None`).
    async fn login_blocks(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
        not_before: i64,
    ) -> Result<Vec<AttemptKey>, StoreError>;
    /// Removes every failure count and block of these identifiers; how many keys were blocked.
    async fn unblock_identifiers(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
    ) -> Result<u64, StoreError>;
    /// Takes one token from the bucket of `(stage, ip)` if one is left: `max(tat, now) + rate`
    /// within `limit` of `now`. Returns the bucket's new state (`tat`) when the event was
    /// admitted, `None` when it was refused.
    async fn take_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        now: i64,
        rate: i64,
        limit: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// Gives one token back to the bucket of `(stage, ip)` (`tat − rate`): an event that was
    /// admitted before its outcome was known and turned out not to count.
    async fn return_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        rate: i64,
    ) -> Result<(), StoreError>;
    /// The bucket's state (`tat`) of `(stage, ip)`, if any.
    async fn throttle_state(&self, stage: &str, ip: &str) -> Result<Option<i64>, StoreError>;
    /// Forgets every bucket of `ip`; whether there was one.
    async fn clear_throttle(&self, ip: &str) -> Result<bool, StoreError>;
}

/// Mailed tickets (verification, reset, unblock, enrollment).
#[async_trait]
pub trait TicketStore: Send + Sync {
    async fn insert_ticket(&self, ticket: &TicketRecord) -> Result<(), StoreError>;
    /// An unused, unexpired ticket of `kind`, without using it.
    async fn ticket(
        &self,
        id_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<TicketRecord>, StoreError>;
    /// Marks the ticket used and returns it, atomically, if it exists, is of `kind`, unused
    /// and not expired at `now`; a second redemption finds nothing.
    async fn consume_ticket(
        &self,
        id_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<TicketRecord>, StoreError>;
    /// Marks every unused ticket of `kind` of the user used at `now` (a newer one replaces
    /// them); how many.
    async fn void_tickets(&self, user_id: &str, kind: &str, now: i64) -> Result<u64, StoreError>;
}

/// MFA tokens and authenticators.
#[async_trait]
pub trait MfaStore: Send + Sync {
    async fn insert_mfa_token(&self, token: &MfaTokenRecord) -> Result<(), StoreError>;
    /// An unused MFA token, expired or not (the caller tells the two apart).
    async fn mfa_token(&self, token_hash: &str) -> Result<Option<MfaTokenRecord>, StoreError>;
    /// Uses an MFA token once: `false` when it was used (or expired) meanwhile.
    async fn consume_mfa_token(&self, token_hash: &str, now: i64) -> Result<bool, StoreError>;
    async fn insert_authenticator(
        &self,
        authenticator: &AuthenticatorRecord,
    ) -> Result<(), StoreError>;
    async fn authenticators(&self, user_id: &str) -> Result<Vec<AuthenticatorRecord>, StoreError>;
    /// Deletes one authenticator of the user (or all with `None`); how many.
    async fn delete_authenticators(
        &self,
        user_id: &str,
        id: Option<&str>,
    ) -> Result<u64, StoreError>;
    /// Deletes the user's unconfirmed authenticators of `kind` (a restarted enrollment).
    async fn delete_pending_authenticators(
        &self,
        user_id: &str,
        kind: &str,
    ) -> Result<(), StoreError>;
    /// Accepts a TOTP step once: confirms the authenticator, resets its failures, and records
    /// the step, unless a step at or after it was already accepted.
    async fn accept_otp_step(&self, id: &str, step: i64) -> Result<bool, StoreError>;
    /// Replaces the user's recovery code `old_hash` by `new_hash` atomically: `false` when no
    /// such code is current (wrong, or used meanwhile).
    async fn rotate_recovery_code(
        &self,
        user_id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError>;
}

/// Refresh tokens, authorization codes and browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError>;
    /// The token, if it is usable at `now` (not rotated, not revoked, not expired).
    async fn usable_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;
    /// Rotates a usable token at `now` in one transaction: it is marked rotated and
    /// `successor` inserted. `None` (nothing changed) when it was not usable — rotated by a
    /// concurrent request, revoked or expired.
    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;
    /// What became of a token, usable or not.
    async fn refresh_history(&self, token_hash: &str)
    -> Result<Option<RefreshHistory>, StoreError>;
    /// Revokes every live token of a family at `now`; how many.
    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError>;
    /// Revokes the family of a token of `client_id`; whether one was found.
    async fn revoke_refresh_family(
        &self,
        token_hash: &str,
        client_id: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    async fn insert_auth_code(&self, code: &AuthCodeRecord) -> Result<(), StoreError>;
    /// Uses an authorization code once: the record when it was unused and unexpired at `now`.
    async fn consume_auth_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<AuthCodeRecord>, StoreError>;
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// A live session (not revoked, not expired at `now`).
    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError>;
    async fn revoke_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError>;
}

/// Actions deployed through the Management API and their bindings.
#[async_trait]
pub trait ActionStore: Send + Sync {
    /// Actions deployed through the Management API; a taken name is a `Conflict`.
    async fn insert_action(&self, action: &ActionRecord) -> Result<(), StoreError>;
    async fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError>;
    async fn list_actions(&self) -> Result<Vec<ActionRecord>, StoreError>;
    /// `Ok(false)` when the action no longer exists.
    async fn replace_action(&self, action: &ActionRecord) -> Result<bool, StoreError>;
    /// Removes the action and its bindings together.
    async fn delete_action(&self, id: &str) -> Result<bool, StoreError>;
    /// Replaces a trigger's bindings with `bindings`, in that order, atomically.
    async fn replace_bindings(
        &self,
        trigger: &str,
        bindings: &[BindingRecord],
    ) -> Result<(), StoreError>;
    /// Every binding, by trigger and in order.
    async fn bindings(&self) -> Result<Vec<BindingRecord>, StoreError>;
}

/// Tenant settings stored by the Management API, and the pool's health.
#[async_trait]
pub trait SettingStore: Send + Sync {
    /// A tenant setting stored by the Management API (JSON text).
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// The connection pool's open and idle connections, for the operator's metrics.
    fn pool_usage(&self) -> Option<(u32, u32)> {
        None
    }
    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;
}

/// Tenant log events.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// Deletes log events older than `before`; how many.
    async fn prune_logs(&self, before: i64) -> Result<u64, StoreError>;
    /// Appends a tenant log event.
    async fn append_log(&self, event: &LogEvent) -> Result<(), StoreError>;
    /// Log events and the total number matching.
    async fn list_logs(&self, query: &LogQuery) -> Result<(Vec<LogEvent>, u64), StoreError>;
    async fn log_by_id(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError>;
}

/// Signing keys, and the columns sealed under the at-rest keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Inserts a key unless its generation exists (then `Conflict`).
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError>;
    /// Deletes the keys older than `generation`; how many.
    async fn delete_signing_keys_before(&self, generation: i64) -> Result<u64, StoreError>;
    /// Every stored value of `column` as (row id, stored value), for resealing at rest.
    async fn sealed_values(
        &self,
        column: SealedColumn,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// Replaces a stored value of `column` if it is still `old`; whether it was.
    async fn replace_sealed_value(
        &self,
        column: SealedColumn,
        id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError>;
}

/// The stored columns whose values are sealed under the at-rest keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// TOTP secrets, by authenticator id.
    OtpSecret,
    /// Signing keys' private halves, by key id.
    SigningKey,
}
