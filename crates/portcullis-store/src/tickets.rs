//! Mailed tickets: verification, password reset, unblock and enrollment links, single-use.

use async_trait::async_trait;
use portcullis_core::store::{StoreError, TicketStore};
use portcullis_core::tickets::TicketRecord;
use serde_json::Value;

use crate::SqlStore;

const INSERT_TICKET: &str = "INSERT INTO tickets (id_hash, kind, user_id, payload, created_at, \
    expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// A live ticket `$1` of kind `$2` at `$3`.
const TICKET: &str = "SELECT id_hash, kind, user_id, payload, created_at, expires_at \
    FROM tickets WHERE id_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3";
/// Uses a live ticket once, returning it.
const CONSUME_TICKET: &str = "UPDATE tickets SET used_at = $3 \
    WHERE id_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3 \
    RETURNING id_hash, kind, user_id, payload, created_at, expires_at";
const VOID_TICKETS: &str =
    "UPDATE tickets SET used_at = $3 WHERE user_id = $1 AND kind = $2 AND used_at IS NULL";

#[derive(Debug, sqlx::FromRow)]
struct TicketRow {
    id_hash: String,
    kind: String,
    user_id: String,
    payload: String,
    created_at: i64,
    expires_at: i64,
}

impl TicketRow {
    fn into_record(self) -> Result<TicketRecord, StoreError> {
        Ok(TicketRecord {
            payload: crate::json_object(&self.payload)?,
            id_hash: self.id_hash,
            kind: self.kind,
            user_id: self.user_id,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

#[async_trait]
impl TicketStore for SqlStore {
    async fn insert_ticket(&self, ticket: &TicketRecord) -> Result<(), StoreError> {
        self.pool
            .execute(
                INSERT_TICKET,
                vec![
                    (&ticket.id_hash).into(),
                    (&ticket.kind).into(),
                    (&ticket.user_id).into(),
                    Value::Object(ticket.payload.clone()).to_string().into(),
                    ticket.created_at.into(),
                    ticket.expires_at.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn ticket(
        &self,
        id_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<TicketRecord>, StoreError> {
        self.pool
            .fetch_optional::<TicketRow>(TICKET, vec![id_hash.into(), kind.into(), now.into()])
            .await?
            .map(TicketRow::into_record)
            .transpose()
    }

    async fn consume_ticket(
        &self,
        id_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<TicketRecord>, StoreError> {
        self.pool
            .fetch_optional::<TicketRow>(
                CONSUME_TICKET,
                vec![id_hash.into(), kind.into(), now.into()],
            )
            .await?
            .map(TicketRow::into_record)
            .transpose()
    }

    async fn void_tickets(&self, user_id: &str, kind: &str, now: i64) -> Result<u64, StoreError> {
        self.pool
            .execute(VOID_TICKETS, vec![user_id.into(), kind.into(), now.into()])
            .await
    }
}
