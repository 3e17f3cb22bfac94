//! Users, their password history and their login statistics.

use async_trait::async_trait;
use portcullis_core::logs::LogEvent;
use portcullis_core::store::{RetiredPassword, StoreError, UserQuery, UserStore};
use portcullis_core::user::UserRecord;
use serde_json::{Map, Value};

use crate::SqlStore;
use crate::db::Arg;
use crate::logs::log_args;

/// `SELECT <every user column> FROM users` followed by the given clause, as one literal.
macro_rules! select_user {
    ($clause:literal) => {
        concat!(
            "SELECT id, connection, email, email_verified, username, password_hash, ",
            "given_name, family_name, name, nickname, picture, user_metadata, app_metadata, ",
            "blocked, created_at, updated_at, last_login, last_ip, logins_count, ",
            "last_password_reset, version FROM users",
            $clause
        )
    };
}

const SELECT_USER: &str = select_user!("");
const USER_BY_ID: &str = select_user!(" WHERE id = $1");
const USER_BY_EMAIL: &str = select_user!(" WHERE connection = $1 AND email = $2");
const USER_BY_USERNAME: &str = select_user!(" WHERE connection = $1 AND username = $2");

const INSERT_USER: &str = "INSERT INTO users (id, connection, email, email_verified, username, \
    password_hash, given_name, family_name, name, nickname, picture, user_metadata, \
    app_metadata, blocked, created_at, updated_at, last_login, last_ip, logins_count, \
    last_password_reset, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
    $13, $14, $15, $16, $17, $18, $19, $20, $21)";

/// Replaces the mutable fields if the version still matches. `logins_count`, `last_login` and
/// `last_ip` are left to `record_login`, so a concurrent login is never overwritten.
const REPLACE_USER: &str = "UPDATE users SET email = $1, email_verified = $2, username = $3, \
    password_hash = $4, given_name = $5, family_name = $6, name = $7, nickname = $8, \
    picture = $9, user_metadata = $10, app_metadata = $11, blocked = $12, updated_at = $13, \
    last_password_reset = $14, version = $15 WHERE id = $16 AND version = $17";

const USER_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM users WHERE connection = $1 AND email = $2)";

const INSERT_PASSWORD_HISTORY: &str =
    "INSERT INTO password_history (user_id, password_hash, retired_at) VALUES ($1, $2, $3)";

/// Keeps the newest `$2` retired hashes of user `$1`.
const PRUNE_PASSWORD_HISTORY: &str = "DELETE FROM password_history WHERE user_id = $1 \
    AND id NOT IN (SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)";

const PASSWORD_HISTORY: &str =
    "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2";

const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

const RECORD_LOGIN: &str = "UPDATE users SET logins_count = logins_count + 1, last_login = $1, \
    last_ip = $2 WHERE id = $3";

/// Revokes the live sessions of user `$1` at `$2`.
const END_USER_SESSIONS: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
/// Revokes the live refresh tokens of user `$1` at `$2`.
const END_USER_REFRESH_TOKENS: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";

#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    id: String,
    connection: String,
    email: String,
    email_verified: bool,
    username: Option<String>,
    password_hash: String,
    given_name: Option<String>,
    family_name: Option<String>,
    name: String,
    nickname: String,
    picture: String,
    user_metadata: String,
    app_metadata: String,
    blocked: Option<bool>,
    created_at: i64,
    updated_at: i64,
    last_login: Option<i64>,
    last_ip: Option<String>,
    logins_count: i64,
    last_password_reset: Option<i64>,
    version: i64,
}

fn metadata_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

impl UserRow {
    fn into_record(self) -> Result<UserRecord, StoreError> {
        Ok(UserRecord {
            user_metadata: crate::json_object(&self.user_metadata)?,
            app_metadata: crate::json_object(&self.app_metadata)?,
            id: self.id,
            connection: self.connection,
            email: self.email,
            email_verified: self.email_verified,
            username: self.username,
            password_hash: self.password_hash,
            given_name: self.given_name,
            family_name: self.family_name,
            name: self.name,
            nickname: self.nickname,
            picture: self.picture,
            blocked: self.blocked,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_login: self.last_login,
            last_ip: self.last_ip,
            logins_count: self.logins_count,
            last_password_reset: self.last_password_reset,
            version: self.version,
        })
    }
}

/// A user's columns, in [`INSERT_USER`]'s order.
fn user_args(u: &UserRecord) -> Vec<Arg> {
    vec![
        (&u.id).into(),
        (&u.connection).into(),
        (&u.email).into(),
        u.email_verified.into(),
        (&u.username).into(),
        (&u.password_hash).into(),
        (&u.given_name).into(),
        (&u.family_name).into(),
        (&u.name).into(),
        (&u.nickname).into(),
        (&u.picture).into(),
        metadata_text(&u.user_metadata).into(),
        metadata_text(&u.app_metadata).into(),
        u.blocked.into(),
        u.created_at.into(),
        u.updated_at.into(),
        u.last_login.into(),
        (&u.last_ip).into(),
        u.logins_count.into(),
        u.last_password_reset.into(),
        u.version.into(),
    ]
}

/// ` WHERE …` for the query's filters (empty when none) and the values to bind, in order.
fn user_filter(query: &UserQuery) -> (String, Vec<Arg>) {
    let mut conditions = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    if let Some(email) = &query.email {
        args.push(email.into());
        conditions.push(format!("email = ${}", args.len()));
    }
    if let Some(connection) = &query.connection {
        args.push(connection.into());
        conditions.push(format!("connection = ${}", args.len()));
    }
    if conditions.is_empty() {
        (String::new(), args)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), args)
    }
}

impl SqlStore {
    async fn one_user(
        &self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.pool
            .fetch_optional::<UserRow>(sql, args)
            .await?
            .map(UserRow::into_record)
            .transpose()
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.pool.execute(INSERT_USER, user_args(user)).await?;
        Ok(())
    }

    async fn insert_users(&self, users: &[UserRecord]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for user in users {
            tx.execute(INSERT_USER, user_args(user)).await?;
        }
        tx.commit().await
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.one_user(USER_BY_ID, vec![id.into()]).await
    }

    async fn user_by_email(
        &self,
        connection: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.one_user(USER_BY_EMAIL, vec![connection.into(), email.into()])
            .await
    }

    async fn user_by_username(
        &self,
        connection: &str,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.one_user(USER_BY_USERNAME, vec![connection.into(), username.into()])
            .await
    }

    async fn user_exists(&self, connection: &str, email: &str) -> Result<bool, StoreError> {
        let (found,): (bool,) = self
            .pool
            .fetch_one(USER_EXISTS, vec![connection.into(), email.into()])
            .await?;
        Ok(found)
    }

    async fn list_users(
        &self,
        query: &UserQuery,
    ) -> Result<(Vec<UserRecord>, Option<u64>), StoreError> {
        let (filter, args) = user_filter(query);
        let total = if query.with_total {
            let (total,): (i64,) = self
                .pool
                .fetch_one(format!("SELECT COUNT(*) FROM users{filter}"), args.clone())
                .await?;
            Some(u64::try_from(total).unwrap_or(0))
        } else {
            None
        };
        let n = args.len();
        let sql = format!(
            "{SELECT_USER}{filter} ORDER BY created_at, id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut args = args;
        args.push(i64::try_from(query.limit).unwrap_or(i64::MAX).into());
        args.push(i64::try_from(query.offset).unwrap_or(i64::MAX).into());
        let users = self
            .pool
            .fetch_all::<UserRow>(sql, args)
            .await?
            .into_iter()
            .map(UserRow::into_record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((users, total))
    }

    async fn replace_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        retired: Option<&RetiredPassword>,
        end_sessions_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let replaced = tx
            .execute(
                REPLACE_USER,
                vec![
                    (&user.email).into(),
                    user.email_verified.into(),
                    (&user.username).into(),
                    (&user.password_hash).into(),
                    (&user.given_name).into(),
                    (&user.family_name).into(),
                    (&user.name).into(),
                    (&user.nickname).into(),
                    (&user.picture).into(),
                    metadata_text(&user.user_metadata).into(),
                    metadata_text(&user.app_metadata).into(),
                    user.blocked.into(),
                    user.updated_at.into(),
                    user.last_password_reset.into(),
                    (expected_version + 1).into(),
                    (&user.id).into(),
                    expected_version.into(),
                ],
            )
            .await?;
        if replaced != 1 {
            return Ok(false);
        }
        if let Some(retired) = retired {
            tx.execute(
                INSERT_PASSWORD_HISTORY,
                vec![
                    (&user.id).into(),
                    (&retired.hash).into(),
                    retired.retired_at.into(),
                ],
            )
            .await?;
            tx.execute(
                PRUNE_PASSWORD_HISTORY,
                vec![(&user.id).into(), retired.keep.into()],
            )
            .await?;
        }
        if let Some(now) = end_sessions_at {
            // Sessions and refresh tokens name the user as `auth0|<id>`.
            let user_id = user.user_id();
            for sql in [END_USER_SESSIONS, END_USER_REFRESH_TOKENS] {
                tx.execute(sql, vec![(&user_id).into(), now.into()]).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn password_history(&self, id: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = self
            .pool
            .fetch_all(PASSWORD_HISTORY, vec![id.into(), limit.into()])
            .await?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.pool.execute(DELETE_USER, vec![id.into()]).await? == 1)
    }

    async fn record_login(
        &self,
        id: &str,
        at: i64,
        ip: Option<&str>,
        event: &LogEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        tx.execute(RECORD_LOGIN, vec![at.into(), ip.into(), id.into()])
            .await?;
        tx.execute(crate::logs::INSERT_LOG, log_args(event)).await?;
        tx.commit().await
    }
}
