//! Tenant settings stored by the Management API (JSON text by name), and the pool's health.

use async_trait::async_trait;
use portcullis_core::store::{SettingStore, StoreError};

use crate::SqlStore;

const SETTING: &str = "SELECT value FROM settings WHERE name = $1";
const PUT_SETTING: &str = "INSERT INTO settings (name, value) VALUES ($1, $2) \
    ON CONFLICT (name) DO UPDATE SET value = excluded.value";

#[async_trait]
impl SettingStore for SqlStore {
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self.pool.fetch_optional(SETTING, vec![name.into()]).await?;
        Ok(row.map(|(value,)| value))
    }

    fn pool_usage(&self) -> Option<(u32, u32)> {
        Some(self.pool.usage())
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.pool
            .execute(PUT_SETTING, vec![name.into(), value.into()])
            .await?;
        Ok(())
    }
}
