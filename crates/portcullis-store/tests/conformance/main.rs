//! One contract, run on every store: each case is a named test on SQLite (a temp file), on
//! PostgreSQL (a fresh schema on 127.0.0.1:5432) and on the in-memory store the flows' unit
//! tests use. PostgreSQL being absent fails the run.
//! The cases live by aggregate, one module each.

mod attempts;
mod sessions;
mod tenant;
mod tickets_and_mfa;
mod users;

use std::sync::Arc;

use portcullis_core::store::Store;
use portcullis_core::user::UserRecord;
use portcullis_store::{PgStore, SqliteStore};
use serde_json::json;

/// What every case module uses.
mod prelude {
    pub(crate) use std::sync::Arc;

    pub(crate) use portcullis_core::store::prelude::*;
    pub(crate) use portcullis_core::store::{
        RetiredPassword, SigningKeyRecord, StoreError, UniqueField, UserQuery,
    };
    pub(crate) use portcullis_core::user::UserRecord;
    pub(crate) use serde_json::json;

    pub(crate) use crate::{unique_suffix, user};
}

/// The in-memory store of core's flow tests, held to the same contract.
fn memory() -> Arc<dyn Store> {
    Arc::new(portcullis_core::store::memory::MemoryStore::new())
}

pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub(crate) fn unique_suffix() -> String {
    use rand::RngExt;
    format!("{:016x}", rand::rng().random::<u64>())
}

async fn sqlite() -> Arc<dyn Store> {
    let dir = std::env::temp_dir().join(format!("portcullis-conformance-{}", unique_suffix()));
    Arc::new(SqliteStore::open(&dir).await.expect("sqlite store"))
}

async fn postgres() -> Arc<dyn Store> {
    let url = std::env::var("PORTCULLIS_TEST_DATABASE_URL").unwrap_or_else(|_| PG_URL.to_owned());
    let schema = format!("conformance_{}", unique_suffix());
    Arc::new(
        PgStore::connect(&url, Some(&schema))
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (user postgres, database test) is required"),
    )
}

pub(crate) fn user(id: &str, connection: &str, email: &str, username: Option<&str>) -> UserRecord {
    UserRecord {
        id: id.to_owned(),
        connection: connection.to_owned(),
        email: email.to_owned(),
        email_verified: false,
        username: username.map(str::to_owned),
        password_hash: "$argon2id$dummy".to_owned(),
        given_name: None,
        family_name: Some("Doe".to_owned()),
        name: email.to_owned(),
        nickname: "jane".to_owned(),
        picture: "https://example.com/p.png".to_owned(),
        user_metadata: json!({"color": "blue"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        app_metadata: Default::default(),
        blocked: None,
        created_at: 1_000,
        updated_at: 1_000,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        last_password_reset: None,
        version: 1,
    }
}

macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $case() { crate::$module::$case(crate::sqlite().await).await; })*
        }
        mod on_postgres {
            $(#[tokio::test] async fn $case() { crate::$module::$case(crate::postgres().await).await; })*
        }
        mod in_memory {
            $(#[tokio::test] async fn $case() { crate::$module::$case(crate::memory()).await; })*
        }
    };
}

conformance!(
    users::round_trips_a_user,
    users::users_are_inserted_in_batches_all_or_none,
    users::email_is_unique_per_connection,
    users::username_is_unique_per_connection,
    users::concurrent_inserts_of_one_email_make_one_user,
    users::replace_checks_the_version,
    users::password_history_is_kept_pruned_and_deleted_with_the_user,
    users::logins_are_counted_atomically,
    users::lists_pages_and_deletes,
    users::a_replace_may_end_the_users_sessions_and_refresh_tokens,
    attempts::login_failures_block_exactly_at_the_limit,
    attempts::login_attempts_are_reserved_before_the_work,
    attempts::throttle_buckets_admit_exactly_max_attempts,
    tickets_and_mfa::tickets_are_single_use_and_expire,
    tickets_and_mfa::mfa_tokens_and_authenticators,
    sessions::refresh_tokens_rotate_once_and_families_revoke,
    sessions::auth_codes_work_once_and_sessions_end,
    tenant::actions_and_their_bindings,
    tenant::settings_are_upserted,
    tenant::logs_are_listed_filtered_and_paged,
    tenant::signing_key_generations_are_unique,
);

#[test]
fn both_dialects_have_the_same_migrations() {
    let names = |dir: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .expect("migrations folder")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
    // Same tables and columns, in the same order.
    let shape = |dir: &str| -> Vec<String> {
        names(dir)
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(format!(
                    "{}/migrations/{dir}/{f}",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .expect("read")
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(shape("sqlite"), shape("postgres"));
}
