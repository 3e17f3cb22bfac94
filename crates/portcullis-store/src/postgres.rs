//! PostgreSQL, shared by several stateless nodes. Migrations take sqlx's advisory lock, so
//! nodes starting together migrate once.

use std::str::FromStr;
use std::time::Duration;

use portcullis_core::store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use crate::SqlStore;
use crate::db::Pool;

/// The store on PostgreSQL: [`SqlStore::connect`].
pub type PgStore = SqlStore;

impl SqlStore {
    /// Connects to `url` and applies migrations; with `schema`, everything lives in that
    /// schema (created if missing), which is how tests get a fresh database each.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url).map_err(crate::classify)?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Internal(format!(
                    "invalid schema name {schema}"
                )));
            }
            let mut conn = PgConnection::connect_with(&options)
                .await
                .map_err(crate::classify)?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}"
            )))
            .execute(&mut conn)
            .await
            .map_err(crate::classify)?;
            conn.close().await.map_err(crate::classify)?;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(crate::classify)?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
        Ok(Self {
            pool: Pool::Postgres(pool),
        })
    }
}
