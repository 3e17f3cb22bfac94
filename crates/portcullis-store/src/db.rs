//! The two dialects behind one set of calls. The SQL text is shared (both accept `$n`
//! placeholders), values are bound as [`Arg`]s whatever the dialect, and rows are decoded by the
//! same `FromRow` types; only the pool (or transaction) underneath differs.

use portcullis_core::store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::query::{Query, QueryAs};
use sqlx::sqlite::SqliteRow;
use sqlx::{Database, Encode, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Type};

use crate::classify;

/// A value bound to a `$n` placeholder. Each kind carries its own `NULL`, so PostgreSQL is
/// told the parameter's type even when there is no value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(Some(value.to_owned()))
    }
}
impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::Text(Some(value.clone()))
    }
}
impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(Some(value))
    }
}
impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Arg::Text(value.map(str::to_owned))
    }
}
impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        Arg::Text(value)
    }
}
impl From<&Option<String>> for Arg {
    fn from(value: &Option<String>) -> Self {
        Arg::Text(value.clone())
    }
}
impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(Some(value))
    }
}
impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Arg::Int(value)
    }
}
impl From<u32> for Arg {
    fn from(value: u32) -> Self {
        Arg::Int(Some(i64::from(value)))
    }
}
impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Arg::Bool(Some(value))
    }
}
impl From<Option<bool>> for Arg {
    fn from(value: Option<bool>) -> Self {
        Arg::Bool(value)
    }
}

/// A row type both dialects decode.
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

fn bind<'q, DB: Database>(
    mut query: Query<'q, DB, DB::Arguments>,
    args: Vec<Arg>,
) -> Query<'q, DB, DB::Arguments>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Text(value) => query.bind(value),
            Arg::Int(value) => query.bind(value),
            Arg::Bool(value) => query.bind(value),
        };
    }
    query
}

fn bind_as<'q, DB: Database, T>(
    mut query: QueryAs<'q, DB, T, DB::Arguments>,
    args: Vec<Arg>,
) -> QueryAs<'q, DB, T, DB::Arguments>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Text(value) => query.bind(value),
            Arg::Int(value) => query.bind(value),
            Arg::Bool(value) => query.bind(value),
        };
    }
    query
}

/// A SQL text: a literal, or one composed at run time from literals and placeholders only
/// (never from a value).
pub(crate) enum Sql {
    Literal(&'static str),
    Composed(String),
}

impl From<&'static str> for Sql {
    fn from(sql: &'static str) -> Self {
        Sql::Literal(sql)
    }
}
impl From<String> for Sql {
    fn from(sql: String) -> Self {
        Sql::Composed(sql)
    }
}

impl sqlx::SqlSafeStr for Sql {
    fn into_sql_str(self) -> sqlx::SqlStr {
        match self {
            Sql::Literal(sql) => sql.into_sql_str(),
            // Composed only from the store's own literals and `$n` placeholders.
            Sql::Composed(sql) => sqlx::AssertSqlSafe(sql).into_sql_str(),
        }
    }
}

/// The pool of either dialect.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction of either dialect; dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Pool {
    /// Runs a statement; how many rows it changed.
    pub async fn execute(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64, StoreError> {
        let sql = sql.into();
        match self {
            Pool::Sqlite(pool) => bind(sqlx::query(sql), args)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            Pool::Postgres(pool) => bind(sqlx::query(sql), args)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(classify)
    }

    pub async fn fetch_optional<T: Row>(
        &self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Option<T>, StoreError> {
        let sql = sql.into();
        match self {
            Pool::Sqlite(pool) => {
                bind_as(sqlx::query_as(sql), args)
                    .fetch_optional(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                bind_as(sqlx::query_as(sql), args)
                    .fetch_optional(pool)
                    .await
            }
        }
        .map_err(classify)
    }

    pub async fn fetch_one<T: Row>(
        &self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<T, StoreError> {
        let sql = sql.into();
        match self {
            Pool::Sqlite(pool) => bind_as(sqlx::query_as(sql), args).fetch_one(pool).await,
            Pool::Postgres(pool) => bind_as(sqlx::query_as(sql), args).fetch_one(pool).await,
        }
        .map_err(classify)
    }

    pub async fn fetch_all<T: Row>(
        &self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, StoreError> {
        let sql = sql.into();
        match self {
            Pool::Sqlite(pool) => bind_as(sqlx::query_as(sql), args).fetch_all(pool).await,
            Pool::Postgres(pool) => bind_as(sqlx::query_as(sql), args).fetch_all(pool).await,
        }
        .map_err(classify)
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        match self {
            Pool::Sqlite(pool) => pool.begin().await.map(Tx::Sqlite),
            Pool::Postgres(pool) => pool.begin().await.map(Tx::Postgres),
        }
        .map_err(classify)
    }

    /// Open and idle connections.
    pub fn usage(&self) -> (u32, u32) {
        match self {
            Pool::Sqlite(pool) => (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(0)),
            Pool::Postgres(pool) => (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(0)),
        }
    }
}

impl Tx {
    pub async fn execute(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<u64, StoreError> {
        let sql = sql.into();
        match self {
            Tx::Sqlite(tx) => bind(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
            Tx::Postgres(tx) => bind(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(classify)
    }

    pub async fn fetch_optional<T: Row>(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Option<T>, StoreError> {
        let sql = sql.into();
        match self {
            Tx::Sqlite(tx) => {
                bind_as(sqlx::query_as(sql), args)
                    .fetch_optional(&mut **tx)
                    .await
            }
            Tx::Postgres(tx) => {
                bind_as(sqlx::query_as(sql), args)
                    .fetch_optional(&mut **tx)
                    .await
            }
        }
        .map_err(classify)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .map_err(classify)
    }
}
