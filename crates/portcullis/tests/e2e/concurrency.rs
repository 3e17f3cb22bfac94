//! Exactness under concurrency: many sign-ups of one e-mail make exactly one user, on SQLite
//! and on PostgreSQL shared by two server processes.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, DB, PG_URL, STRONG, TestApp, tenant_toml, unique};

async fn race(bases: &[String], email: &str, attempts: usize) -> (usize, usize) {
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..attempts {
        let url = format!("{}/dbconnections/signup", bases[i % bases.len()]);
        let http = http.clone();
        let body =
            json!({"client_id": "my-spa", "connection": DB, "email": email, "password": STRONG});
        tasks.push(tokio::spawn(async move {
            let response = http.post(url).json(&body).send().await.expect("send");
            (
                response.status(),
                response.json::<serde_json::Value>().await.expect("json"),
            )
        }));
    }
    let (mut created, mut exists) = (0, 0);
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match (status, body["code"].as_str()) {
            (StatusCode::OK, _) => created += 1,
            (StatusCode::BAD_REQUEST, Some("user_exists")) => exists += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    (created, exists)
}

#[tokio::test]
async fn fifty_simultaneous_sign_ups_make_one_user_on_sqlite() {
    let app = TestApp::spawn_on(Backend::Sqlite).await;
    let email = format!("{}@example.com", unique("race-"));
    assert_eq!(
        race(std::slice::from_ref(&app.base), &email, 50).await,
        (1, 49)
    );
    assert_eq!(app.user_count().await, 1);
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_until_up(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not start");
}

#[tokio::test]
async fn fifty_simultaneous_sign_ups_across_two_postgres_nodes_make_one_user() {
    let schema = unique("nodes_");
    // Create the schema (and migrate) first, so both nodes share it.
    let store = portcullis_store::PgStore::connect(PG_URL, Some(&schema))
        .await
        .expect("PostgreSQL is required");
    let url = format!("{PG_URL}?options[search_path]={schema}");
    let port_a = free_port();
    let port_b = free_port();
    let issuer = format!("http://127.0.0.1:{port_a}/");
    let dir = std::env::temp_dir().join(unique("portcullis-nodes-"));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut servers = Vec::new();
    for port in [port_a, port_b] {
        // Both nodes present the same issuer, as nodes behind one load balancer do.
        let extra = format!("database_url = \"{url}\"\nissuer = \"{issuer}\"");
        let toml = tenant_toml(
            port,
            &dir.join(port.to_string()).display().to_string(),
            &extra,
        )
        .replace(
            &format!("http://127.0.0.1:{port}/api/v2/"),
            &format!("{issuer}api/v2/"),
        );
        let path = dir.join(format!("{port}.toml"));
        std::fs::write(&path, toml).expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["serve", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn");
        servers.push(Server(child));
    }
    let bases = [
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    ];
    for base in &bases {
        wait_until_up(base).await;
    }
    let email = format!("{}@example.com", unique("race-"));
    assert_eq!(race(&bases, &email, 50).await, (1, 49));
    let query = portcullis_core::store::UserQuery {
        email: Some(email),
        limit: 10,
        ..Default::default()
    };
    use portcullis_core::store::Store;
    assert_eq!(store.list_users(&query).await.expect("list").1, 1);

    // A token issued by one node is accepted by the other: one key ring in the database.
    let token = reqwest::Client::new()
        .post(format!("{}/oauth/token", bases[0]))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "backend"),
            ("client_secret", "a-long-random-secret"),
            ("audience", &format!("{issuer}api/v2/")),
        ])
        .send()
        .await
        .expect("send")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let status = reqwest::Client::new()
        .get(format!("{}/api/v2/users", bases[1]))
        .bearer_auth(token["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(status, StatusCode::OK);
}
