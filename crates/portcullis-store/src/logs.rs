//! Tenant log events.

use async_trait::async_trait;
use portcullis_core::logs::{LogEvent, LogQuery};
use portcullis_core::store::{LogStore, StoreError};
use serde_json::Value;

use crate::SqlStore;
use crate::db::Arg;

pub(crate) const INSERT_LOG: &str = "INSERT INTO logs (log_id, date, log_type, description, \
    client_id, client_name, ip, user_agent, user_id, user_name, connection, details) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

macro_rules! select_log {
    ($clause:literal) => {
        concat!(
            "SELECT log_id, date, log_type, description, client_id, client_name, ip, ",
            "user_agent, user_id, user_name, connection, details FROM logs",
            $clause
        )
    };
}

const SELECT_LOG: &str = select_log!("");
const LOG_BY_ID: &str = select_log!(" WHERE log_id = $1");
const PRUNE_LOGS: &str = "DELETE FROM logs WHERE date < $1";

/// A log event's columns, in [`INSERT_LOG`]'s order.
pub(crate) fn log_args(event: &LogEvent) -> Vec<Arg> {
    vec![
        (&event.log_id).into(),
        event.date.into(),
        (&event.log_type).into(),
        (&event.description).into(),
        (&event.client_id).into(),
        (&event.client_name).into(),
        (&event.ip).into(),
        (&event.user_agent).into(),
        (&event.user_id).into(),
        (&event.user_name).into(),
        (&event.connection).into(),
        Value::Object(event.details.clone()).to_string().into(),
    ]
}

#[derive(Debug, sqlx::FromRow)]
struct LogRow {
    log_id: String,
    date: i64,
    log_type: String,
    description: Option<String>,
    client_id: Option<String>,
    client_name: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
    connection: Option<String>,
    details: String,
}

impl LogRow {
    fn into_event(self) -> Result<LogEvent, StoreError> {
        Ok(LogEvent {
            details: crate::json_object(&self.details)?,
            log_id: self.log_id,
            date: self.date,
            log_type: self.log_type,
            description: self.description,
            client_id: self.client_id,
            client_name: self.client_name,
            ip: self.ip,
            user_agent: self.user_agent,
            user_id: self.user_id,
            user_name: self.user_name,
            connection: self.connection,
        })
    }
}

/// ` WHERE …` for a log query and its values, in order.
fn log_filter(query: &LogQuery) -> (String, Vec<Arg>) {
    let mut conditions = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    for (column, value) in [("log_type", &query.log_type), ("user_id", &query.user_id)] {
        if let Some(v) = value {
            args.push(v.into());
            conditions.push(format!("{column} = ${}", args.len()));
        }
    }
    if let Some(from) = &query.from {
        args.push(from.into());
        conditions.push(format!("log_id > ${}", args.len()));
    }
    if conditions.is_empty() {
        (String::new(), args)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), args)
    }
}

#[async_trait]
impl LogStore for SqlStore {
    async fn prune_logs(&self, before: i64) -> Result<u64, StoreError> {
        self.pool.execute(PRUNE_LOGS, vec![before.into()]).await
    }

    async fn append_log(&self, event: &LogEvent) -> Result<(), StoreError> {
        self.pool.execute(INSERT_LOG, log_args(event)).await?;
        Ok(())
    }

    async fn list_logs(&self, query: &LogQuery) -> Result<(Vec<LogEvent>, u64), StoreError> {
        let (filter, args) = log_filter(query);
        let (total,): (i64,) = self
            .pool
            .fetch_one(format!("SELECT COUNT(*) FROM logs{filter}"), args.clone())
            .await?;
        let order = if query.newest_first && query.from.is_none() {
            "DESC"
        } else {
            "ASC"
        };
        let n = args.len();
        let sql = format!(
            "{SELECT_LOG}{filter} ORDER BY log_id {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut args = args;
        args.push(i64::try_from(query.limit).unwrap_or(i64::MAX).into());
        args.push(i64::try_from(query.offset).unwrap_or(i64::MAX).into());
        let events = self
            .pool
            .fetch_all::<LogRow>(sql, args)
            .await?
            .into_iter()
            .map(LogRow::into_event)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((events, u64::try_from(total).unwrap_or(0)))
    }

    async fn log_by_id(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError> {
        self.pool
            .fetch_optional::<LogRow>(LOG_BY_ID, vec![log_id.into()])
            .await?
            .map(LogRow::into_event)
            .transpose()
    }
}
