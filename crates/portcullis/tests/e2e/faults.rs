//! Faults: a server killed with SIGKILL in the middle of a burst loses nothing it
//! acknowledged and leaves nothing half-written, on SQLite and on PostgreSQL; a database that
//! goes away turns answers into clean 503s, and the server recovers by itself when it returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portcullis_store::PgStore;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::helpers::{
    DB, PG_URL, REALM, STRONG, free_port, start_server, tenant_toml, unique, wait_up,
};

const CHANGED: &str = "Changed-Password-7";

/// Nothing here is about attack protection: loopback is not throttled.
const LOOPBACK_NOT_THROTTLED: &str =
    "[attack_protection.suspicious_ip_throttling]\nallowlist = [\"127.0.0.1\"]\n";

/// A server configured in its own folder, on SQLite or on a PostgreSQL `database_url`.
struct Server {
    base: String,
    config: std::path::PathBuf,
    http: reqwest::Client,
}

impl Server {
    fn configure(database_url: Option<&str>) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(unique("portcullis-faults-"));
        std::fs::create_dir_all(&dir).expect("dir");
        let top = database_url
            .map(|url| format!("database_url = \"{url}\""))
            .unwrap_or_default();
        let config = dir.join("portcullis.toml");
        std::fs::write(
            &config,
            format!(
                "{}\n{LOOPBACK_NOT_THROTTLED}",
                tenant_toml(port, &dir.join("data").display().to_string(), &top)
            ),
        )
        .expect("config");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            config,
            http: reqwest::Client::new(),
        }
    }

    async fn start(&self) -> std::process::Child {
        let child = start_server(&self.config);
        wait_up(&self.http, &self.base).await;
        child
    }

    async fn sign_up(&self, email: &str) -> Result<StatusCode, reqwest::Error> {
        self.http
            .post(format!("{}/dbconnections/signup", self.base))
            .json(&json!({"client_id": "my-spa", "connection": DB, "email": email, "password": STRONG}))
            .send()
            .await
            .map(|r| r.status())
    }

    async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(&[
                ("grant_type", REALM),
                ("client_id", "my-spa"),
                ("realm", DB),
                ("username", email),
                ("password", password),
            ])
            .send()
            .await
            .expect("login");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn management_token(&self) -> String {
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "backend"),
                ("client_secret", "a-long-random-secret"),
                ("audience", &format!("{}/api/v2/", self.base)),
            ])
            .send()
            .await
            .expect("token");
        let body: Value = response.json().await.expect("json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    async fn user_id(&self, token: &str, email: &str) -> Option<String> {
        let users: Value = self
            .http
            .get(format!("{}/api/v2/users-by-email", self.base))
            .query(&[("email", email)])
            .bearer_auth(token)
            .send()
            .await
            .expect("users-by-email")
            .json()
            .await
            .expect("json");
        users[0]["user_id"].as_str().map(str::to_owned)
    }
}

/// Sign-ups and password changes in flight when the server is killed with SIGKILL.
async fn kill_during_burst(database_url: Option<&str>) {
    let server = Server::configure(database_url);
    let mut process = server.start().await;
    let token = server.management_token().await;
    // Users whose passwords the burst changes.
    let mut existing = Vec::new();
    for i in 0..8 {
        let email = format!("{}-{i}@example.com", unique("crash-old"));
        assert_eq!(
            server.sign_up(&email).await.expect("sign-up"),
            StatusCode::OK
        );
        let id = server.user_id(&token, &email).await.expect("user");
        existing.push((email, id));
    }

    let server = Arc::new(server);
    let answered = Arc::new(AtomicUsize::new(0));
    let new_emails: Vec<String> = (0..24)
        .map(|i| format!("{}-{i}@example.com", unique("crash-new")))
        .collect();
    let sign_ups: Vec<_> = new_emails
        .iter()
        .map(|email| {
            let (server, email, done) = (server.clone(), email.clone(), answered.clone());
            tokio::spawn(async move {
                let answer = server.sign_up(&email).await;
                done.fetch_add(1, Ordering::SeqCst);
                answer
            })
        })
        .collect();
    let changes: Vec<_> = existing
        .iter()
        .map(|(_, id)| {
            let (server, token, id) = (server.clone(), token.clone(), id.clone());
            let done = answered.clone();
            tokio::spawn(async move {
                let answer = server
                    .http
                    .patch(format!("{}/api/v2/users/{}", server.base, urlencode(&id)))
                    .bearer_auth(token)
                    .json(&json!({"password": CHANGED, "connection": DB}))
                    .send()
                    .await
                    .map(|r| r.status());
                done.fetch_add(1, Ordering::SeqCst);
                answer
            })
        })
        .collect();
    // Every request costs a hash on one of two hashing threads: some are answered, others
    // are still queued or mid-transaction when the process dies.
    // Killed once a few are answered, whatever the machine's speed.
    while answered.load(Ordering::SeqCst) < 4 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    process.kill().expect("SIGKILL");
    process.wait().expect("wait");

    let mut signed_up = Vec::new();
    for (email, request) in new_emails.iter().zip(sign_ups) {
        match request.await.expect("join") {
            Ok(StatusCode::OK) => signed_up.push((email.clone(), true)),
            Ok(other) => panic!("sign-up answered {other}"),
            Err(_) => signed_up.push((email.clone(), false)),
        }
    }
    let mut changed = Vec::new();
    for ((email, _), request) in existing.iter().zip(changes) {
        match request.await.expect("join") {
            Ok(StatusCode::OK) => changed.push((email.clone(), true)),
            Ok(other) => panic!("password change answered {other}"),
            Err(_) => changed.push((email.clone(), false)),
        }
    }
    let acknowledged =
        signed_up.iter().filter(|(_, a)| *a).count() + changed.iter().filter(|(_, a)| *a).count();
    let lost = signed_up.len() + changed.len() - acknowledged;
    eprintln!("killed with {acknowledged} writes acknowledged and {lost} in flight");
    assert!(acknowledged > 0, "nothing finished before the kill");
    assert!(lost > 0, "nothing was in flight at the kill");

    let mut process = server.start().await;
    let token = server.management_token().await;
    for (email, acknowledged) in &signed_up {
        let exists = server.user_id(&token, email).await.is_some();
        if *acknowledged {
            assert!(exists, "acknowledged sign-up {email} lost");
        }
        if exists {
            // Whole: its identity, profile and password hash are there together.
            assert_eq!(
                server.login(email, STRONG).await.0,
                StatusCode::OK,
                "{email}"
            );
        }
    }
    for (email, acknowledged) in &changed {
        let with_new = server.login(email, CHANGED).await.0 == StatusCode::OK;
        let with_old = server.login(email, STRONG).await.0 == StatusCode::OK;
        assert!(with_new != with_old, "{email}: exactly one password works");
        if *acknowledged {
            assert!(with_new, "acknowledged password change of {email} lost");
        }
    }
    // And no user exists that nobody asked for.
    let all: Value = server
        .http
        .get(format!(
            "{}/api/v2/users?per_page=100&include_totals=true",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let known: Vec<&str> = signed_up
        .iter()
        .map(|(e, _)| e.as_str())
        .chain(existing.iter().map(|(e, _)| e.as_str()))
        .collect();
    for user in all["users"].as_array().expect("users") {
        let email = user["email"].as_str().expect("email");
        assert!(known.contains(&email), "{email} appeared");
        assert_eq!(user["identities"][0]["connection"], DB, "{user}");
    }
    let _ = process.kill();
    let _ = process.wait();
}

fn urlencode(id: &str) -> String {
    id.replace('|', "%7C")
}

#[tokio::test]
async fn a_killed_server_keeps_every_acknowledged_write_on_sqlite() {
    kill_during_burst(None).await;
}

#[tokio::test]
async fn a_killed_server_keeps_every_acknowledged_write_on_postgres() {
    let schema = unique("faults_");
    drop(
        PgStore::connect(PG_URL, Some(&schema))
            .await
            .expect("PostgreSQL"),
    );
    kill_during_burst(Some(&format!("{PG_URL}?options[search_path]={schema}"))).await;
}

/// A TCP relay in front of PostgreSQL that can be cut (every connection dropped, new ones
/// refused) and restored on the same port: the database restarting or unreachable.
struct Relay {
    port: u16,
    running: Mutex<Option<JoinSet<()>>>,
}

impl Relay {
    async fn start() -> Arc<Self> {
        let relay = Arc::new(Self {
            port: free_port(),
            running: Mutex::new(None),
        });
        relay.restore().await;
        relay
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("relay port");
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        *self.running.lock().await = Some(tasks);
    }

    /// Drops the listener and every relayed connection (aborting the accept task drops the
    /// connections' `JoinSet`, which aborts them).
    async fn cut(&self) {
        if let Some(mut tasks) = self.running.lock().await.take() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
    }
}

#[tokio::test]
async fn an_unreachable_database_answers_503_and_the_server_recovers_by_itself() {
    let schema = unique("faults_");
    drop(
        PgStore::connect(PG_URL, Some(&schema))
            .await
            .expect("PostgreSQL"),
    );
    let relay = Relay::start().await;
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/test?options[search_path]={schema}",
        relay.port
    );
    let server = Server::configure(Some(&url));
    let mut process = server.start().await;
    let email = format!("{}@example.com", unique("outage"));
    assert_eq!(
        server.sign_up(&email).await.expect("sign-up"),
        StatusCode::OK
    );
    assert_eq!(server.login(&email, STRONG).await.0, StatusCode::OK);

    relay.cut().await;
    let started = Instant::now();
    let (status, body) = server.login(&email, STRONG).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].is_string(), "Auth0's error format: {body}");
    assert!(started.elapsed() < Duration::from_secs(15), "no hanging");
    let other = format!("{}@example.com", unique("outage-new"));
    assert_eq!(
        server.sign_up(&other).await.expect("sign-up"),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let ready = server
        .http
        .get(format!("{}/health/ready", server.base))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Liveness does not depend on the database: the process is fine.
    let health = server
        .http
        .get(format!("{}/health", server.base))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), StatusCode::OK);

    relay.restore().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = server.login(&email, STRONG).await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The refused sign-up stored nothing; it can be made now.
    assert_eq!(
        server.sign_up(&other).await.expect("sign-up"),
        StatusCode::OK
    );
    let _ = process.kill();
    let _ = process.wait();
}
