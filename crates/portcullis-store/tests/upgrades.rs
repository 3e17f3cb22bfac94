//! Schema upgrades keep data: a database holding a user at the first schema is upgraded by
//! opening it (what `portcullis migrate` and every start do) through every later migration,
//! on SQLite and on PostgreSQL, and the user reads back whole. No migration drops anything.

use std::borrow::Cow;

use portcullis_core::store::Store;
use portcullis_store::{PgStore, SqliteStore};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The user as the first schema stores it.
const INSERT_V1_USER: &str = "INSERT INTO users (id, connection, email, email_verified, username, \
    password_hash, given_name, family_name, name, nickname, picture, user_metadata, app_metadata, \
    blocked, created_at, updated_at, last_login, last_ip, logins_count, last_password_reset, version) \
    VALUES ('0123456789abcdef01234567', 'db', 'old@example.com', TRUE, 'old', '$argon2id$v1-hash', \
    'Ada', NULL, 'Ada', 'old', 'https://example.com/p.png', '{\"theme\":\"dark\"}', '{\"plan\":\"pro\"}', \
    NULL, 1000, 2000, 3000, '192.0.2.1', 7, NULL, 3)";

async fn check_user(store: &dyn Store) {
    let user = store
        .user_by_email("db", "old@example.com")
        .await
        .expect("read")
        .expect("the user survived the upgrade");
    assert_eq!(user.id, "0123456789abcdef01234567");
    assert_eq!(user.username.as_deref(), Some("old"));
    assert_eq!(user.password_hash, "$argon2id$v1-hash");
    assert_eq!(user.user_metadata["theme"], "dark");
    assert_eq!(user.app_metadata["plan"], "pro");
    assert_eq!((user.logins_count, user.version), (7, 3));
    assert_eq!(user.last_ip.as_deref(), Some("192.0.2.1"));
}

#[tokio::test]
async fn a_first_schema_sqlite_database_upgrades_with_its_data() {
    let dir = std::env::temp_dir().join(format!("portcullis-upgrade-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("portcullis.sqlite3");
    let _ = std::fs::remove_file(&file);
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .expect("sqlite");
        let mut first = sqlx::migrate!("migrations/sqlite");
        first.migrations = Cow::Owned(first.migrations[..1].to_vec());
        first.run(&pool).await.expect("first schema");
        sqlx::query(INSERT_V1_USER)
            .execute(&pool)
            .await
            .expect("insert");
        pool.close().await;
    }
    let store = SqliteStore::open(&dir).await.expect("upgrade");
    check_user(&store).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_first_schema_postgres_database_upgrades_with_its_data() {
    let schema = format!("upgrade_{}", std::process::id());
    let admin = sqlx::PgPool::connect(PG_URL).await.expect("PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&admin)
    .await
    .expect("drop");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("schema");
    {
        let pool = sqlx::PgPool::connect(&format!("{PG_URL}?options[search_path]={schema}"))
            .await
            .expect("PostgreSQL");
        let mut first = sqlx::migrate!("migrations/postgres");
        first.migrations = Cow::Owned(first.migrations[..1].to_vec());
        first.run(&pool).await.expect("first schema");
        sqlx::query(INSERT_V1_USER)
            .execute(&pool)
            .await
            .expect("insert");
        pool.close().await;
    }
    let store = PgStore::connect(PG_URL, Some(&schema))
        .await
        .expect("upgrade");
    check_user(&store).await;
}

#[test]
fn no_migration_drops_anything() {
    for dialect in ["sqlite", "postgres"] {
        let dir = format!("{}/migrations/{dialect}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(&dir).expect("migrations") {
            let path = entry.expect("entry").path();
            let sql = std::fs::read_to_string(&path).expect("read").to_uppercase();
            for forbidden in ["DROP TABLE", "DROP COLUMN", "DELETE FROM", "TRUNCATE"] {
                assert!(
                    !sql.contains(forbidden),
                    "{} contains {forbidden}: upgrades must never lose data",
                    path.display()
                );
            }
        }
    }
}
