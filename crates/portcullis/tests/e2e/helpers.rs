//! `TestApp::spawn()`: a server on a free port with its own store (a temp SQLite folder or a
//! fresh PostgreSQL schema), a settable clock, and typed request helpers.

use std::net::TcpListener;
use std::sync::Arc;

use base64::Engine;
use portcullis::Application;
use portcullis_core::Tenant;
use portcullis_core::clock::{Clock, ManualClock, SystemClock};
use portcullis_core::config::{Config, FileConfig};
use portcullis_core::store::Store;
use portcullis_store::{PgStore, SqliteStore};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const STRONG: &str = "Correct-Horse-9";
pub const DB: &str = "Username-Password-Authentication";
pub const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn unique(prefix: &str) -> String {
    use rand::RngExt;
    format!(
        "{prefix}{:012x}",
        rand::rng().random::<u64>() & 0xffff_ffff_ffff
    )
}

/// The tenant every end-to-end test runs against; `{port}` and `{data}` are filled in.
pub fn tenant_toml(port: u16, data: &str, extra: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:{port}"
data_dir = "{data}"
{extra}

[tenant]
default_directory = "Username-Password-Authentication"
allowed_logout_urls = ["http://localhost:9090/bye"]

[[clients]]
name = "My SPA"
client_id = "my-spa"
callbacks = ["http://localhost:8080/callback"]
web_origins = ["http://localhost:8080"]
grant_types = ["password", "http://auth0.com/oauth/grant-type/password-realm", "authorization_code", "refresh_token"]
allowed_logout_urls = ["http://localhost:8080/"]

[[clients]]
name = "Backend"
client_id = "backend"
client_secret = "a-long-random-secret"
grant_types = ["client_credentials", "password", "http://auth0.com/oauth/grant-type/password-realm"]

[[clients]]
name = "Reader"
client_id = "reader"
client_secret = "another-long-secret"
grant_types = ["client_credentials"]

[[clients]]
name = "Rotating"
client_id = "rotating"
grant_types = ["http://auth0.com/oauth/grant-type/password-realm", "refresh_token"]
callbacks = ["http://localhost:8080/callback"]
refresh_token = {{ rotation_type = "rotating", expiration_type = "expiring", token_lifetime = 3600, idle_token_lifetime = 600 }}

[[clients]]
name = "MFA App"
client_id = "mfa-app"
client_secret = "mfa-app-long-secret"
grant_types = ["http://auth0.com/oauth/grant-type/password-realm", "http://auth0.com/oauth/grant-type/mfa-otp", "http://auth0.com/oauth/grant-type/mfa-recovery-code"]

[[clients]]
name = "Embedded Login"
client_id = "embedded"
client_secret = "embedded-login-long-secret"
app_type = "regular_web"
callbacks = ["http://localhost:8080/callback"]
allowed_origins = ["http://localhost:8080"]
cross_origin_authentication = true
grant_types = ["authorization_code"]

[[clients]]
name = "Embedded Login With Verification Page"
client_id = "embedded-loc"
client_secret = "embedded-loc-long-secret"
app_type = "regular_web"
callbacks = ["http://localhost:8080/callback"]
allowed_origins = ["http://localhost:8080"]
cross_origin_authentication = true
cross_origin_loc = "http://localhost:8080/co-verify"
grant_types = ["authorization_code"]

[[clients]]
name = "Legacy SPA"
client_id = "legacy"
callbacks = ["http://localhost:8080/callback"]
grant_types = ["implicit"]

[[clients]]
name = "Ungranted"
client_id = "ungranted"
client_secret = "yet-another-long-secret"
grant_types = ["client_credentials"]

[[client_grants]]
client_id = "backend"
audience = "http://127.0.0.1:{port}/api/v2/"
scope = ["read:users", "create:users", "update:users", "delete:users", "read:logs", "read:anomaly_blocks", "delete:anomaly_blocks", "create:user_tickets", "read:guardian_factors", "read:mfa_policies", "update:guardian_factors", "update:mfa_policies", "create:guardian_enrollment_tickets", "read:actions", "create:actions", "update:actions", "delete:actions"]

[[client_grants]]
client_id = "reader"
audience = "http://127.0.0.1:{port}/api/v2/"
scope = ["read:users"]

[[clients]]
name = "Metadata Editor"
client_id = "metadata-editor"
client_secret = "metadata-editor-long-secret"
grant_types = ["client_credentials"]

[[client_grants]]
client_id = "metadata-editor"
audience = "http://127.0.0.1:{port}/api/v2/"
scope = ["read:users", "update:users_app_metadata"]

[[resource_servers]]
identifier = "https://api.example.com"
token_lifetime = 7200

[[connections]]
name = "Username-Password-Authentication"
[connections.options]
passwordPolicy = "good"

[[connections]]
name = "with-username"
[connections.options]
requires_username = true
validation = {{ username = {{ min = 3, max = 15 }} }}

[[connections]]
name = "closed"
[connections.options]
disable_signup = true

[[connections]]
name = "policy-none"
[connections.options]
passwordPolicy = "none"

[[connections]]
name = "policy-low"
[connections.options]
passwordPolicy = "low"

[[connections]]
name = "policy-fair"
[connections.options]
passwordPolicy = "fair"

[[connections]]
name = "policy-excellent"
[connections.options]
passwordPolicy = "excellent"

[[connections]]
name = "spa-excluded"
enabled_clients = ["backend"]

[[connections]]
name = "spa-only"
enabled_clients = ["my-spa"]

[[connections]]
name = "unguarded"
[connections.options]
brute_force_protection = false

[[connections]]
name = "rules"
[connections.options]
passwordPolicy = "low"
password_dictionary = {{ enable = true, dictionary = ["Portcullis", "drawbridge"] }}
password_no_personal_info = {{ enable = true }}
password_history = {{ enable = true, size = 3 }}
"#
    )
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub tenant: Tenant,
    pub store: Arc<dyn Store>,
    pub data_dir: std::path::PathBuf,
}

pub async fn open_backend(backend: Backend, data_dir: &std::path::Path) -> Arc<dyn Store> {
    match backend {
        Backend::Sqlite => Arc::new(SqliteStore::open(data_dir).await.expect("sqlite store")),
        Backend::Postgres => Arc::new(
            PgStore::connect(PG_URL, Some(&unique("e2e_")))
                .await
                .expect("PostgreSQL at 127.0.0.1:5432 (user postgres, database test) is required"),
        ),
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_on(Backend::Sqlite).await
    }

    pub async fn spawn_on(backend: Backend) -> Self {
        Self::spawn_with(backend, "").await
    }

    /// With `tail` appended to the tenant's TOML (e.g. an `[attack_protection…]` table).
    pub async fn spawn_with(backend: Backend, tail: &str) -> Self {
        Self::spawn_configured(backend, "", tail).await
    }

    /// With `keys` added to the `[tenant]` table and tables `tail` appended.
    pub async fn spawn_with_tenant_keys(backend: Backend, keys: &str, tail: &str) -> Self {
        Self::spawn_full(backend, "", keys, tail).await
    }

    /// With top-level keys `top` and tables `tail` added to the tenant's TOML.
    pub async fn spawn_configured(backend: Backend, top: &str, tail: &str) -> Self {
        Self::spawn_full(backend, top, "", tail).await
    }

    /// Behind a proxy that presents `issuer` (e.g. HTTPS terminated in front of the server).
    pub async fn spawn_behind_proxy(issuer: &str) -> Self {
        Self::spawn_full(Backend::Sqlite, &format!("issuer = \"{issuer}\""), "", "").await
    }

    async fn spawn_full(backend: Backend, top: &str, tenant_keys: &str, tail: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let data_dir = std::env::temp_dir().join(unique("portcullis-e2e-"));
        let mut toml = format!(
            "{}\n{tail}",
            tenant_toml(port, &data_dir.display().to_string(), top)
        )
        .replacen("[tenant]\n", &format!("[tenant]\n{tenant_keys}\n"), 1);
        if let Some(issuer) = top
            .strip_prefix("issuer = \"")
            .and_then(|rest| rest.strip_suffix('"'))
        {
            toml = toml.replace(
                &format!("http://127.0.0.1:{port}/api/v2/"),
                &format!("{issuer}api/v2/"),
            );
        }
        let config =
            Config::validate(FileConfig::from_toml_str(&toml).expect("toml")).expect("config");
        let clock = Arc::new(ManualClock::new(SystemClock.now_millis()));
        let store = open_backend(backend, &data_dir).await;
        let app = Application::build_with(listener, config, clock.clone(), store.clone())
            .await
            .expect("application");
        let tenant = app.tenant().clone();
        tokio::spawn(app.run());
        Self {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            clock,
            tenant,
            store,
            data_dir,
        }
    }

    pub fn issuer(&self) -> String {
        format!("{}/", self.base)
    }

    pub fn management_audience(&self) -> String {
        format!("{}/api/v2/", self.base)
    }

    async fn read(response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::read(
            self.http
                .post(format!("{}{path}", self.base))
                .json(body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        Self::read(
            self.http
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        Self::read(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        Self::read(request.send().await.expect("send")).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::read(request.send().await.expect("send")).await
    }

    pub async fn signup(
        &self,
        connection: &str,
        email: &str,
        password: &str,
    ) -> (StatusCode, Value) {
        self.post_json(
            "/dbconnections/signup",
            &json!({"client_id": "my-spa", "connection": connection, "email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        PasswordLogin::new(username, password)
            .send(&self.http, &self.base)
            .await
    }

    /// A Management API token of `client_id`.
    pub async fn management_token_for(&self, client_id: &str, secret: &str) -> String {
        let (status, body) = self
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("audience", &self.management_audience()),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn management_token(&self) -> String {
        self.management_token_for("backend", "a-long-random-secret")
            .await
    }

    /// The messages in the outbox whose subject contains `subject`, waiting up to 2 s for
    /// `at_least` of them.
    pub async fn mails(&self, subject: &str, at_least: usize) -> Vec<String> {
        // What the requests so far will mail has been mailed once their background work is
        // done: a check that no mail came cannot pass only because it is late.
        self.tenant.background.settled().await;
        for _ in 0..40 {
            let found: Vec<String> = self
                .outbox(0)
                .await
                .into_iter()
                .filter(|m| {
                    m.lines()
                        .any(|l| l.starts_with("Subject:") && l.contains(subject))
                })
                .collect();
            if found.len() >= at_least {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Vec::new()
    }

    /// The messages in the mail outbox (the default transport), oldest first, waiting up to 2 s
    /// for `at_least`.
    pub async fn outbox(&self, at_least: usize) -> Vec<String> {
        let dir = self.data_dir.join("outbox");
        self.tenant.background.settled().await;
        for _ in 0..40 {
            // File names sort in the order the mails were sent.
            let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                        .collect()
                })
                .unwrap_or_default();
            paths.sort();
            let mails: Vec<String> = paths
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect();
            if mails.len() >= at_least {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Vec::new()
    }

    pub async fn user_count(&self) -> u64 {
        let query = portcullis_core::store::UserQuery {
            limit: 1,
            with_total: true,
            ..Default::default()
        };
        let (_, total) = self.store.list_users(&query).await.expect("count");
        total.expect("counted")
    }
}

/// The claims of a JWT, unverified (verification is what the server under test does).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("json")
}

/// Starts `portcullis serve` with `config`; the caller stops it.
pub fn start_server(config: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn")
}

/// Waits until the server at `base` answers.
pub async fn wait_up(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not start");
}

/// A server process of the binary under test.
pub struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Several `portcullis serve` processes on one fresh PostgreSQL schema, presenting one issuer
/// as nodes behind a load balancer do.
pub struct Nodes {
    pub bases: Vec<String>,
    pub issuer: String,
    pub store: portcullis_store::PgStore,
    _processes: Vec<ServerProcess>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Nodes {
    pub async fn start(count: usize, tail: &str) -> Self {
        let schema = unique("nodes_");
        // Create the schema (and migrate) first, so the nodes share it.
        let store = PgStore::connect(PG_URL, Some(&schema))
            .await
            .expect("PostgreSQL is required");
        let url = format!("{PG_URL}?options[search_path]={schema}");
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
        let issuer = format!("http://127.0.0.1:{}/", ports[0]);
        let dir = std::env::temp_dir().join(unique("portcullis-nodes-"));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut processes = Vec::new();
        // Nodes on one database share their at-rest keys, as the README says.
        let at_rest_keys = portcullis_core::at_rest::AtRestKeys::new_key_line();
        for port in &ports {
            let extra = format!("database_url = \"{url}\"\nissuer = \"{issuer}\"");
            let toml = format!(
                "{}\n{tail}",
                tenant_toml(
                    *port,
                    &dir.join(port.to_string()).display().to_string(),
                    &extra
                )
            )
            .replace(
                &format!("http://127.0.0.1:{port}/api/v2/"),
                &format!("{issuer}api/v2/"),
            );
            let path = dir.join(format!("{port}.toml"));
            std::fs::write(&path, toml).expect("config");
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
                .args(["serve", "--config"])
                .arg(&path)
                .env("RUST_LOG", "warn")
                .env("PORTCULLIS_AT_REST_KEYS", &at_rest_keys)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn");
            processes.push(ServerProcess(child));
        }
        let bases: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let http = reqwest::Client::new();
        for base in &bases {
            let mut up = false;
            for _ in 0..200 {
                if http
                    .get(format!("{base}/.well-known/jwks.json"))
                    .send()
                    .await
                    .is_ok()
                {
                    up = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert!(up, "server at {base} did not start");
        }
        Self {
            bases,
            issuer,
            store,
            _processes: processes,
        }
    }
}

/// A minimal SMTP server that keeps every message it receives: the real transport under test.
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<std::sync::Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let messages = Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut in_data = false;
                    let mut data = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                in_data = false;
                                store.lock().expect("lock").push(std::mem::take(&mut data));
                                let _ = write.write_all(b"250 OK queued\r\n").await;
                            } else {
                                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                                data.push('\n');
                            }
                            continue;
                        }
                        let verb = line
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        Self { port, messages }
    }

    /// Messages received so far, waiting up to 3 s for `at_least`.
    pub async fn messages(&self, at_least: usize) -> Vec<String> {
        for _ in 0..60 {
            let found = self.messages.lock().expect("lock").clone();
            if found.len() >= at_least {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.messages.lock().expect("lock").clone()
    }
}

/// The first link in a (possibly quoted-printable) mail that contains `path`.
pub fn link_in(mail: &str, path: &str) -> String {
    let decoded = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    decoded
        .split_whitespace()
        .find(|w| w.contains(path))
        .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned())
        .unwrap_or_else(|| panic!("no link with {path} in {decoded}"))
}

/// The `ticket` parameter of a link.
pub fn ticket_of(link: &str) -> String {
    link.split("ticket=")
        .nth(1)
        .expect("ticket")
        .trim_end_matches('#')
        .to_owned()
}

/// A password-realm login at `/oauth/token`: the sample SPA on the database connection with
/// `openid profile email` unless the test says otherwise. The one way the tests log in with a
/// password.
pub struct PasswordLogin {
    pub fields: Vec<(&'static str, String)>,
}

impl PasswordLogin {
    pub fn new(username: &str, password: &str) -> Self {
        Self {
            fields: vec![
                ("grant_type", REALM.to_owned()),
                ("client_id", "my-spa".to_owned()),
                ("realm", DB.to_owned()),
                ("username", username.to_owned()),
                ("password", password.to_owned()),
                ("scope", "openid profile email".to_owned()),
            ],
        }
    }

    fn set(mut self, name: &'static str, value: Option<&str>) -> Self {
        self.fields.retain(|(n, _)| *n != name);
        if let Some(value) = value {
            self.fields.push((name, value.to_owned()));
        }
        self
    }

    /// Another application, confidential when it has a secret.
    pub fn client(self, client_id: &str, secret: Option<&str>) -> Self {
        self.set("client_id", Some(client_id))
            .set("client_secret", secret)
    }

    /// The requested scope (`None`: no `scope` parameter at all).
    pub fn scope(self, scope: Option<&str>) -> Self {
        self.set("scope", scope)
    }

    pub fn audience(self, audience: Option<&str>) -> Self {
        self.set("audience", audience)
    }

    /// Sends it with `http` (e.g. a client bound to another source address) to `base`.
    pub async fn send(&self, http: &reqwest::Client, base: &str) -> (StatusCode, Value) {
        let response = http
            .post(format!("{base}/oauth/token"))
            .form(&self.fields)
            .send()
            .await
            .expect("send");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}
