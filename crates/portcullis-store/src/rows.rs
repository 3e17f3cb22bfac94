//! Row types and the SQL text both dialects share.

use portcullis_core::logs::{LogEvent, LogQuery};
use portcullis_core::store::{SigningKeyRecord, StoreError, UserQuery};
use portcullis_core::user::UserRecord;
use serde_json::{Map, Value};

/// `SELECT <every user column> FROM users` followed by the given clause, as one literal.
macro_rules! select_user {
    ($clause:literal) => {
        concat!(
            "SELECT id, connection, email, email_verified, username, password_hash, ",
            "given_name, family_name, name, nickname, picture, user_metadata, app_metadata, blocked, ",
            "created_at, updated_at, last_login, last_ip, logins_count, last_password_reset, version FROM users",
            $clause
        )
    };
}

pub(crate) const SELECT_USER: &str = select_user!("");
pub(crate) const USER_BY_ID: &str = select_user!(" WHERE id = $1");
pub(crate) const USER_BY_EMAIL: &str = select_user!(" WHERE connection = $1 AND email = $2");
pub(crate) const USER_BY_USERNAME: &str = select_user!(" WHERE connection = $1 AND username = $2");

pub(crate) const INSERT_USER: &str = "INSERT INTO users (id, connection, email, email_verified, username, password_hash, \
    given_name, family_name, name, nickname, picture, user_metadata, app_metadata, blocked, \
    created_at, updated_at, last_login, last_ip, logins_count, last_password_reset, version) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)";

/// Replaces the mutable fields if the version still matches. `logins_count`, `last_login` and
/// `last_ip` are left to `record_login`, so a concurrent login is never overwritten.
pub(crate) const REPLACE_USER: &str = "UPDATE users SET email = $1, email_verified = $2, username = $3, \
    password_hash = $4, given_name = $5, family_name = $6, name = $7, nickname = $8, picture = $9, \
    user_metadata = $10, app_metadata = $11, blocked = $12, updated_at = $13, last_password_reset = $14, \
    version = $15 WHERE id = $16 AND version = $17";

/// Keeps the newest `$2` retired hashes of user `$1`.
pub(crate) const PRUNE_PASSWORD_HISTORY: &str = "DELETE FROM password_history WHERE user_id = $1 AND id NOT IN \
    (SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub connection: String,
    pub email: String,
    pub email_verified: bool,
    pub username: Option<String>,
    pub password_hash: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: String,
    pub nickname: String,
    pub picture: String,
    pub user_metadata: String,
    pub app_metadata: String,
    pub blocked: Option<bool>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login: Option<i64>,
    pub last_ip: Option<String>,
    pub logins_count: i64,
    pub last_password_reset: Option<i64>,
    pub version: i64,
}

fn parse_object(text: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Internal(
            "stored metadata is not a JSON object".into(),
        )),
    }
}

impl UserRow {
    pub(crate) fn from_record(u: &UserRecord) -> Self {
        Self {
            id: u.id.clone(),
            connection: u.connection.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            username: u.username.clone(),
            password_hash: u.password_hash.clone(),
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            name: u.name.clone(),
            nickname: u.nickname.clone(),
            picture: u.picture.clone(),
            user_metadata: Value::Object(u.user_metadata.clone()).to_string(),
            app_metadata: Value::Object(u.app_metadata.clone()).to_string(),
            blocked: u.blocked,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login: u.last_login,
            last_ip: u.last_ip.clone(),
            logins_count: u.logins_count,
            last_password_reset: u.last_password_reset,
            version: u.version,
        }
    }

    pub(crate) fn into_record(self) -> Result<UserRecord, StoreError> {
        Ok(UserRecord {
            user_metadata: parse_object(&self.user_metadata)?,
            app_metadata: parse_object(&self.app_metadata)?,
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

/// ` WHERE …` for the query's filters (empty when none) and the values to bind, in order.
pub(crate) fn user_filter(query: &UserQuery) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    if let Some(email) = &query.email {
        binds.push(email.clone());
        conditions.push(format!("email = ${}", binds.len()));
    }
    if let Some(connection) = &query.connection {
        binds.push(connection.clone());
        conditions.push(format!("connection = ${}", binds.len()));
    }
    if conditions.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), binds)
    }
}

/// Counts a failure: `$1..$3` the key, `$4` now, `$5` max attempts, `$6` the time before which
/// an old count has lapsed (it restarts at 1). A block, once set, stays until removed.
pub(crate) const RECORD_LOGIN_FAILURE: &str = "INSERT INTO login_failures \
    (connection, identifier, ip, failures, last_failure, blocked_at) \
    VALUES ($1, $2, $3, 1, $4, CASE WHEN 1 >= $5 THEN $4 ELSE NULL END) \
    ON CONFLICT (connection, identifier, ip) DO UPDATE SET \
    failures = CASE WHEN login_failures.last_failure < $6 THEN 1 ELSE login_failures.failures + 1 END, \
    blocked_at = CASE WHEN login_failures.last_failure < $6 \
        THEN (CASE WHEN 1 >= $5 THEN $4 ELSE NULL END) \
        ELSE COALESCE(login_failures.blocked_at, CASE WHEN login_failures.failures + 1 >= $5 THEN $4 ELSE NULL END) END, \
    last_failure = $4 \
    RETURNING failures, blocked_at";

/// Reserves one attempt of key `($1, $2, $3)` at `$4` under limit `$5`; a count whose last
/// failure is before `$6` has lapsed and starts over. No row back: refused.
pub(crate) const RESERVE_LOGIN_ATTEMPT: &str = "INSERT INTO login_failures \
    (connection, identifier, ip, failures, last_failure, blocked_at) \
    VALUES ($1, $2, $3, 1, $4, NULL) \
    ON CONFLICT (connection, identifier, ip) DO UPDATE SET \
    failures = CASE WHEN login_failures.last_failure < $6 THEN 1 ELSE login_failures.failures + 1 END, \
    blocked_at = CASE WHEN login_failures.last_failure < $6 THEN NULL ELSE login_failures.blocked_at END, \
    last_failure = $4 \
    WHERE login_failures.last_failure < $6 \
    OR (login_failures.blocked_at IS NULL AND login_failures.failures < $5) \
    RETURNING failures";

/// Admits one event of bucket `($1, $2)` at `$3` with rate `$4` and limit `$5`, or changes
/// nothing (the bucket is full).
pub(crate) const TAKE_THROTTLE_TOKEN: &str = "UPDATE ip_throttle \
    SET tat = (CASE WHEN tat > $3 THEN tat ELSE $3 END) + $4 \
    WHERE stage = $1 AND ip = $2 AND (CASE WHEN tat > $3 THEN tat ELSE $3 END) + $4 - $3 <= $5 \
    RETURNING tat";

pub(crate) const LOGIN_ATTEMPTS: &str = "SELECT failures, blocked_at FROM login_failures \
    WHERE connection = $1 AND identifier = $2 AND ip = $3 AND last_failure >= $4";

/// ` WHERE identifier IN (…) [AND connection = …]` with its binds (identifiers first).
pub(crate) fn identifiers_filter(
    connection: Option<&str>,
    identifiers: &[String],
    first: usize,
) -> (String, Vec<String>) {
    let mut binds: Vec<String> = identifiers.to_vec();
    let placeholders: Vec<String> = (0..identifiers.len())
        .map(|i| format!("${}", first + i))
        .collect();
    let mut sql = format!(" WHERE identifier IN ({})", placeholders.join(", "));
    if let Some(c) = connection {
        binds.push(c.to_owned());
        sql.push_str(&format!(" AND connection = ${}", first + identifiers.len()));
    }
    (sql, binds)
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TicketRow {
    pub id_hash: String,
    pub kind: String,
    pub user_id: String,
    pub payload: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl TicketRow {
    pub(crate) fn into_record(self) -> Result<portcullis_core::tickets::TicketRecord, StoreError> {
        Ok(portcullis_core::tickets::TicketRecord {
            payload: parse_object(&self.payload)?,
            id_hash: self.id_hash,
            kind: self.kind,
            user_id: self.user_id,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MfaTokenRow {
    pub token_hash: String,
    pub user_id: String,
    pub client_id: String,
    pub request: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl MfaTokenRow {
    pub(crate) fn into_record(self) -> portcullis_core::mfa::MfaTokenRecord {
        portcullis_core::mfa::MfaTokenRecord {
            request: serde_json::from_str(&self.request).unwrap_or_default(),
            token_hash: self.token_hash,
            user_id: self.user_id,
            client_id: self.client_id,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuthenticatorRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub secret: Option<String>,
    pub code_hash: Option<String>,
    pub confirmed: bool,
    pub created_at: i64,
    pub last_step: Option<i64>,
}

impl AuthenticatorRow {
    /// `None` for a kind this version does not know.
    pub(crate) fn into_record(self) -> Option<portcullis_core::mfa::AuthenticatorRecord> {
        Some(portcullis_core::mfa::AuthenticatorRecord {
            kind: portcullis_core::mfa::AuthenticatorKind::parse(&self.kind)?,
            id: self.id,
            user_id: self.user_id,
            secret: self.secret,
            code_hash: self.code_hash,
            confirmed: self.confirmed,
            created_at: self.created_at,
            last_step: self.last_step,
        })
    }
}

pub(crate) const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, \
    scope, audience, created_at, expires_at, idle_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// A usable token `$1` at `$2` (not rotated, not revoked, not expired).
pub(crate) const VALID_REFRESH: &str = "SELECT token_hash, family_id, user_id, client_id, scope, audience, created_at, \
    expires_at, idle_expires_at FROM refresh_tokens WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL \
    AND (expires_at IS NULL OR expires_at > $2) AND (idle_expires_at IS NULL OR idle_expires_at > $2)";

/// Marks a usable token `$1` rotated at `$2`, returning it.
pub(crate) const ROTATE_REFRESH: &str = "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 \
    AND rotated_at IS NULL AND revoked_at IS NULL \
    AND (expires_at IS NULL OR expires_at > $2) AND (idle_expires_at IS NULL OR idle_expires_at > $2) \
    RETURNING token_hash, family_id, user_id, client_id, scope, audience, created_at, expires_at, idle_expires_at";

/// Binds a user's columns in `INSERT_USER`'s order.
pub(crate) fn bind_user<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    user: &portcullis_core::user::UserRecord,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<bool>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let row = UserRow::from_record(user);
    query
        .bind(row.id)
        .bind(row.connection)
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
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(row.last_login)
        .bind(row.last_ip)
        .bind(row.logins_count)
        .bind(row.last_password_reset)
        .bind(row.version)
}

pub(crate) fn bind_refresh<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    t: &portcullis_core::refresh::RefreshTokenRecord,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(t.token_hash.clone())
        .bind(t.family_id.clone())
        .bind(t.user_id.clone())
        .bind(t.client_id.clone())
        .bind(t.scope.clone())
        .bind(t.audience.clone())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.idle_expires_at)
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RefreshRow {
    pub token_hash: String,
    pub family_id: String,
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    pub audience: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub idle_expires_at: Option<i64>,
}

impl RefreshRow {
    pub(crate) fn into_record(self) -> portcullis_core::refresh::RefreshTokenRecord {
        portcullis_core::refresh::RefreshTokenRecord {
            token_hash: self.token_hash,
            family_id: self.family_id,
            user_id: self.user_id,
            client_id: self.client_id,
            scope: self.scope,
            audience: self.audience,
            created_at: self.created_at,
            expires_at: self.expires_at,
            idle_expires_at: self.idle_expires_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AttemptKeyRow {
    pub connection: String,
    pub identifier: String,
    pub ip: String,
}

pub(crate) const INSERT_LOG: &str = "INSERT INTO logs (log_id, date, log_type, description, client_id, \
    client_name, ip, user_agent, user_id, user_name, connection, details) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// Binds a log event's columns, in `INSERT_LOG`'s order, to a query of either dialect.
pub(crate) fn bind_log<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    event: &LogEvent,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(event.log_id.clone())
        .bind(event.date)
        .bind(event.log_type.clone())
        .bind(event.description.clone())
        .bind(event.client_id.clone())
        .bind(event.client_name.clone())
        .bind(event.ip.clone())
        .bind(event.user_agent.clone())
        .bind(event.user_id.clone())
        .bind(event.user_name.clone())
        .bind(event.connection.clone())
        .bind(Value::Object(event.details.clone()).to_string())
}

macro_rules! select_log {
    ($clause:literal) => {
        concat!(
            "SELECT log_id, date, log_type, description, client_id, client_name, ip, user_agent, ",
            "user_id, user_name, connection, details FROM logs",
            $clause
        )
    };
}

pub(crate) const SELECT_LOG: &str = select_log!("");
pub(crate) const LOG_BY_ID: &str = select_log!(" WHERE log_id = $1");

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LogRow {
    pub log_id: String,
    pub date: i64,
    pub log_type: String,
    pub description: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub connection: Option<String>,
    pub details: String,
}

impl LogRow {
    pub(crate) fn into_event(self) -> Result<LogEvent, StoreError> {
        Ok(LogEvent {
            details: parse_object(&self.details)?,
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
pub(crate) fn log_filter(query: &LogQuery) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    for (column, value) in [("log_type", &query.log_type), ("user_id", &query.user_id)] {
        if let Some(v) = value {
            binds.push(v.clone());
            conditions.push(format!("{column} = ${}", binds.len()));
        }
    }
    if let Some(from) = &query.from {
        binds.push(from.clone());
        conditions.push(format!("log_id > ${}", binds.len()));
    }
    if conditions.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), binds)
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    pub kid: String,
    pub generation: i64,
    pub private_key_pem: String,
    pub created_at: i64,
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

#[derive(Debug, sqlx::FromRow)]
pub struct ActionRow {
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
    pub fn into_record(self) -> portcullis_core::actions::ActionRecord {
        let object = |text: Option<&str>| match text.map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(map))) => map,
            _ => Map::new(),
        };
        portcullis_core::actions::ActionRecord {
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

/// The `SELECT` (id, value) and the conditional `UPDATE` ($1 id, $2 old, $3 new) of a column
/// sealed at rest.
pub(crate) fn sealed_column_sql(
    column: portcullis_core::store::SealedColumn,
) -> (&'static str, &'static str) {
    use portcullis_core::store::SealedColumn;
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

/// Revokes the live sessions of user $1 at $2.
pub(crate) const END_USER_SESSIONS: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
/// Revokes the live refresh tokens of user $1 at $2.
pub(crate) const END_USER_REFRESH_TOKENS: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
