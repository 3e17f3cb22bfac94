//! The SQL store: one [`Store`](portcullis_core::store::Store) implementation per dialect on
//! sqlx, sharing their SQL text where the dialects agree (both accept `$n` placeholders).
//! SQLite is the embedded default (a file in the data folder); PostgreSQL is shared by several
//! nodes. Both pass the same conformance suite (`tests/conformance.rs`).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod postgres;
mod rows;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use portcullis_core::store::{StoreError, UniqueField};

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

/// Implements the `Store` trait for a pool type; the SQL is the same text on both dialects.
macro_rules! impl_store {
    ($store:ty) => {
        impl $store {
            /// The one user a `SELECT` with text parameters finds, if any.
            async fn one_user(
                &self,
                sql: &'static str,
                binds: &[&str],
            ) -> Result<Option<portcullis_core::user::UserRecord>, portcullis_core::store::StoreError> {
                let mut query = sqlx::query_as::<_, crate::rows::UserRow>(sql);
                for value in binds {
                    query = query.bind(*value);
                }
                let row = query.fetch_optional(&self.pool).await.map_err(crate::classify)?;
                row.map(crate::rows::UserRow::into_record).transpose()
            }
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::Store for $store {
            async fn insert_user(
                &self,
                user: &portcullis_core::user::UserRecord,
            ) -> Result<(), portcullis_core::store::StoreError> {
                crate::rows::bind_user(sqlx::query(crate::rows::INSERT_USER), user)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn insert_users(
                &self,
                users: &[portcullis_core::user::UserRecord],
            ) -> Result<(), portcullis_core::store::StoreError> {
                let mut tx = self.pool.begin().await.map_err(crate::classify)?;
                for user in users {
                    crate::rows::bind_user(sqlx::query(crate::rows::INSERT_USER), user)
                        .execute(&mut *tx)
                        .await
                        .map_err(crate::classify)?;
                }
                tx.commit().await.map_err(crate::classify)?;
                Ok(())
            }

            async fn user_by_id(
                &self,
                id: &str,
            ) -> Result<Option<portcullis_core::user::UserRecord>, portcullis_core::store::StoreError> {
                self.one_user(crate::rows::USER_BY_ID, &[id]).await
            }

            async fn user_by_email(
                &self,
                connection: &str,
                email: &str,
            ) -> Result<Option<portcullis_core::user::UserRecord>, portcullis_core::store::StoreError> {
                self.one_user(crate::rows::USER_BY_EMAIL, &[connection, email]).await
            }

            async fn user_by_username(
                &self,
                connection: &str,
                username: &str,
            ) -> Result<Option<portcullis_core::user::UserRecord>, portcullis_core::store::StoreError> {
                self.one_user(crate::rows::USER_BY_USERNAME, &[connection, username]).await
            }

            async fn user_exists(
                &self,
                connection: &str,
                email: &str,
            ) -> Result<bool, portcullis_core::store::StoreError> {
                let found: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE connection = $1 AND email = $2)",
                )
                .bind(connection)
                .bind(email)
                .fetch_one(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(found)
            }

            async fn list_users(
                &self,
                query: &portcullis_core::store::UserQuery,
            ) -> Result<(Vec<portcullis_core::user::UserRecord>, Option<u64>), portcullis_core::store::StoreError> {
                let (filter, binds) = crate::rows::user_filter(query);
                let total = if query.with_total {
                    let mut count = sqlx::query_scalar::<_, i64>(
                        sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM users{filter}")),
                    );
                    for b in &binds {
                        count = count.bind(b.clone());
                    }
                    let total = count.fetch_one(&self.pool).await.map_err(crate::classify)?;
                    Some(u64::try_from(total).unwrap_or(0))
                } else {
                    None
                };
                let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
                let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
                let n = binds.len();
                let sql = format!(
                    "{}{filter} ORDER BY created_at, id LIMIT ${} OFFSET ${}",
                    crate::rows::SELECT_USER,
                    n + 1,
                    n + 2
                );
                let mut select = sqlx::query_as::<_, crate::rows::UserRow>(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    select = select.bind(b);
                }
                let rows = select
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                let users = rows
                    .into_iter()
                    .map(crate::rows::UserRow::into_record)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((users, total))
            }

            async fn replace_user(
                &self,
                user: &portcullis_core::user::UserRecord,
                expected_version: i64,
                retired: Option<&portcullis_core::store::RetiredPassword>,
                end_sessions_at: Option<i64>,
            ) -> Result<bool, portcullis_core::store::StoreError> {
                let row = crate::rows::UserRow::from_record(user);
                let mut tx = self.pool.begin().await.map_err(crate::classify)?;
                let done = sqlx::query(crate::rows::REPLACE_USER)
                    .bind(row.email)
                    .bind(row.email_verified)
                    .bind(row.username)
                    .bind(row.password_hash)
                    .bind(row.given_name)
                    .bind(row.family_name)
                    .bind(row.name)
                    .bind(row.nickname)
                    .bind(row.picture)
                    .bind(row.user_metadata)
                    .bind(row.app_metadata)
                    .bind(row.blocked)
                    .bind(row.updated_at)
                    .bind(row.last_password_reset)
                    .bind(expected_version + 1)
                    .bind(&row.id)
                    .bind(expected_version)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::classify)?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                if let Some(retired) = retired {
                    sqlx::query("INSERT INTO password_history (user_id, password_hash, retired_at) VALUES ($1, $2, $3)")
                        .bind(&row.id)
                        .bind(&retired.hash)
                        .bind(retired.retired_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(crate::classify)?;
                    sqlx::query(crate::rows::PRUNE_PASSWORD_HISTORY)
                        .bind(&row.id)
                        .bind(i64::from(retired.keep))
                        .execute(&mut *tx)
                        .await
                        .map_err(crate::classify)?;
                }
                if let Some(now) = end_sessions_at {
                    // Sessions and refresh tokens name the user as `auth0|<id>`.
                    let user_id = user.user_id();
                    for sql in [crate::rows::END_USER_SESSIONS, crate::rows::END_USER_REFRESH_TOKENS] {
                        sqlx::query(sql).bind(&user_id).bind(now).execute(&mut *tx).await.map_err(crate::classify)?;
                    }
                }
                tx.commit().await.map_err(crate::classify)?;
                Ok(true)
            }

            async fn password_history(
                &self,
                id: &str,
                limit: u32,
            ) -> Result<Vec<String>, portcullis_core::store::StoreError> {
                sqlx::query_scalar::<_, String>(
                    "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::classify)
            }

            async fn delete_user(&self, id: &str) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_login(
                &self,
                id: &str,
                at: i64,
                ip: Option<&str>,
                event: &portcullis_core::logs::LogEvent,
            ) -> Result<(), portcullis_core::store::StoreError> {
                let mut tx = self.pool.begin().await.map_err(crate::classify)?;
                sqlx::query("UPDATE users SET logins_count = logins_count + 1, last_login = $1, last_ip = $2 WHERE id = $3")
                    .bind(at)
                    .bind(ip)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::classify)?;
                crate::rows::bind_log(sqlx::query(crate::rows::INSERT_LOG), event)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::classify)?;
                tx.commit().await.map_err(crate::classify)?;
                Ok(())
            }

            async fn record_login_failure(
                &self,
                key: &portcullis_core::attack::brute_force::AttemptKey,
                now: i64,
                max_attempts: u32,
            ) -> Result<portcullis_core::attack::brute_force::FailureCount, portcullis_core::store::StoreError> {
                let (failures, blocked_at): (i64, Option<i64>) = sqlx::query_as(crate::rows::RECORD_LOGIN_FAILURE)
                    .bind(&key.connection)
                    .bind(&key.identifier)
                    .bind(&key.ip)
                    .bind(now)
                    .bind(i64::from(max_attempts))
                    .bind(now - portcullis_core::attack::brute_force::BLOCK_LIFETIME_MILLIS)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(portcullis_core::attack::brute_force::FailureCount {
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    blocked_at,
                })
            }

            async fn reserve_login_attempt(
                &self,
                key: &portcullis_core::attack::brute_force::AttemptKey,
                now: i64,
                max_attempts: u32,
                lapsed_before: i64,
            ) -> Result<Option<u32>, portcullis_core::store::StoreError> {
                let count: Option<i64> = sqlx::query_scalar(crate::rows::RESERVE_LOGIN_ATTEMPT)
                    .bind(&key.connection)
                    .bind(&key.identifier)
                    .bind(&key.ip)
                    .bind(now)
                    .bind(i64::from(max_attempts))
                    .bind(lapsed_before)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(count.map(|c| u32::try_from(c).unwrap_or(u32::MAX)))
            }

            async fn block_login_key(
                &self,
                key: &portcullis_core::attack::brute_force::AttemptKey,
                now: i64,
                max_attempts: u32,
            ) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query(
                    "UPDATE login_failures SET blocked_at = $4 \
                     WHERE connection = $1 AND identifier = $2 AND ip = $3 \
                     AND blocked_at IS NULL AND failures >= $5",
                )
                .bind(&key.connection)
                .bind(&key.identifier)
                .bind(&key.ip)
                .bind(now)
                .bind(i64::from(max_attempts))
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn settle_login_success(
                &self,
                key: &portcullis_core::attack::brute_force::AttemptKey,
                slot: u32,
            ) -> Result<(), portcullis_core::store::StoreError> {
                let cleared = sqlx::query(
                    "DELETE FROM login_failures \
                     WHERE connection = $1 AND identifier = $2 AND ip = $3 \
                     AND blocked_at IS NULL AND failures <= $4",
                )
                .bind(&key.connection)
                .bind(&key.identifier)
                .bind(&key.ip)
                .bind(i64::from(slot))
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                if cleared.rows_affected() == 0 {
                    self.return_login_attempt(key).await?;
                }
                Ok(())
            }

            async fn return_login_attempt(
                &self,
                key: &portcullis_core::attack::brute_force::AttemptKey,
            ) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query(
                    "UPDATE login_failures SET failures = failures - 1 \
                     WHERE connection = $1 AND identifier = $2 AND ip = $3 \
                     AND blocked_at IS NULL AND failures > 0",
                )
                .bind(&key.connection)
                .bind(&key.identifier)
                .bind(&key.ip)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(())
            }

            async fn login_attempts(
                &self,
                key: &portcullis_core::attack::brute_force::AttemptKey,
                not_before: i64,
            ) -> Result<Option<portcullis_core::attack::brute_force::FailureCount>, portcullis_core::store::StoreError> {
                let row: Option<(i64, Option<i64>)> = sqlx::query_as(crate::rows::LOGIN_ATTEMPTS)
                    .bind(&key.connection)
                    .bind(&key.identifier)
                    .bind(&key.ip)
                    .bind(not_before)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(row.map(|(failures, blocked_at)| portcullis_core::attack::brute_force::FailureCount {
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    blocked_at,
                }))
            }

            async fn clear_login_failures(
                &self,
                key: &portcullis_core::attack::brute_force::AttemptKey,
            ) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("DELETE FROM login_failures WHERE connection = $1 AND identifier = $2 AND ip = $3")
                    .bind(&key.connection)
                    .bind(&key.identifier)
                    .bind(&key.ip)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn login_blocks(
                &self,
                connection: Option<&str>,
                identifiers: &[String],
                not_before: i64,
            ) -> Result<Vec<portcullis_core::attack::brute_force::AttemptKey>, portcullis_core::store::StoreError> {
                if identifiers.is_empty() {
                    return Ok(Vec::new());
                }
                let (filter, binds) = crate::rows::identifiers_filter(connection, identifiers, 2);
                let sql = format!(
                    "SELECT connection, identifier, ip FROM login_failures{filter} \
                     AND blocked_at IS NOT NULL AND last_failure >= $1 ORDER BY connection, identifier, ip"
                );
                let mut query = sqlx::query_as::<_, crate::rows::AttemptKeyRow>(sqlx::AssertSqlSafe(sql)).bind(not_before);
                for b in binds {
                    query = query.bind(b);
                }
                let rows = query.fetch_all(&self.pool).await.map_err(crate::classify)?;
                Ok(rows
                    .into_iter()
                    .map(|r| portcullis_core::attack::brute_force::AttemptKey {
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
            ) -> Result<u64, portcullis_core::store::StoreError> {
                if identifiers.is_empty() {
                    return Ok(0);
                }
                let (filter, binds) = crate::rows::identifiers_filter(connection, identifiers, 1);
                let mut query = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM login_failures{filter}")));
                for b in binds {
                    query = query.bind(b);
                }
                let done = query.execute(&self.pool).await.map_err(crate::classify)?;
                Ok(done.rows_affected())
            }

            async fn take_throttle_token(
                &self,
                stage: &str,
                ip: &str,
                now: i64,
                rate: i64,
                limit: i64,
            ) -> Result<Option<i64>, portcullis_core::store::StoreError> {
                // Make sure the row exists (idempotent), then admit conditionally in one UPDATE.
                sqlx::query("INSERT INTO ip_throttle (stage, ip, tat) VALUES ($1, $2, $3) ON CONFLICT (stage, ip) DO NOTHING")
                    .bind(stage)
                    .bind(ip)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                sqlx::query_scalar::<_, i64>(crate::rows::TAKE_THROTTLE_TOKEN)
                    .bind(stage)
                    .bind(ip)
                    .bind(now)
                    .bind(rate)
                    .bind(limit)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::classify)
            }

            async fn return_throttle_token(
                &self,
                stage: &str,
                ip: &str,
                rate: i64,
            ) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("UPDATE ip_throttle SET tat = tat - $3 WHERE stage = $1 AND ip = $2")
                    .bind(stage)
                    .bind(ip)
                    .bind(rate)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn throttle_state(&self, stage: &str, ip: &str) -> Result<Option<i64>, portcullis_core::store::StoreError> {
                sqlx::query_scalar::<_, i64>("SELECT tat FROM ip_throttle WHERE stage = $1 AND ip = $2")
                    .bind(stage)
                    .bind(ip)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::classify)
            }

            async fn clear_throttle(&self, ip: &str) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query("DELETE FROM ip_throttle WHERE ip = $1")
                    .bind(ip)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_ticket(
                &self,
                ticket: &portcullis_core::tickets::TicketRecord,
            ) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query(
                    "INSERT INTO tickets (id_hash, kind, user_id, payload, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&ticket.id_hash)
                .bind(&ticket.kind)
                .bind(&ticket.user_id)
                .bind(serde_json::Value::Object(ticket.payload.clone()).to_string())
                .bind(ticket.created_at)
                .bind(ticket.expires_at)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(())
            }

            async fn ticket(
                &self,
                id_hash: &str,
                kind: &str,
                now: i64,
            ) -> Result<Option<portcullis_core::tickets::TicketRecord>, portcullis_core::store::StoreError> {
                let row: Option<crate::rows::TicketRow> = sqlx::query_as(
                    "SELECT id_hash, kind, user_id, payload, created_at, expires_at FROM tickets \
                     WHERE id_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3",
                )
                .bind(id_hash)
                .bind(kind)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::classify)?;
                row.map(crate::rows::TicketRow::into_record).transpose()
            }

            async fn consume_ticket(
                &self,
                id_hash: &str,
                kind: &str,
                now: i64,
            ) -> Result<Option<portcullis_core::tickets::TicketRecord>, portcullis_core::store::StoreError> {
                let row: Option<crate::rows::TicketRow> = sqlx::query_as(
                    "UPDATE tickets SET used_at = $3 WHERE id_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3 \
                     RETURNING id_hash, kind, user_id, payload, created_at, expires_at",
                )
                .bind(id_hash)
                .bind(kind)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::classify)?;
                row.map(crate::rows::TicketRow::into_record).transpose()
            }

            async fn void_tickets(
                &self,
                user_id: &str,
                kind: &str,
                now: i64,
            ) -> Result<u64, portcullis_core::store::StoreError> {
                let done = sqlx::query(
                    "UPDATE tickets SET used_at = $3 WHERE user_id = $1 AND kind = $2 AND used_at IS NULL",
                )
                .bind(user_id)
                .bind(kind)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(done.rows_affected())
            }

            async fn insert_mfa_token(&self, token: &portcullis_core::mfa::MfaTokenRecord) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("INSERT INTO mfa_tokens (token_hash, user_id, client_id, request, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&token.token_hash)
                    .bind(&token.user_id)
                    .bind(&token.client_id)
                    .bind(serde_json::to_string(&token.request).unwrap_or_else(|_| "{}".to_owned()))
                    .bind(token.created_at)
                    .bind(token.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn mfa_token(&self, token_hash: &str) -> Result<Option<portcullis_core::mfa::MfaTokenRecord>, portcullis_core::store::StoreError> {
                let row: Option<crate::rows::MfaTokenRow> = sqlx::query_as(
                    "SELECT token_hash, user_id, client_id, request, created_at, expires_at FROM mfa_tokens \
                     WHERE token_hash = $1 AND used_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(row.map(crate::rows::MfaTokenRow::into_record))
            }

            async fn consume_mfa_token(&self, token_hash: &str, now: i64) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query("UPDATE mfa_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
                    .bind(token_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_authenticator(&self, a: &portcullis_core::mfa::AuthenticatorRecord) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query(
                    "INSERT INTO authenticators (id, user_id, kind, secret, code_hash, confirmed, created_at, last_step) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&a.id)
                .bind(&a.user_id)
                .bind(a.kind.as_str())
                .bind(&a.secret)
                .bind(&a.code_hash)
                .bind(a.confirmed)
                .bind(a.created_at)
                .bind(a.last_step)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(())
            }

            async fn authenticators(&self, user_id: &str) -> Result<Vec<portcullis_core::mfa::AuthenticatorRecord>, portcullis_core::store::StoreError> {
                let rows: Vec<crate::rows::AuthenticatorRow> = sqlx::query_as(
                    "SELECT id, user_id, kind, secret, code_hash, confirmed, created_at, last_step FROM authenticators \
                     WHERE user_id = $1 ORDER BY created_at, id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(rows.into_iter().filter_map(crate::rows::AuthenticatorRow::into_record).collect())
            }

            async fn delete_authenticators(&self, user_id: &str, id: Option<&str>) -> Result<u64, portcullis_core::store::StoreError> {
                let done = match id {
                    Some(id) => sqlx::query("DELETE FROM authenticators WHERE user_id = $1 AND id = $2").bind(user_id).bind(id),
                    None => sqlx::query("DELETE FROM authenticators WHERE user_id = $1").bind(user_id),
                }
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(done.rows_affected())
            }

            async fn delete_pending_authenticators(&self, user_id: &str, kind: &str) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("DELETE FROM authenticators WHERE user_id = $1 AND kind = $2 AND confirmed = $3")
                    .bind(user_id)
                    .bind(kind)
                    .bind(false)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn accept_otp_step(&self, id: &str, step: i64) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query(
                    "UPDATE authenticators SET last_step = $2, confirmed = $3, failures = 0, failures_since = NULL \
                     WHERE id = $1 AND (last_step IS NULL OR last_step < $2)",
                )
                .bind(id)
                .bind(step)
                .bind(true)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn rotate_recovery_code(&self, user_id: &str, old_hash: &str, new_hash: &str) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query(
                    "UPDATE authenticators SET code_hash = $3 WHERE user_id = $1 AND kind = 'recovery-code' AND code_hash = $2",
                )
                .bind(user_id)
                .bind(old_hash)
                .bind(new_hash)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_refresh_token(
                &self,
                token: &portcullis_core::refresh::RefreshTokenRecord,
            ) -> Result<(), portcullis_core::store::StoreError> {
                crate::rows::bind_refresh(sqlx::query(crate::rows::INSERT_REFRESH), token)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn use_refresh_token(
                &self,
                token_hash: &str,
                now: i64,
                successor: Option<&portcullis_core::refresh::RefreshTokenRecord>,
            ) -> Result<portcullis_core::refresh::RefreshLookup, portcullis_core::store::StoreError> {
                use portcullis_core::refresh::RefreshLookup;
                let Some(successor) = successor else {
                    let row: Option<crate::rows::RefreshRow> = sqlx::query_as(crate::rows::VALID_REFRESH)
                        .bind(token_hash)
                        .bind(now)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(crate::classify)?;
                    return Ok(row.map_or(RefreshLookup::Invalid, |r| RefreshLookup::Valid(r.into_record())));
                };
                // Write first, so SQLite takes its write lock at once and two rotations queue.
                let mut tx = self.pool.begin().await.map_err(crate::classify)?;
                let rotated: Option<crate::rows::RefreshRow> = sqlx::query_as(crate::rows::ROTATE_REFRESH)
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(crate::classify)?;
                if let Some(row) = rotated {
                    crate::rows::bind_refresh(sqlx::query(crate::rows::INSERT_REFRESH), successor)
                        .execute(&mut *tx)
                        .await
                        .map_err(crate::classify)?;
                    tx.commit().await.map_err(crate::classify)?;
                    return Ok(RefreshLookup::Valid(row.into_record()));
                }
                let previous: Option<(String, String, Option<i64>, Option<i64>)> = sqlx::query_as(
                    "SELECT family_id, user_id, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await
                .map_err(crate::classify)?;
                let outcome = match previous {
                    Some((family_id, user_id, Some(_), None)) => {
                        sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL")
                            .bind(&family_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(crate::classify)?;
                        RefreshLookup::Reused { family_id, user_id }
                    }
                    _ => RefreshLookup::Invalid,
                };
                tx.commit().await.map_err(crate::classify)?;
                Ok(outcome)
            }

            async fn revoke_refresh_family(
                &self,
                token_hash: &str,
                client_id: &str,
                now: i64,
            ) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $3 WHERE revoked_at IS NULL AND family_id = \
                     (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND client_id = $2)",
                )
                .bind(token_hash)
                .bind(client_id)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_auth_code(&self, code: &portcullis_core::codes_and_sessions::AuthCodeRecord) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("INSERT INTO auth_codes (code_hash, client_id, user_id, grant_data, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&code.code_hash)
                    .bind(&code.client_id)
                    .bind(&code.user_id)
                    .bind(serde_json::to_string(&code.grant).unwrap_or_else(|_| "{}".to_owned()))
                    .bind(code.created_at)
                    .bind(code.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn consume_auth_code(&self, code_hash: &str, now: i64) -> Result<Option<portcullis_core::codes_and_sessions::AuthCodeRecord>, portcullis_core::store::StoreError> {
                let row: Option<(String, String, String, String, i64, i64)> = sqlx::query_as(
                    "UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                     RETURNING code_hash, client_id, user_id, grant_data, created_at, expires_at",
                )
                .bind(code_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(row.map(|(code_hash, client_id, user_id, grant, created_at, expires_at)| portcullis_core::codes_and_sessions::AuthCodeRecord {
                    code_hash,
                    client_id,
                    user_id,
                    grant: serde_json::from_str(&grant).unwrap_or_default(),
                    created_at,
                    expires_at,
                }))
            }

            async fn insert_session(&self, s: &portcullis_core::codes_and_sessions::SessionRecord) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, expires_at, mfa_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&s.id_hash)
                    .bind(&s.user_id)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .bind(s.mfa_at)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn session(&self, id_hash: &str, now: i64) -> Result<Option<portcullis_core::codes_and_sessions::SessionRecord>, portcullis_core::store::StoreError> {
                let row: Option<(String, String, i64, i64, Option<i64>)> = sqlx::query_as(
                    "SELECT id_hash, user_id, created_at, expires_at, mfa_at FROM sessions WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(row.map(|(id_hash, user_id, created_at, expires_at, mfa_at)| portcullis_core::codes_and_sessions::SessionRecord {
                    id_hash,
                    user_id,
                    created_at,
                    expires_at,
                    mfa_at,
                }))
            }

            async fn revoke_session(&self, id_hash: &str, now: i64) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL")
                    .bind(id_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn setting(&self, name: &str) -> Result<Option<String>, portcullis_core::store::StoreError> {
                sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::classify)
            }

            async fn insert_action(&self, a: &portcullis_core::actions::ActionRecord) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("INSERT INTO actions (id, name, trigger_id, code, secrets, deployed_code, deployed_secrets, version, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&a.id)
                    .bind(&a.name)
                    .bind(&a.trigger)
                    .bind(&a.code)
                    .bind(serde_json::Value::Object(a.secrets.clone()).to_string())
                    .bind(&a.deployed_code)
                    .bind(serde_json::Value::Object(a.deployed_secrets.clone()).to_string())
                    .bind(a.version)
                    .bind(a.created_at)
                    .bind(a.updated_at)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn action(&self, id: &str) -> Result<Option<portcullis_core::actions::ActionRecord>, portcullis_core::store::StoreError> {
                let row: Option<crate::rows::ActionRow> = sqlx::query_as(
                    "SELECT id, name, trigger_id, code, secrets, deployed_code, deployed_secrets, version, created_at, updated_at FROM actions WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(row.map(crate::rows::ActionRow::into_record))
            }

            async fn list_actions(&self) -> Result<Vec<portcullis_core::actions::ActionRecord>, portcullis_core::store::StoreError> {
                let rows: Vec<crate::rows::ActionRow> = sqlx::query_as(
                    "SELECT id, name, trigger_id, code, secrets, deployed_code, deployed_secrets, version, created_at, updated_at FROM actions ORDER BY created_at, id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(rows.into_iter().map(crate::rows::ActionRow::into_record).collect())
            }

            async fn replace_action(&self, a: &portcullis_core::actions::ActionRecord) -> Result<bool, portcullis_core::store::StoreError> {
                let done = sqlx::query("UPDATE actions SET name = $2, trigger_id = $3, code = $4, secrets = $5, deployed_code = $6, \
                                        deployed_secrets = $7, version = $8, updated_at = $9 WHERE id = $1")
                    .bind(&a.id)
                    .bind(&a.name)
                    .bind(&a.trigger)
                    .bind(&a.code)
                    .bind(serde_json::Value::Object(a.secrets.clone()).to_string())
                    .bind(&a.deployed_code)
                    .bind(serde_json::Value::Object(a.deployed_secrets.clone()).to_string())
                    .bind(a.version)
                    .bind(a.updated_at)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_action(&self, id: &str) -> Result<bool, portcullis_core::store::StoreError> {
                let mut tx = self.pool.begin().await.map_err(crate::classify)?;
                sqlx::query("DELETE FROM action_bindings WHERE action_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::classify)?;
                let done = sqlx::query("DELETE FROM actions WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::classify)?;
                tx.commit().await.map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn replace_bindings(
                &self,
                trigger: &str,
                bindings: &[portcullis_core::actions::BindingRecord],
            ) -> Result<(), portcullis_core::store::StoreError> {
                let mut tx = self.pool.begin().await.map_err(crate::classify)?;
                sqlx::query("DELETE FROM action_bindings WHERE trigger_id = $1")
                    .bind(trigger)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::classify)?;
                for (position, b) in bindings.iter().enumerate() {
                    sqlx::query("INSERT INTO action_bindings (trigger_id, position, id, action_id, display_name, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(trigger)
                        .bind(position as i64)
                        .bind(&b.id)
                        .bind(&b.action_id)
                        .bind(&b.display_name)
                        .bind(b.created_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(crate::classify)?;
                }
                tx.commit().await.map_err(crate::classify)?;
                Ok(())
            }

            async fn bindings(&self) -> Result<Vec<portcullis_core::actions::BindingRecord>, portcullis_core::store::StoreError> {
                let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
                    "SELECT id, trigger_id, action_id, display_name, created_at FROM action_bindings ORDER BY trigger_id, position",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, trigger, action_id, display_name, created_at)| portcullis_core::actions::BindingRecord {
                        id,
                        trigger,
                        action_id,
                        display_name,
                        created_at,
                    })
                    .collect())
            }

            fn pool_usage(&self) -> Option<(u32, u32)> {
                Some((self.pool.size(), self.pool.num_idle() as u32))
            }

            async fn put_setting(&self, name: &str, value: &str) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                    .bind(name)
                    .bind(value)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn prune_logs(&self, before: i64) -> Result<u64, portcullis_core::store::StoreError> {
                let done = sqlx::query("DELETE FROM logs WHERE date < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(done.rows_affected())
            }

            async fn append_log(
                &self,
                event: &portcullis_core::logs::LogEvent,
            ) -> Result<(), portcullis_core::store::StoreError> {
                crate::rows::bind_log(sqlx::query(crate::rows::INSERT_LOG), event)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(())
            }

            async fn list_logs(
                &self,
                query: &portcullis_core::logs::LogQuery,
            ) -> Result<(Vec<portcullis_core::logs::LogEvent>, u64), portcullis_core::store::StoreError> {
                let (filter, binds) = crate::rows::log_filter(query);
                let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM logs{filter}")));
                for b in &binds {
                    count = count.bind(b.clone());
                }
                let total = count.fetch_one(&self.pool).await.map_err(crate::classify)?;
                let order = if query.newest_first && query.from.is_none() { "DESC" } else { "ASC" };
                let n = binds.len();
                let sql = format!(
                    "{}{filter} ORDER BY log_id {order} LIMIT ${} OFFSET ${}",
                    crate::rows::SELECT_LOG,
                    n + 1,
                    n + 2
                );
                let mut select = sqlx::query_as::<_, crate::rows::LogRow>(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    select = select.bind(b);
                }
                let rows = select
                    .bind(i64::try_from(query.limit).unwrap_or(i64::MAX))
                    .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                let events = rows.into_iter().map(crate::rows::LogRow::into_event).collect::<Result<Vec<_>, _>>()?;
                Ok((events, u64::try_from(total).unwrap_or(0)))
            }

            async fn log_by_id(
                &self,
                log_id: &str,
            ) -> Result<Option<portcullis_core::logs::LogEvent>, portcullis_core::store::StoreError> {
                let row: Option<crate::rows::LogRow> = sqlx::query_as(crate::rows::LOG_BY_ID)
                    .bind(log_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                row.map(crate::rows::LogRow::into_event).transpose()
            }

            async fn signing_keys(
                &self,
            ) -> Result<Vec<portcullis_core::store::SigningKeyRecord>, portcullis_core::store::StoreError> {
                let rows: Vec<crate::rows::SigningKeyRow> = sqlx::query_as(
                    "SELECT kid, generation, private_key_pem, created_at FROM signing_keys ORDER BY generation DESC",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn insert_signing_key(
                &self,
                key: &portcullis_core::store::SigningKeyRecord,
            ) -> Result<(), portcullis_core::store::StoreError> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, generation, private_key_pem, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&key.kid)
                .bind(key.generation)
                .bind(&key.private_key_pem)
                .bind(key.created_at)
                .execute(&self.pool)
                .await
                .map_err(crate::classify)?;
                Ok(())
            }

            async fn delete_signing_keys_before(
                &self,
                generation: i64,
            ) -> Result<u64, portcullis_core::store::StoreError> {
                let done = sqlx::query("DELETE FROM signing_keys WHERE generation < $1")
                    .bind(generation)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(done.rows_affected())
            }

            async fn sealed_values(
                &self,
                column: portcullis_core::store::SealedColumn,
            ) -> Result<Vec<(String, String)>, portcullis_core::store::StoreError> {
                let (select, _) = crate::rows::sealed_column_sql(column);
                sqlx::query_as(select)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::classify)
            }

            async fn replace_sealed_value(
                &self,
                column: portcullis_core::store::SealedColumn,
                id: &str,
                old: &str,
                new: &str,
            ) -> Result<bool, portcullis_core::store::StoreError> {
                let (_, update) = crate::rows::sealed_column_sql(column);
                let done = sqlx::query(update)
                    .bind(id)
                    .bind(old)
                    .bind(new)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::classify)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use impl_store;
