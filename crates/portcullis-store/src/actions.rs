//! Actions deployed through the Management API, and their bindings to triggers.

use async_trait::async_trait;
use portcullis_core::actions::{ActionRecord, BindingRecord};
use portcullis_core::store::{ActionStore, StoreError};
use serde_json::{Map, Value};

use crate::SqlStore;

macro_rules! select_action {
    ($clause:literal) => {
        concat!(
            "SELECT id, name, trigger_id, code, secrets, deployed_code, deployed_secrets, ",
            "version, created_at, updated_at FROM actions",
            $clause
        )
    };
}

const ACTION_BY_ID: &str = select_action!(" WHERE id = $1");
const ACTIONS: &str = select_action!(" ORDER BY created_at, id");
const INSERT_ACTION: &str = "INSERT INTO actions (id, name, trigger_id, code, secrets, \
    deployed_code, deployed_secrets, version, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
const REPLACE_ACTION: &str = "UPDATE actions SET name = $2, trigger_id = $3, code = $4, \
    secrets = $5, deployed_code = $6, deployed_secrets = $7, version = $8, updated_at = $9 \
    WHERE id = $1";
const DELETE_ACTION_BINDINGS: &str = "DELETE FROM action_bindings WHERE action_id = $1";
const DELETE_ACTION: &str = "DELETE FROM actions WHERE id = $1";
const DELETE_TRIGGER_BINDINGS: &str = "DELETE FROM action_bindings WHERE trigger_id = $1";
const INSERT_BINDING: &str = "INSERT INTO action_bindings (trigger_id, position, id, action_id, \
    display_name, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
const BINDINGS: &str = "SELECT id, trigger_id, action_id, display_name, created_at \
    FROM action_bindings ORDER BY trigger_id, position";

#[derive(Debug, sqlx::FromRow)]
struct ActionRow {
    id: String,
    name: String,
    trigger_id: String,
    code: String,
    secrets: String,
    deployed_code: Option<String>,
    deployed_secrets: Option<String>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl ActionRow {
    fn into_record(self) -> ActionRecord {
        let object = |text: Option<&str>| match text.map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(map))) => map,
            _ => Map::new(),
        };
        ActionRecord {
            secrets: object(Some(&self.secrets)),
            deployed_secrets: object(self.deployed_secrets.as_deref()),
            id: self.id,
            name: self.name,
            trigger: self.trigger_id,
            code: self.code,
            deployed_code: self.deployed_code,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn json_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

#[async_trait]
impl ActionStore for SqlStore {
    async fn insert_action(&self, a: &ActionRecord) -> Result<(), StoreError> {
        self.pool
            .execute(
                INSERT_ACTION,
                vec![
                    (&a.id).into(),
                    (&a.name).into(),
                    (&a.trigger).into(),
                    (&a.code).into(),
                    json_text(&a.secrets).into(),
                    (&a.deployed_code).into(),
                    json_text(&a.deployed_secrets).into(),
                    a.version.into(),
                    a.created_at.into(),
                    a.updated_at.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        let row: Option<ActionRow> = self
            .pool
            .fetch_optional(ACTION_BY_ID, vec![id.into()])
            .await?;
        Ok(row.map(ActionRow::into_record))
    }

    async fn list_actions(&self) -> Result<Vec<ActionRecord>, StoreError> {
        let rows: Vec<ActionRow> = self.pool.fetch_all(ACTIONS, vec![]).await?;
        Ok(rows.into_iter().map(ActionRow::into_record).collect())
    }

    async fn replace_action(&self, a: &ActionRecord) -> Result<bool, StoreError> {
        let replaced = self
            .pool
            .execute(
                REPLACE_ACTION,
                vec![
                    (&a.id).into(),
                    (&a.name).into(),
                    (&a.trigger).into(),
                    (&a.code).into(),
                    json_text(&a.secrets).into(),
                    (&a.deployed_code).into(),
                    json_text(&a.deployed_secrets).into(),
                    a.version.into(),
                    a.updated_at.into(),
                ],
            )
            .await?;
        Ok(replaced == 1)
    }

    async fn delete_action(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        tx.execute(DELETE_ACTION_BINDINGS, vec![id.into()]).await?;
        let deleted = tx.execute(DELETE_ACTION, vec![id.into()]).await?;
        tx.commit().await?;
        Ok(deleted == 1)
    }

    async fn replace_bindings(
        &self,
        trigger: &str,
        bindings: &[BindingRecord],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        tx.execute(DELETE_TRIGGER_BINDINGS, vec![trigger.into()])
            .await?;
        for (position, b) in bindings.iter().enumerate() {
            tx.execute(
                INSERT_BINDING,
                vec![
                    trigger.into(),
                    i64::try_from(position).unwrap_or(i64::MAX).into(),
                    (&b.id).into(),
                    (&b.action_id).into(),
                    (&b.display_name).into(),
                    b.created_at.into(),
                ],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn bindings(&self) -> Result<Vec<BindingRecord>, StoreError> {
        let rows: Vec<(String, String, String, String, i64)> =
            self.pool.fetch_all(BINDINGS, vec![]).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, trigger, action_id, display_name, created_at)| BindingRecord {
                    id,
                    trigger,
                    action_id,
                    display_name,
                    created_at,
                },
            )
            .collect())
    }
}
