//! MFA tokens (proof of a password, waiting for a second factor) and authenticators.

use async_trait::async_trait;
use portcullis_core::mfa::{AuthenticatorKind, AuthenticatorRecord, MfaTokenRecord};
use portcullis_core::store::{MfaStore, StoreError};

use crate::SqlStore;

const INSERT_MFA_TOKEN: &str = "INSERT INTO mfa_tokens (token_hash, user_id, client_id, request, \
    created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
const MFA_TOKEN: &str = "SELECT token_hash, user_id, client_id, request, created_at, expires_at \
    FROM mfa_tokens WHERE token_hash = $1 AND used_at IS NULL";
const CONSUME_MFA_TOKEN: &str = "UPDATE mfa_tokens SET used_at = $2 \
    WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
const INSERT_AUTHENTICATOR: &str = "INSERT INTO authenticators (id, user_id, kind, secret, \
    code_hash, confirmed, created_at, last_step) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const AUTHENTICATORS: &str = "SELECT id, user_id, kind, secret, code_hash, confirmed, \
    created_at, last_step FROM authenticators WHERE user_id = $1 ORDER BY created_at, id";
const DELETE_AUTHENTICATOR: &str = "DELETE FROM authenticators WHERE user_id = $1 AND id = $2";
const DELETE_AUTHENTICATORS: &str = "DELETE FROM authenticators WHERE user_id = $1";
const DELETE_PENDING_AUTHENTICATORS: &str =
    "DELETE FROM authenticators WHERE user_id = $1 AND kind = $2 AND confirmed = $3";
/// Accepts step `$2` of authenticator `$1` unless a step at or after it was accepted.
const ACCEPT_OTP_STEP: &str = "UPDATE authenticators SET last_step = $2, confirmed = $3, \
    failures = 0, failures_since = NULL WHERE id = $1 AND (last_step IS NULL OR last_step < $2)";
const ROTATE_RECOVERY_CODE: &str = "UPDATE authenticators SET code_hash = $3 \
    WHERE user_id = $1 AND kind = 'recovery-code' AND code_hash = $2";

#[derive(Debug, sqlx::FromRow)]
struct MfaTokenRow {
    token_hash: String,
    user_id: String,
    client_id: String,
    request: String,
    created_at: i64,
    expires_at: i64,
}

impl MfaTokenRow {
    fn into_record(self) -> MfaTokenRecord {
        MfaTokenRecord {
            request: serde_json::from_str(&self.request).unwrap_or_default(),
            token_hash: self.token_hash,
            user_id: self.user_id,
            client_id: self.client_id,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct AuthenticatorRow {
    id: String,
    user_id: String,
    kind: String,
    secret: Option<String>,
    code_hash: Option<String>,
    confirmed: bool,
    created_at: i64,
    last_step: Option<i64>,
}

impl AuthenticatorRow {
    /// `None` for a kind this version does not know.
    fn into_record(self) -> Option<AuthenticatorRecord> {
        Some(AuthenticatorRecord {
            kind: AuthenticatorKind::parse(&self.kind)?,
            id: self.id,
            user_id: self.user_id,
            secret: self.secret,
            code_hash: self.code_hash,
            confirmed: self.confirmed,
            created_at: self.created_at,
            last_step: self.last_step,
        })
    }
}

#[async_trait]
impl MfaStore for SqlStore {
    async fn insert_mfa_token(&self, token: &MfaTokenRecord) -> Result<(), StoreError> {
        let request = serde_json::to_string(&token.request).unwrap_or_else(|_| "{}".to_owned());
        self.pool
            .execute(
                INSERT_MFA_TOKEN,
                vec![
                    (&token.token_hash).into(),
                    (&token.user_id).into(),
                    (&token.client_id).into(),
                    request.into(),
                    token.created_at.into(),
                    token.expires_at.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn mfa_token(&self, token_hash: &str) -> Result<Option<MfaTokenRecord>, StoreError> {
        let row: Option<MfaTokenRow> = self
            .pool
            .fetch_optional(MFA_TOKEN, vec![token_hash.into()])
            .await?;
        Ok(row.map(MfaTokenRow::into_record))
    }

    async fn consume_mfa_token(&self, token_hash: &str, now: i64) -> Result<bool, StoreError> {
        let used = self
            .pool
            .execute(CONSUME_MFA_TOKEN, vec![token_hash.into(), now.into()])
            .await?;
        Ok(used == 1)
    }

    async fn insert_authenticator(
        &self,
        authenticator: &AuthenticatorRecord,
    ) -> Result<(), StoreError> {
        let a = authenticator;
        self.pool
            .execute(
                INSERT_AUTHENTICATOR,
                vec![
                    (&a.id).into(),
                    (&a.user_id).into(),
                    a.kind.as_str().into(),
                    (&a.secret).into(),
                    (&a.code_hash).into(),
                    a.confirmed.into(),
                    a.created_at.into(),
                    a.last_step.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn authenticators(&self, user_id: &str) -> Result<Vec<AuthenticatorRecord>, StoreError> {
        let rows: Vec<AuthenticatorRow> = self
            .pool
            .fetch_all(AUTHENTICATORS, vec![user_id.into()])
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(AuthenticatorRow::into_record)
            .collect())
    }

    async fn delete_authenticators(
        &self,
        user_id: &str,
        id: Option<&str>,
    ) -> Result<u64, StoreError> {
        match id {
            Some(id) => {
                self.pool
                    .execute(DELETE_AUTHENTICATOR, vec![user_id.into(), id.into()])
                    .await
            }
            None => {
                self.pool
                    .execute(DELETE_AUTHENTICATORS, vec![user_id.into()])
                    .await
            }
        }
    }

    async fn delete_pending_authenticators(
        &self,
        user_id: &str,
        kind: &str,
    ) -> Result<(), StoreError> {
        self.pool
            .execute(
                DELETE_PENDING_AUTHENTICATORS,
                vec![user_id.into(), kind.into(), false.into()],
            )
            .await?;
        Ok(())
    }

    async fn accept_otp_step(&self, id: &str, step: i64) -> Result<bool, StoreError> {
        let accepted = self
            .pool
            .execute(ACCEPT_OTP_STEP, vec![id.into(), step.into(), true.into()])
            .await?;
        Ok(accepted == 1)
    }

    async fn rotate_recovery_code(
        &self,
        user_id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let rotated = self
            .pool
            .execute(
                ROTATE_RECOVERY_CODE,
                vec![user_id.into(), old_hash.into(), new_hash.into()],
            )
            .await?;
        Ok(rotated == 1)
    }
}
