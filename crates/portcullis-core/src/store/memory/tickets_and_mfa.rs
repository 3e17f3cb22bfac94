//! Mailed tickets, MFA tokens and authenticators.

use super::*;

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
