//! A tenant in memory: the in-memory store, a clock the test moves, mail kept for the test to
//! read, and Actions that never run.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use portcullis_core::Tenant;
use portcullis_core::actions::{Script, ScriptFailure, ScriptLimits, ScriptOutcome, ScriptRunner};
use portcullis_core::at_rest::AtRestKeys;
use portcullis_core::clock::{Clock, ManualClock};
use portcullis_core::config::{Client, Config, FileConfig};
use portcullis_core::flows::login::{LoggedIn, PasswordLogin, password_login};
use portcullis_core::flows::signup::{NewUser, SignUp, sign_up};
use portcullis_core::logs::Requester;
use portcullis_core::mail::{Mail, MailError, Mailer};
use portcullis_core::password::hasher::PasswordHasher;
use portcullis_core::store::memory::MemoryStore;
use portcullis_core::tokens::KeyRing;
use portcullis_core::user::UserRecord;
use serde_json::Value;

pub const DB: &str = "db";
pub const STRONG: &str = "Correct-Horse-Battery-9";
pub const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

const TENANT: &str = r#"
listen = "127.0.0.1:0"
data_dir = "unused"
[tenant]
default_directory = "db"
[[clients]]
name = "App"
client_id = "app"
callbacks = ["http://localhost/cb"]
grant_types = ["password", "http://auth0.com/oauth/grant-type/password-realm", "refresh_token", "http://auth0.com/oauth/grant-type/mfa-otp"]
refresh_token = { rotation_type = "rotating", expiration_type = "expiring" }
[[connections]]
name = "db"
[connections.options]
passwordPolicy = "good"
[attack_protection.brute_force_protection]
enabled = true
shields = ["block", "user_notification"]
max_attempts = 3
"#;

/// Mail the flows sent, for the test to read.
#[derive(Debug, Default)]
pub struct Outbox(Mutex<Vec<Mail>>);

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0.lock().expect("outbox").push(mail.clone());
        Ok(())
    }
}

/// Actions and Rules are not configured here; nothing runs.
#[derive(Debug)]
struct NoScripts;

#[async_trait]
impl ScriptRunner for NoScripts {
    async fn run(
        &self,
        _script: &Script,
        _event: Value,
        _limits: ScriptLimits,
    ) -> Result<ScriptOutcome, ScriptFailure> {
        unreachable!("no script is configured in these tests")
    }
}

pub struct Harness {
    pub tenant: Tenant,
    pub clock: Arc<ManualClock>,
    outbox: Arc<Outbox>,
}

impl Harness {
    /// The test tenant, with `tail` (TOML tables) added.
    pub async fn new(tail: &str) -> Self {
        let file = FileConfig::from_toml_str(&format!("{TENANT}\n{tail}")).expect("toml");
        let config = Config::validate(file).expect("config");
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let store = Arc::new(MemoryStore::new());
        let at_rest = Arc::new(AtRestKeys::ephemeral());
        let keys = KeyRing::load_or_create(store.as_ref(), at_rest.clone(), clock.now_millis())
            .await
            .expect("keys");
        let outbox = Arc::new(Outbox::default());
        let tenant = Tenant {
            config: Arc::new(config),
            store,
            clock: clock.clone(),
            hasher: PasswordHasher::new(1).expect("hasher"),
            keys,
            at_rest,
            breach: None,
            mailer: outbox.clone(),
            scripts: Arc::new(NoScripts),
            bound_actions: Default::default(),
            background: Default::default(),
        };
        Self {
            tenant,
            clock,
            outbox,
        }
    }

    pub fn client(&self) -> &Client {
        self.tenant.config.client("app").expect("client")
    }

    /// Every mail sent so far, once the background work of the requests so far is done.
    pub async fn mails(&self) -> Vec<Mail> {
        self.tenant.background.settled().await;
        self.outbox.0.lock().expect("outbox").clone()
    }

    /// The token of the last link to `to` whose URL has `path` (`…?ticket=<token>`).
    pub async fn ticket_mailed_to(&self, to: &str, path: &str) -> String {
        let mails = self.mails().await;
        let mail = mails
            .iter()
            .rev()
            .find(|m| m.to == to && m.text.contains(path))
            .unwrap_or_else(|| panic!("no mail to {to} with {path}: {mails:?}"));
        let start = mail.text.find("ticket=").expect("ticket") + "ticket=".len();
        mail.text[start..]
            .split(|c: char| c.is_whitespace() || c == '#' || c == '&')
            .next()
            .expect("token")
            .to_owned()
    }

    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
    ) -> Result<UserRecord, portcullis_core::Error> {
        sign_up(
            &self.tenant,
            SignUp {
                client_id: "app".to_owned(),
                connection: DB.to_owned(),
                user: NewUser {
                    email: email.to_owned(),
                    password: password.to_owned(),
                    ..NewUser::default()
                },
            },
            &requester(),
        )
        .await
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        scope: &str,
    ) -> Result<LoggedIn, portcullis_core::Error> {
        let login = PasswordLogin {
            realm: Some(DB.to_owned()),
            username: email.to_owned(),
            password: password.to_owned(),
            requester: requester(),
            pending: portcullis_core::mfa::PendingLogin {
                scope: Some(scope.to_owned()),
                ..Default::default()
            },
            on_login_page: false,
        };
        password_login(&self.tenant, self.client(), REALM, &login).await
    }
}

pub fn requester() -> Requester {
    Requester {
        ip: Some("192.0.2.10".to_owned()),
        user_agent: Some("flow-test".to_owned()),
    }
}
