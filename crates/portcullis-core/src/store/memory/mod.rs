//! The store in memory, for the flows' unit tests: every aggregate's contract kept by plain
//! collections behind one lock, so each method is as atomic as a statement in the database.
//! It passes the same conformance suite as the SQL store. One module per aggregate, as the SQL
//! store has; the state they share is here.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

mod attempts;
mod sessions;
mod tenant;
mod tickets_and_mfa;
mod users;

use super::{
    ActionStore, AttemptStore, KeyStore, LogStore, MfaStore, RetiredPassword, SealedColumn,
    SessionStore, SettingStore, SigningKeyRecord, StoreError, TicketStore, UniqueField, UserQuery,
    UserStore,
};
use crate::actions::{ActionRecord, BindingRecord};
use crate::attack::brute_force::{AttemptKey, FailureCount};
use crate::codes_and_sessions::{AuthCodeRecord, SessionRecord};
use crate::logs::{LogEvent, LogQuery};
use crate::mfa::{AuthenticatorKind, AuthenticatorRecord, MfaTokenRecord};
use crate::refresh::{RefreshHistory, RefreshTokenRecord};
use crate::tickets::TicketRecord;
use crate::user::UserRecord;

#[derive(Debug, Default)]
struct Attempts {
    failures: u32,
    last_failure: i64,
    blocked_at: Option<i64>,
}

#[derive(Debug)]
struct Refresh {
    record: RefreshTokenRecord,
    rotated_at: Option<i64>,
    revoked_at: Option<i64>,
}

#[derive(Debug, Default)]
struct State {
    users: BTreeMap<String, UserRecord>,
    /// Retired password hashes per user id, oldest first.
    password_history: BTreeMap<String, Vec<String>>,
    attempts: BTreeMap<(String, String, String), Attempts>,
    throttle: BTreeMap<(String, String), i64>,
    /// Tickets by hash, with the time they were used.
    tickets: BTreeMap<String, (TicketRecord, Option<i64>)>,
    mfa_tokens: BTreeMap<String, (MfaTokenRecord, bool)>,
    authenticators: BTreeMap<String, AuthenticatorRecord>,
    refresh: BTreeMap<String, Refresh>,
    codes: BTreeMap<String, (AuthCodeRecord, bool)>,
    sessions: BTreeMap<String, (SessionRecord, bool)>,
    actions: BTreeMap<String, ActionRecord>,
    /// Bindings per trigger, in order.
    bindings: BTreeMap<String, Vec<BindingRecord>>,
    settings: BTreeMap<String, String>,
    logs: Vec<LogEvent>,
    keys: Vec<SigningKeyRecord>,
}

/// The store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key_of(key: &AttemptKey) -> (String, String, String) {
    (
        key.connection.clone(),
        key.identifier.clone(),
        key.ip.clone(),
    )
}

/// Inserts `value` under `key` unless the key is taken, as a primary key would.
fn insert_new<V>(map: &mut BTreeMap<String, V>, key: &str, value: V) -> Result<(), StoreError> {
    if map.contains_key(key) {
        return Err(StoreError::Conflict(UniqueField::Other));
    }
    map.insert(key.to_owned(), value);
    Ok(())
}

impl State {
    /// The unique field another user of the connection already holds, if any.
    fn clash(&self, user: &UserRecord) -> Option<UniqueField> {
        let others = self
            .users
            .values()
            .filter(|u| u.id != user.id && u.connection == user.connection);
        for other in others {
            if other.email == user.email {
                return Some(UniqueField::Email);
            }
            if user.username.is_some() && other.username == user.username {
                return Some(UniqueField::Username);
            }
        }
        None
    }

    fn insert_user(&mut self, user: &UserRecord) -> Result<(), StoreError> {
        if self.users.contains_key(&user.id) {
            return Err(StoreError::Conflict(UniqueField::Other));
        }
        if let Some(field) = self.clash(user) {
            return Err(StoreError::Conflict(field));
        }
        self.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    fn end_sessions(&mut self, user_id: &str, now: i64) {
        for (session, revoked) in self.sessions.values_mut() {
            if session.user_id == user_id {
                *revoked = true;
            }
        }
        for token in self.refresh.values_mut() {
            if token.record.user_id == user_id && token.revoked_at.is_none() {
                token.revoked_at = Some(now);
            }
        }
    }
}
