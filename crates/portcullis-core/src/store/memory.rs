//! The store in memory, for the flows' unit tests: every aggregate's contract kept by plain
//! collections behind one lock, so each method is as atomic as a statement in the database.
//! It passes the same conformance suite as the SQL store.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

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

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.state().insert_user(user)
    }

    async fn insert_users(&self, users: &[UserRecord]) -> Result<(), StoreError> {
        let mut state = self.state();
        let before = state.users.clone();
        for user in users {
            if let Err(e) = state.insert_user(user) {
                state.users = before;
                return Err(e);
            }
        }
        Ok(())
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.state().users.get(id).cloned())
    }

    async fn user_by_email(
        &self,
        connection: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        Ok(self
            .state()
            .users
            .values()
            .find(|u| u.connection == connection && u.email == email)
            .cloned())
    }

    async fn user_by_username(
        &self,
        connection: &str,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        Ok(self
            .state()
            .users
            .values()
            .find(|u| u.connection == connection && u.username.as_deref() == Some(username))
            .cloned())
    }

    async fn user_exists(&self, connection: &str, email: &str) -> Result<bool, StoreError> {
        Ok(self.user_by_email(connection, email).await?.is_some())
    }

    async fn list_users(
        &self,
        query: &UserQuery,
    ) -> Result<(Vec<UserRecord>, Option<u64>), StoreError> {
        let state = self.state();
        let mut matching: Vec<&UserRecord> = state
            .users
            .values()
            .filter(|u| query.email.as_ref().is_none_or(|e| &u.email == e))
            .filter(|u| query.connection.as_ref().is_none_or(|c| &u.connection == c))
            .collect();
        matching.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let total = query.with_total.then_some(matching.len() as u64);
        let page = matching
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        Ok((page, total))
    }

    async fn replace_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        retired: Option<&RetiredPassword>,
        end_sessions_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(current) = state.users.get(&user.id) else {
            return Ok(false);
        };
        if current.version != expected_version {
            return Ok(false);
        }
        if let Some(field) = state.clash(user) {
            return Err(StoreError::Conflict(field));
        }
        // The login statistics are `record_login`'s: a concurrent login is never overwritten.
        let next = UserRecord {
            logins_count: current.logins_count,
            last_login: current.last_login,
            last_ip: current.last_ip.clone(),
            created_at: current.created_at,
            connection: current.connection.clone(),
            version: expected_version + 1,
            ..user.clone()
        };
        state.users.insert(user.id.clone(), next);
        if let Some(retired) = retired {
            let history = state.password_history.entry(user.id.clone()).or_default();
            history.push(retired.hash.clone());
            let keep = usize::try_from(retired.keep).unwrap_or(usize::MAX);
            if history.len() > keep {
                history.drain(..history.len() - keep);
            }
        }
        if let Some(now) = end_sessions_at {
            state.end_sessions(&user.user_id(), now);
        }
        Ok(true)
    }

    async fn password_history(&self, id: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        Ok(self
            .state()
            .password_history
            .get(id)
            .map(|h| {
                h.iter()
                    .rev()
                    .take(usize::try_from(limit).unwrap_or(usize::MAX))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        state.password_history.remove(id);
        state.authenticators.retain(|_, a| a.user_id != id);
        Ok(state.users.remove(id).is_some())
    }

    async fn record_login(
        &self,
        id: &str,
        at: i64,
        ip: Option<&str>,
        event: &LogEvent,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(user) = state.users.get_mut(id) {
            user.logins_count += 1;
            user.last_login = Some(at);
            user.last_ip = ip.map(str::to_owned);
        }
        state.logs.push(event.clone());
        Ok(())
    }
}

#[async_trait]
impl AttemptStore for MemoryStore {
    async fn record_login_failure(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<FailureCount, StoreError> {
        let mut state = self.state();
        let entry = state.attempts.entry(key_of(key)).or_default();
        if entry.failures == 0 || entry.last_failure < lapsed_before {
            entry.failures = 1;
            entry.blocked_at = (1 >= max_attempts).then_some(now);
        } else {
            entry.failures += 1;
            if entry.blocked_at.is_none() && entry.failures >= max_attempts {
                entry.blocked_at = Some(now);
            }
        }
        entry.last_failure = now;
        Ok(FailureCount {
            failures: entry.failures,
            blocked_at: entry.blocked_at,
        })
    }

    async fn reserve_login_attempt(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<Option<u32>, StoreError> {
        let mut state = self.state();
        let key = key_of(key);
        let Some(entry) = state.attempts.get_mut(&key) else {
            state.attempts.insert(
                key,
                Attempts {
                    failures: 1,
                    last_failure: now,
                    blocked_at: None,
                },
            );
            return Ok(Some(1));
        };
        if entry.last_failure < lapsed_before {
            *entry = Attempts {
                failures: 1,
                last_failure: now,
                blocked_at: None,
            };
            return Ok(Some(1));
        }
        if entry.blocked_at.is_none() && entry.failures < max_attempts {
            entry.failures += 1;
            entry.last_failure = now;
            return Ok(Some(entry.failures));
        }
        Ok(None)
    }

    async fn block_login_key(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.attempts.get_mut(&key_of(key)) {
            Some(entry) if entry.blocked_at.is_none() && entry.failures >= max_attempts => {
                entry.blocked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn settle_login_success(&self, key: &AttemptKey, slot: u32) -> Result<(), StoreError> {
        let mut state = self.state();
        let key = key_of(key);
        match state.attempts.get_mut(&key) {
            Some(entry) if entry.blocked_at.is_none() && entry.failures <= slot => {
                state.attempts.remove(&key);
            }
            Some(entry) if entry.blocked_at.is_none() && entry.failures > 0 => {
                entry.failures -= 1;
            }
            _ => {}
        }
        Ok(())
    }

    async fn return_login_attempt(&self, key: &AttemptKey) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(entry) = state.attempts.get_mut(&key_of(key))
            && entry.blocked_at.is_none()
            && entry.failures > 0
        {
            entry.failures -= 1;
        }
        Ok(())
    }

    async fn login_attempts(
        &self,
        key: &AttemptKey,
        not_before: i64,
    ) -> Result<Option<FailureCount>, StoreError> {
        Ok(self
            .state()
            .attempts
            .get(&key_of(key))
            .filter(|a| a.last_failure >= not_before)
            .map(|a| FailureCount {
                failures: a.failures,
                blocked_at: a.blocked_at,
            }))
    }

    async fn clear_login_failures(&self, key: &AttemptKey) -> Result<(), StoreError> {
        self.state().attempts.remove(&key_of(key));
        Ok(())
    }

    async fn login_blocks(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
        not_before: i64,
    ) -> Result<Vec<AttemptKey>, StoreError> {
        Ok(self
            .state()
            .attempts
            .iter()
            .filter(|((c, i, _), a)| {
                identifiers.contains(i)
                    && connection.is_none_or(|wanted| wanted == c)
                    && a.blocked_at.is_some()
                    && a.last_failure >= not_before
            })
            .map(|((connection, identifier, ip), _)| AttemptKey {
                connection: connection.clone(),
                identifier: identifier.clone(),
                ip: ip.clone(),
            })
            .collect())
    }

    async fn unblock_identifiers(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.attempts.len();
        state.attempts.retain(|(c, i, _), _| {
            !(identifiers.contains(i) && connection.is_none_or(|wanted| wanted == c))
        });
        Ok((before - state.attempts.len()) as u64)
    }

    async fn take_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        now: i64,
        rate: i64,
        limit: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut state = self.state();
        let tat = state
            .throttle
            .entry((stage.to_owned(), ip.to_owned()))
            .or_insert(now);
        let next = (*tat).max(now) + rate;
        if next - now <= limit {
            *tat = next;
            Ok(Some(next))
        } else {
            Ok(None)
        }
    }

    async fn return_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        rate: i64,
    ) -> Result<(), StoreError> {
        if let Some(tat) = self
            .state()
            .throttle
            .get_mut(&(stage.to_owned(), ip.to_owned()))
        {
            *tat -= rate;
        }
        Ok(())
    }

    async fn throttle_state(&self, stage: &str, ip: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .state()
            .throttle
            .get(&(stage.to_owned(), ip.to_owned()))
            .copied())
    }

    async fn clear_throttle(&self, ip: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let before = state.throttle.len();
        state.throttle.retain(|(_, i), _| i != ip);
        Ok(state.throttle.len() < before)
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn insert_ticket(&self, ticket: &TicketRecord) -> Result<(), StoreError> {
        insert_new(
            &mut self.state().tickets,
            &ticket.id_hash,
            (ticket.clone(), None),
        )
    }

    async fn ticket(
        &self,
        id_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<TicketRecord>, StoreError> {
        Ok(self
            .state()
            .tickets
            .get(id_hash)
            .filter(|(t, used)| t.kind == kind && used.is_none() && t.expires_at > now)
            .map(|(t, _)| t.clone()))
    }

    async fn consume_ticket(
        &self,
        id_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<TicketRecord>, StoreError> {
        let mut state = self.state();
        match state.tickets.get_mut(id_hash) {
            Some((t, used)) if t.kind == kind && used.is_none() && t.expires_at > now => {
                *used = Some(now);
                Ok(Some(t.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn void_tickets(&self, user_id: &str, kind: &str, now: i64) -> Result<u64, StoreError> {
        let mut voided = 0;
        for (t, used) in self.state().tickets.values_mut() {
            if t.user_id == user_id && t.kind == kind && used.is_none() {
                *used = Some(now);
                voided += 1;
            }
        }
        Ok(voided)
    }
}

#[async_trait]
impl MfaStore for MemoryStore {
    async fn insert_mfa_token(&self, token: &MfaTokenRecord) -> Result<(), StoreError> {
        insert_new(
            &mut self.state().mfa_tokens,
            &token.token_hash,
            (token.clone(), false),
        )
    }

    async fn mfa_token(&self, token_hash: &str) -> Result<Option<MfaTokenRecord>, StoreError> {
        Ok(self
            .state()
            .mfa_tokens
            .get(token_hash)
            .filter(|(_, used)| !used)
            .map(|(t, _)| t.clone()))
    }

    async fn consume_mfa_token(&self, token_hash: &str, now: i64) -> Result<bool, StoreError> {
        match self.state().mfa_tokens.get_mut(token_hash) {
            Some((t, used)) if !*used && t.expires_at > now => {
                *used = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn insert_authenticator(
        &self,
        authenticator: &AuthenticatorRecord,
    ) -> Result<(), StoreError> {
        insert_new(
            &mut self.state().authenticators,
            &authenticator.id,
            authenticator.clone(),
        )
    }

    async fn authenticators(&self, user_id: &str) -> Result<Vec<AuthenticatorRecord>, StoreError> {
        let mut found: Vec<AuthenticatorRecord> = self
            .state()
            .authenticators
            .values()
            .filter(|a| a.user_id == user_id)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn delete_authenticators(
        &self,
        user_id: &str,
        id: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.authenticators.len();
        state
            .authenticators
            .retain(|_, a| !(a.user_id == user_id && id.is_none_or(|id| id == a.id)));
        Ok((before - state.authenticators.len()) as u64)
    }

    async fn delete_pending_authenticators(
        &self,
        user_id: &str,
        kind: &str,
    ) -> Result<(), StoreError> {
        self.state()
            .authenticators
            .retain(|_, a| !(a.user_id == user_id && a.kind.as_str() == kind && !a.confirmed));
        Ok(())
    }

    async fn accept_otp_step(&self, id: &str, step: i64) -> Result<bool, StoreError> {
        match self.state().authenticators.get_mut(id) {
            Some(a) if a.last_step.is_none_or(|last| last < step) => {
                a.last_step = Some(step);
                a.confirmed = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn rotate_recovery_code(
        &self,
        user_id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let found = state.authenticators.values_mut().find(|a| {
            a.user_id == user_id
                && a.kind == AuthenticatorKind::RecoveryCode
                && a.code_hash.as_deref() == Some(old_hash)
        });
        match found {
            Some(a) => {
                a.code_hash = Some(new_hash.to_owned());
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl Refresh {
    fn usable(&self, now: i64) -> bool {
        self.rotated_at.is_none()
            && self.revoked_at.is_none()
            && self.record.expires_at.is_none_or(|e| e > now)
            && self.record.idle_expires_at.is_none_or(|e| e > now)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        insert_new(
            &mut self.state().refresh,
            &token.token_hash,
            Refresh {
                record: token.clone(),
                rotated_at: None,
                revoked_at: None,
            },
        )
    }

    async fn usable_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        Ok(self
            .state()
            .refresh
            .get(token_hash)
            .filter(|t| t.usable(now))
            .map(|t| t.record.clone()))
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let mut state = self.state();
        let Some(token) = state.refresh.get_mut(token_hash).filter(|t| t.usable(now)) else {
            return Ok(None);
        };
        token.rotated_at = Some(now);
        let record = token.record.clone();
        state.refresh.insert(
            successor.token_hash.clone(),
            Refresh {
                record: successor.clone(),
                rotated_at: None,
                revoked_at: None,
            },
        );
        Ok(Some(record))
    }

    async fn refresh_history(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshHistory>, StoreError> {
        Ok(self
            .state()
            .refresh
            .get(token_hash)
            .map(|t| RefreshHistory {
                family_id: t.record.family_id.clone(),
                user_id: t.record.user_id.clone(),
                rotated: t.rotated_at.is_some(),
                revoked: t.revoked_at.is_some(),
            }))
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        let mut revoked = 0;
        for token in self.state().refresh.values_mut() {
            if token.record.family_id == family_id && token.revoked_at.is_none() {
                token.revoked_at = Some(now);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn revoke_refresh_family(
        &self,
        token_hash: &str,
        client_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let family = self
            .state()
            .refresh
            .get(token_hash)
            .filter(|t| t.record.client_id == client_id)
            .map(|t| t.record.family_id.clone());
        match family {
            Some(family) => Ok(self.revoke_family(&family, now).await? > 0),
            None => Ok(false),
        }
    }

    async fn insert_auth_code(&self, code: &AuthCodeRecord) -> Result<(), StoreError> {
        insert_new(
            &mut self.state().codes,
            &code.code_hash,
            (code.clone(), false),
        )
    }

    async fn consume_auth_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<AuthCodeRecord>, StoreError> {
        match self.state().codes.get_mut(code_hash) {
            Some((code, used)) if !*used && code.expires_at > now => {
                *used = true;
                Ok(Some(code.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        insert_new(
            &mut self.state().sessions,
            &session.id_hash,
            (session.clone(), false),
        )
    }

    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .state()
            .sessions
            .get(id_hash)
            .filter(|(s, revoked)| !revoked && s.expires_at > now)
            .map(|(s, _)| s.clone()))
    }

    async fn revoke_session(&self, id_hash: &str, _now: i64) -> Result<(), StoreError> {
        if let Some((_, revoked)) = self.state().sessions.get_mut(id_hash) {
            *revoked = true;
        }
        Ok(())
    }
}

#[async_trait]
impl ActionStore for MemoryStore {
    async fn insert_action(&self, action: &ActionRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .actions
            .values()
            .any(|a| a.id == action.id || a.name == action.name)
        {
            return Err(StoreError::Conflict(UniqueField::Other));
        }
        state.actions.insert(action.id.clone(), action.clone());
        Ok(())
    }

    async fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        Ok(self.state().actions.get(id).cloned())
    }

    async fn list_actions(&self) -> Result<Vec<ActionRecord>, StoreError> {
        let mut actions: Vec<ActionRecord> = self.state().actions.values().cloned().collect();
        actions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(actions)
    }

    async fn replace_action(&self, action: &ActionRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state
            .actions
            .values()
            .any(|a| a.id != action.id && a.name == action.name)
        {
            return Err(StoreError::Conflict(UniqueField::Other));
        }
        match state.actions.get_mut(&action.id) {
            Some(stored) => {
                *stored = ActionRecord {
                    created_at: stored.created_at,
                    ..action.clone()
                };
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_action(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        for bindings in state.bindings.values_mut() {
            bindings.retain(|b| b.action_id != id);
        }
        Ok(state.actions.remove(id).is_some())
    }

    async fn replace_bindings(
        &self,
        trigger: &str,
        bindings: &[BindingRecord],
    ) -> Result<(), StoreError> {
        self.state()
            .bindings
            .insert(trigger.to_owned(), bindings.to_vec());
        Ok(())
    }

    async fn bindings(&self) -> Result<Vec<BindingRecord>, StoreError> {
        Ok(self
            .state()
            .bindings
            .iter()
            .flat_map(|(trigger, list)| {
                list.iter().map(move |b| BindingRecord {
                    trigger: trigger.clone(),
                    ..b.clone()
                })
            })
            .collect())
    }
}

#[async_trait]
impl SettingStore for MemoryStore {
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state().settings.get(name).cloned())
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.state()
            .settings
            .insert(name.to_owned(), value.to_owned());
        Ok(())
    }
}

#[async_trait]
impl LogStore for MemoryStore {
    async fn prune_logs(&self, before: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let count = state.logs.len();
        state.logs.retain(|e| e.date >= before);
        Ok((count - state.logs.len()) as u64)
    }

    async fn append_log(&self, event: &LogEvent) -> Result<(), StoreError> {
        self.state().logs.push(event.clone());
        Ok(())
    }

    async fn list_logs(&self, query: &LogQuery) -> Result<(Vec<LogEvent>, u64), StoreError> {
        let state = self.state();
        let mut matching: Vec<&LogEvent> = state
            .logs
            .iter()
            .filter(|e| query.log_type.as_ref().is_none_or(|t| &e.log_type == t))
            .filter(|e| {
                query
                    .user_id
                    .as_ref()
                    .is_none_or(|u| e.user_id.as_ref() == Some(u))
            })
            .filter(|e| query.from.as_ref().is_none_or(|from| &e.log_id > from))
            .collect();
        matching.sort_by(|a, b| a.log_id.cmp(&b.log_id));
        if query.newest_first && query.from.is_none() {
            matching.reverse();
        }
        let total = matching.len() as u64;
        let page = matching
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        Ok((page, total))
    }

    async fn log_by_id(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError> {
        Ok(self
            .state()
            .logs
            .iter()
            .find(|e| e.log_id == log_id)
            .cloned())
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let mut keys = self.state().keys.clone();
        keys.sort_by_key(|k| std::cmp::Reverse(k.generation));
        Ok(keys)
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .keys
            .iter()
            .any(|k| k.generation == key.generation || k.kid == key.kid)
        {
            return Err(StoreError::Conflict(UniqueField::Other));
        }
        state.keys.push(key.clone());
        Ok(())
    }

    async fn delete_signing_keys_before(&self, generation: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let count = state.keys.len();
        state.keys.retain(|k| k.generation >= generation);
        Ok((count - state.keys.len()) as u64)
    }

    async fn sealed_values(
        &self,
        column: SealedColumn,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let state = self.state();
        Ok(match column {
            SealedColumn::OtpSecret => state
                .authenticators
                .values()
                .filter_map(|a| a.secret.clone().map(|s| (a.id.clone(), s)))
                .collect(),
            SealedColumn::SigningKey => {
                let mut keys = state.keys.clone();
                keys.sort_by_key(|k| k.generation);
                keys.into_iter()
                    .map(|k| (k.kid, k.private_key_pem))
                    .collect()
            }
        })
    }

    async fn replace_sealed_value(
        &self,
        column: SealedColumn,
        id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let slot = match column {
            SealedColumn::OtpSecret => state
                .authenticators
                .get_mut(id)
                .and_then(|a| a.secret.as_mut()),
            SealedColumn::SigningKey => state
                .keys
                .iter_mut()
                .find(|k| k.kid == id)
                .map(|k| &mut k.private_key_pem),
        };
        match slot {
            Some(value) if value == old => {
                *value = new.to_owned();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
