//! Refresh tokens, authorization codes and browser sessions.

use super::*;

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
