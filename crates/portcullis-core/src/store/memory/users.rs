//! Users, their password history and login statistics.

use super::*;

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
