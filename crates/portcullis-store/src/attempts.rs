//! Brute-force counters per (connection, identifier, address) and the suspicious-IP buckets:
//! atomic counters, each changed by one statement; the rules that drive them are in core's
//! `attack` module.

use async_trait::async_trait;
use portcullis_core::attack::brute_force::{AttemptKey, FailureCount};
use portcullis_core::store::{AttemptStore, StoreError};

use crate::SqlStore;
use crate::db::Arg;

/// `$head` on the login-failure row of key `($1, $2, $3)`, then `$tail`.
macro_rules! on_key {
    ($head:literal, $tail:literal) => {
        concat!(
            $head,
            " WHERE connection = $1 AND identifier = $2 AND ip = $3",
            $tail
        )
    };
}

/// Counts a failure: `$1..$3` the key, `$4` now, `$5` max attempts, `$6` the time before which
/// an old count has lapsed (it restarts at 1). A block, once set, stays until removed.
const RECORD_LOGIN_FAILURE: &str = "INSERT INTO login_failures \
    (connection, identifier, ip, failures, last_failure, blocked_at) \
    VALUES ($1, $2, $3, 1, $4, CASE WHEN 1 >= $5 THEN $4 ELSE NULL END) \
    ON CONFLICT (connection, identifier, ip) DO UPDATE SET \
    failures = CASE WHEN login_failures.last_failure < $6 THEN 1 \
        ELSE login_failures.failures + 1 END, \
    blocked_at = CASE WHEN login_failures.last_failure < $6 \
        THEN (CASE WHEN 1 >= $5 THEN $4 ELSE NULL END) \
        ELSE COALESCE(login_failures.blocked_at, \
            CASE WHEN login_failures.failures + 1 >= $5 THEN $4 ELSE NULL END) END, \
    last_failure = $4 \
    RETURNING failures, blocked_at";

/// Reserves one attempt of key `($1, $2, $3)` at `$4` under limit `$5`; a count whose last
/// failure is before `$6` has lapsed and starts over. No row back: refused.
const RESERVE_LOGIN_ATTEMPT: &str = "INSERT INTO login_failures \
    (connection, identifier, ip, failures, last_failure, blocked_at) \
    VALUES ($1, $2, $3, 1, $4, NULL) \
    ON CONFLICT (connection, identifier, ip) DO UPDATE SET \
    failures = CASE WHEN login_failures.last_failure < $6 THEN 1 \
        ELSE login_failures.failures + 1 END, \
    blocked_at = CASE WHEN login_failures.last_failure < $6 THEN NULL \
        ELSE login_failures.blocked_at END, \
    last_failure = $4 \
    WHERE login_failures.last_failure < $6 \
    OR (login_failures.blocked_at IS NULL AND login_failures.failures < $5) \
    RETURNING failures";

/// Blocks the key at `$4` if it used its `$5` attempts and is not blocked yet.
const BLOCK_LOGIN_KEY: &str = on_key!(
    "UPDATE login_failures SET blocked_at = $4",
    " AND blocked_at IS NULL AND failures >= $5"
);
/// Forgets the count if nothing came after the reservation `$4` (and no block).
const SETTLE_LOGIN_SUCCESS: &str = on_key!(
    "DELETE FROM login_failures",
    " AND blocked_at IS NULL AND failures <= $4"
);
const RETURN_LOGIN_ATTEMPT: &str = on_key!(
    "UPDATE login_failures SET failures = failures - 1",
    " AND blocked_at IS NULL AND failures > 0"
);
const LOGIN_ATTEMPTS: &str = on_key!(
    "SELECT failures, blocked_at FROM login_failures",
    " AND last_failure >= $4"
);
const CLEAR_LOGIN_FAILURES: &str = on_key!("DELETE FROM login_failures", "");

const ENSURE_THROTTLE_ROW: &str = "INSERT INTO ip_throttle (stage, ip, tat) VALUES ($1, $2, $3) \
    ON CONFLICT (stage, ip) DO NOTHING";
/// Admits one event of bucket `($1, $2)` at `$3` with rate `$4` and limit `$5`, or changes
/// nothing (the bucket is full).
const TAKE_THROTTLE_TOKEN: &str = "UPDATE ip_throttle \
    SET tat = (CASE WHEN tat > $3 THEN tat ELSE $3 END) + $4 \
    WHERE stage = $1 AND ip = $2 AND (CASE WHEN tat > $3 THEN tat ELSE $3 END) + $4 - $3 <= $5 \
    RETURNING tat";
const RETURN_THROTTLE_TOKEN: &str =
    "UPDATE ip_throttle SET tat = tat - $3 WHERE stage = $1 AND ip = $2";
const THROTTLE_STATE: &str = "SELECT tat FROM ip_throttle WHERE stage = $1 AND ip = $2";
const CLEAR_THROTTLE: &str = "DELETE FROM ip_throttle WHERE ip = $1";

/// The key's columns, `$1..$3`, followed by `more`.
fn key_args(key: &AttemptKey, more: impl IntoIterator<Item = Arg>) -> Vec<Arg> {
    let mut args: Vec<Arg> = vec![
        (&key.connection).into(),
        (&key.identifier).into(),
        (&key.ip).into(),
    ];
    args.extend(more);
    args
}

fn count(failures: i64) -> u32 {
    u32::try_from(failures).unwrap_or(u32::MAX)
}

/// ` WHERE identifier IN (…) [AND connection = …]` with its values (identifiers first), the
/// placeholders numbered from `first`.
fn identifiers_filter(
    connection: Option<&str>,
    identifiers: &[String],
    first: usize,
) -> (String, Vec<Arg>) {
    let mut args: Vec<Arg> = identifiers.iter().map(Arg::from).collect();
    let placeholders: Vec<String> = (0..identifiers.len())
        .map(|i| format!("${}", first + i))
        .collect();
    let mut sql = format!(" WHERE identifier IN ({})", placeholders.join(", "));
    if let Some(c) = connection {
        args.push(c.into());
        sql.push_str(&format!(" AND connection = ${}", first + identifiers.len()));
    }
    (sql, args)
}

#[derive(Debug, sqlx::FromRow)]
struct AttemptKeyRow {
    connection: String,
    identifier: String,
    ip: String,
}

#[async_trait]
impl AttemptStore for SqlStore {
    async fn record_login_failure(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<FailureCount, StoreError> {
        let (failures, blocked_at): (i64, Option<i64>) = self
            .pool
            .fetch_one(
                RECORD_LOGIN_FAILURE,
                key_args(key, [now.into(), max_attempts.into(), lapsed_before.into()]),
            )
            .await?;
        Ok(FailureCount {
            failures: count(failures),
            blocked_at,
        })
    }

    async fn reserve_login_attempt(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
        lapsed_before: i64,
    ) -> Result<Option<u32>, StoreError> {
        let row: Option<(i64,)> = self
            .pool
            .fetch_optional(
                RESERVE_LOGIN_ATTEMPT,
                key_args(key, [now.into(), max_attempts.into(), lapsed_before.into()]),
            )
            .await?;
        Ok(row.map(|(failures,)| count(failures)))
    }

    async fn block_login_key(
        &self,
        key: &AttemptKey,
        now: i64,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        let blocked = self
            .pool
            .execute(
                BLOCK_LOGIN_KEY,
                key_args(key, [now.into(), max_attempts.into()]),
            )
            .await?;
        Ok(blocked == 1)
    }

    async fn settle_login_success(&self, key: &AttemptKey, slot: u32) -> Result<(), StoreError> {
        let cleared = self
            .pool
            .execute(SETTLE_LOGIN_SUCCESS, key_args(key, [slot.into()]))
            .await?;
        if cleared == 0 {
            self.return_login_attempt(key).await?;
        }
        Ok(())
    }

    async fn return_login_attempt(&self, key: &AttemptKey) -> Result<(), StoreError> {
        self.pool
            .execute(RETURN_LOGIN_ATTEMPT, key_args(key, []))
            .await?;
        Ok(())
    }

    async fn login_attempts(
        &self,
        key: &AttemptKey,
        not_before: i64,
    ) -> Result<Option<FailureCount>, StoreError> {
        let row: Option<(i64, Option<i64>)> = self
            .pool
            .fetch_optional(LOGIN_ATTEMPTS, key_args(key, [not_before.into()]))
            .await?;
        Ok(row.map(|(failures, blocked_at)| FailureCount {
            failures: count(failures),
            blocked_at,
        }))
    }

    async fn clear_login_failures(&self, key: &AttemptKey) -> Result<(), StoreError> {
        self.pool
            .execute(CLEAR_LOGIN_FAILURES, key_args(key, []))
            .await?;
        Ok(())
    }

    async fn login_blocks(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
        not_before: i64,
    ) -> Result<Vec<AttemptKey>, StoreError> {
        if identifiers.is_empty() {
            return Ok(Vec::new());
        }
        let (filter, filter_args) = identifiers_filter(connection, identifiers, 2);
        let sql = format!(
            "SELECT connection, identifier, ip FROM login_failures{filter} \
             AND blocked_at IS NOT NULL AND last_failure >= $1 \
             ORDER BY connection, identifier, ip"
        );
        let mut args: Vec<Arg> = vec![not_before.into()];
        args.extend(filter_args);
        let rows: Vec<AttemptKeyRow> = self.pool.fetch_all(sql, args).await?;
        Ok(rows
            .into_iter()
            .map(|r| AttemptKey {
                connection: r.connection,
                identifier: r.identifier,
                ip: r.ip,
            })
            .collect())
    }

    async fn unblock_identifiers(
        &self,
        connection: Option<&str>,
        identifiers: &[String],
    ) -> Result<u64, StoreError> {
        if identifiers.is_empty() {
            return Ok(0);
        }
        let (filter, args) = identifiers_filter(connection, identifiers, 1);
        self.pool
            .execute(format!("DELETE FROM login_failures{filter}"), args)
            .await
    }

    async fn take_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        now: i64,
        rate: i64,
        limit: i64,
    ) -> Result<Option<i64>, StoreError> {
        // Make sure the row exists (idempotent), then admit conditionally in one UPDATE.
        self.pool
            .execute(
                ENSURE_THROTTLE_ROW,
                vec![stage.into(), ip.into(), now.into()],
            )
            .await?;
        let row: Option<(i64,)> = self
            .pool
            .fetch_optional(
                TAKE_THROTTLE_TOKEN,
                vec![
                    stage.into(),
                    ip.into(),
                    now.into(),
                    rate.into(),
                    limit.into(),
                ],
            )
            .await?;
        Ok(row.map(|(tat,)| tat))
    }

    async fn return_throttle_token(
        &self,
        stage: &str,
        ip: &str,
        rate: i64,
    ) -> Result<(), StoreError> {
        self.pool
            .execute(
                RETURN_THROTTLE_TOKEN,
                vec![stage.into(), ip.into(), rate.into()],
            )
            .await?;
        Ok(())
    }

    async fn throttle_state(&self, stage: &str, ip: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = self
            .pool
            .fetch_optional(THROTTLE_STATE, vec![stage.into(), ip.into()])
            .await?;
        Ok(row.map(|(tat,)| tat))
    }

    async fn clear_throttle(&self, ip: &str) -> Result<bool, StoreError> {
        Ok(self.pool.execute(CLEAR_THROTTLE, vec![ip.into()]).await? > 0)
    }
}
