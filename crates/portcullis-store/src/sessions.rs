//! Refresh tokens (with rotation and reuse detection), authorization codes and browser
//! sessions: every one stored by its digest, used once where it must be.

use async_trait::async_trait;
use portcullis_core::codes_and_sessions::{AuthCodeRecord, SessionRecord};
use portcullis_core::refresh::{RefreshHistory, RefreshTokenRecord};
use portcullis_core::store::{SessionStore, StoreError};

use crate::SqlStore;
use crate::db::Arg;

const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens (token_hash, family_id, user_id, \
    client_id, scope, audience, created_at, expires_at, idle_expires_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// A usable token `$1` at `$2` (not rotated, not revoked, not expired).
const VALID_REFRESH: &str = "SELECT token_hash, family_id, user_id, client_id, scope, audience, \
    created_at, expires_at, idle_expires_at FROM refresh_tokens \
    WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL \
    AND (expires_at IS NULL OR expires_at > $2) \
    AND (idle_expires_at IS NULL OR idle_expires_at > $2)";

/// Marks a usable token `$1` rotated at `$2`, returning it.
const ROTATE_REFRESH: &str = "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 \
    AND rotated_at IS NULL AND revoked_at IS NULL \
    AND (expires_at IS NULL OR expires_at > $2) \
    AND (idle_expires_at IS NULL OR idle_expires_at > $2) \
    RETURNING token_hash, family_id, user_id, client_id, scope, audience, created_at, \
    expires_at, idle_expires_at";

const REFRESH_HISTORY: &str = "SELECT family_id, user_id, rotated_at, revoked_at \
    FROM refresh_tokens WHERE token_hash = $1";
const REVOKE_FAMILY: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";
const REVOKE_FAMILY_OF_TOKEN: &str = "UPDATE refresh_tokens SET revoked_at = $3 \
    WHERE revoked_at IS NULL AND family_id = \
    (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND client_id = $2)";

const INSERT_AUTH_CODE: &str = "INSERT INTO auth_codes (code_hash, client_id, user_id, \
    grant_data, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// Uses a live code once, returning it.
const CONSUME_AUTH_CODE: &str = "UPDATE auth_codes SET used_at = $2 \
    WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 \
    RETURNING code_hash, client_id, user_id, grant_data, created_at, expires_at";

const INSERT_SESSION: &str = "INSERT INTO sessions (id_hash, user_id, created_at, expires_at, \
    mfa_at) VALUES ($1, $2, $3, $4, $5)";
const SESSION: &str = "SELECT id_hash, user_id, created_at, expires_at, mfa_at FROM sessions \
    WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2";
const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL";

#[derive(Debug, sqlx::FromRow)]
struct RefreshRow {
    token_hash: String,
    family_id: String,
    user_id: String,
    client_id: String,
    scope: String,
    audience: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    idle_expires_at: Option<i64>,
}

impl RefreshRow {
    fn into_record(self) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: self.token_hash,
            family_id: self.family_id,
            user_id: self.user_id,
            client_id: self.client_id,
            scope: self.scope,
            audience: self.audience,
            created_at: self.created_at,
            expires_at: self.expires_at,
            idle_expires_at: self.idle_expires_at,
        }
    }
}

/// A refresh token's columns, in [`INSERT_REFRESH`]'s order.
fn refresh_args(t: &RefreshTokenRecord) -> Vec<Arg> {
    vec![
        (&t.token_hash).into(),
        (&t.family_id).into(),
        (&t.user_id).into(),
        (&t.client_id).into(),
        (&t.scope).into(),
        (&t.audience).into(),
        t.created_at.into(),
        t.expires_at.into(),
        t.idle_expires_at.into(),
    ]
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        self.pool
            .execute(INSERT_REFRESH, refresh_args(token))
            .await?;
        Ok(())
    }

    async fn usable_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let row: Option<RefreshRow> = self
            .pool
            .fetch_optional(VALID_REFRESH, vec![token_hash.into(), now.into()])
            .await?;
        Ok(row.map(RefreshRow::into_record))
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        // Write first, so SQLite takes its write lock at once and two rotations queue.
        let mut tx = self.pool.begin().await?;
        let rotated: Option<RefreshRow> = tx
            .fetch_optional(ROTATE_REFRESH, vec![token_hash.into(), now.into()])
            .await?;
        let Some(row) = rotated else {
            return Ok(None);
        };
        tx.execute(INSERT_REFRESH, refresh_args(successor)).await?;
        tx.commit().await?;
        Ok(Some(row.into_record()))
    }

    async fn refresh_history(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshHistory>, StoreError> {
        let row: Option<(String, String, Option<i64>, Option<i64>)> = self
            .pool
            .fetch_optional(REFRESH_HISTORY, vec![token_hash.into()])
            .await?;
        Ok(row.map(
            |(family_id, user_id, rotated_at, revoked_at)| RefreshHistory {
                family_id,
                user_id,
                rotated: rotated_at.is_some(),
                revoked: revoked_at.is_some(),
            },
        ))
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        self.pool
            .execute(REVOKE_FAMILY, vec![family_id.into(), now.into()])
            .await
    }

    async fn revoke_refresh_family(
        &self,
        token_hash: &str,
        client_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let revoked = self
            .pool
            .execute(
                REVOKE_FAMILY_OF_TOKEN,
                vec![token_hash.into(), client_id.into(), now.into()],
            )
            .await?;
        Ok(revoked > 0)
    }

    async fn insert_auth_code(&self, code: &AuthCodeRecord) -> Result<(), StoreError> {
        let grant = serde_json::to_string(&code.grant).unwrap_or_else(|_| "{}".to_owned());
        self.pool
            .execute(
                INSERT_AUTH_CODE,
                vec![
                    (&code.code_hash).into(),
                    (&code.client_id).into(),
                    (&code.user_id).into(),
                    grant.into(),
                    code.created_at.into(),
                    code.expires_at.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn consume_auth_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<AuthCodeRecord>, StoreError> {
        let row: Option<(String, String, String, String, i64, i64)> = self
            .pool
            .fetch_optional(CONSUME_AUTH_CODE, vec![code_hash.into(), now.into()])
            .await?;
        Ok(row.map(
            |(code_hash, client_id, user_id, grant, created_at, expires_at)| AuthCodeRecord {
                code_hash,
                client_id,
                user_id,
                grant: serde_json::from_str(&grant).unwrap_or_default(),
                created_at,
                expires_at,
            },
        ))
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.pool
            .execute(
                INSERT_SESSION,
                vec![
                    (&s.id_hash).into(),
                    (&s.user_id).into(),
                    s.created_at.into(),
                    s.expires_at.into(),
                    s.mfa_at.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<(String, String, i64, i64, Option<i64>)> = self
            .pool
            .fetch_optional(SESSION, vec![id_hash.into(), now.into()])
            .await?;
        Ok(row.map(
            |(id_hash, user_id, created_at, expires_at, mfa_at)| SessionRecord {
                id_hash,
                user_id,
                created_at,
                expires_at,
                mfa_at,
            },
        ))
    }

    async fn revoke_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        self.pool
            .execute(REVOKE_SESSION, vec![id_hash.into(), now.into()])
            .await?;
        Ok(())
    }
}
