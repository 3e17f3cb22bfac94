//! Signing keys, and the columns whose values are sealed under the at-rest keys.

use async_trait::async_trait;
use portcullis_core::store::{KeyStore, SealedColumn, SigningKeyRecord, StoreError};

use crate::SqlStore;

const SIGNING_KEYS: &str = "SELECT kid, generation, private_key_pem, created_at FROM signing_keys \
    ORDER BY generation DESC";
const INSERT_SIGNING_KEY: &str = "INSERT INTO signing_keys (kid, generation, private_key_pem, \
    created_at) VALUES ($1, $2, $3, $4)";
const DELETE_SIGNING_KEYS_BEFORE: &str = "DELETE FROM signing_keys WHERE generation < $1";

/// The `SELECT` (id, value) and the conditional `UPDATE` (`$1` id, `$2` old, `$3` new) of a
/// column sealed at rest.
fn sealed_column_sql(column: SealedColumn) -> (&'static str, &'static str) {
    match column {
        SealedColumn::OtpSecret => (
            "SELECT id, secret FROM authenticators WHERE secret IS NOT NULL ORDER BY id",
            "UPDATE authenticators SET secret = $3 WHERE id = $1 AND secret = $2",
        ),
        SealedColumn::SigningKey => (
            "SELECT kid, private_key_pem FROM signing_keys ORDER BY generation",
            "UPDATE signing_keys SET private_key_pem = $3 WHERE kid = $1 AND private_key_pem = $2",
        ),
    }
}

#[derive(Debug, sqlx::FromRow)]
struct SigningKeyRow {
    kid: String,
    generation: i64,
    private_key_pem: String,
    created_at: i64,
}

impl From<SigningKeyRow> for SigningKeyRecord {
    fn from(r: SigningKeyRow) -> Self {
        Self {
            kid: r.kid,
            generation: r.generation,
            private_key_pem: r.private_key_pem,
            created_at: r.created_at,
        }
    }
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows: Vec<SigningKeyRow> = self.pool.fetch_all(SIGNING_KEYS, vec![]).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        self.pool
            .execute(
                INSERT_SIGNING_KEY,
                vec![
                    (&key.kid).into(),
                    key.generation.into(),
                    (&key.private_key_pem).into(),
                    key.created_at.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn delete_signing_keys_before(&self, generation: i64) -> Result<u64, StoreError> {
        self.pool
            .execute(DELETE_SIGNING_KEYS_BEFORE, vec![generation.into()])
            .await
    }

    async fn sealed_values(
        &self,
        column: SealedColumn,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let (select, _) = sealed_column_sql(column);
        self.pool.fetch_all(select, vec![]).await
    }

    async fn replace_sealed_value(
        &self,
        column: SealedColumn,
        id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let (_, update) = sealed_column_sql(column);
        let replaced = self
            .pool
            .execute(update, vec![id.into(), old.into(), new.into()])
            .await?;
        Ok(replaced == 1)
    }
}
