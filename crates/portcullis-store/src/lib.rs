//! The SQL store: [`SqlStore`] implements every aggregate's contract of
//! [`Store`](portcullis_core::store::Store) once, over either dialect (`db`): SQLite, the
//! embedded default (a file in the data folder), or PostgreSQL, shared by several nodes. Each
//! aggregate's module holds its SQL beside its methods; both dialects run the same text and
//! pass the same conformance suite (`tests/conformance.rs`).
//!
//! A new aggregate is a new module here with an `impl <Aggregate>Store for SqlStore`, its
//! trait in core's `store`, and its cases in the conformance suite.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod actions;
mod attempts;
mod db;
mod keys;
mod logs;
mod mfa;
mod postgres;
mod sessions;
mod settings;
mod sqlite;
mod tickets;
mod users;

pub use postgres::PgStore;
pub use sqlite::{DATABASE_FILE, SqliteStore};

use portcullis_core::store::{StoreError, UniqueField};
use serde_json::{Map, Value};

/// The store, on either dialect.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: db::Pool,
}

/// The one place where a driver error becomes a [`StoreError`]: unique violations become
/// `Conflict` with the field they concern, lost connections become `Unavailable`.
pub(crate) fn classify(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let what = format!("{} {}", db.constraint().unwrap_or(""), db.message());
            let field = if what.contains("username") {
                UniqueField::Username
            } else if what.contains("email") {
                UniqueField::Email
            } else {
                UniqueField::Other
            };
            StoreError::Conflict(field)
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Internal(error.to_string()),
    }
}

/// A stored JSON object (metadata, details, payloads).
pub(crate) fn json_object(text: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Internal(
            "a stored JSON value is not an object".into(),
        )),
    }
}
