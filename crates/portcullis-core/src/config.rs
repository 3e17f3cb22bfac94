//! The tenant's configuration: a TOML file whose objects and field names are Auth0's
//! (`clients`, `client_grants`, `resource_servers`, `connections[].options`), overlaid from the
//! environment, then validated into the runtime [`Config`] that is passed down.
//!
//! The file model ([`FileConfig`]) is read with `deny_unknown_fields` so that a typo stops the
//! server at start with the key named; the runtime model ([`Config`]) holds only checked values.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::actions::{Script, ScriptKind, ScriptLimits, Trigger};
use crate::attack::breach::BreachPolicy;
use crate::attack::brute_force::{
    BruteForcePolicy, CountingMode, DEFAULT_MAX_ATTEMPTS, IpRange, MAX_MAX_ATTEMPTS,
};
use crate::attack::throttle::{Bucket, ThrottlePolicy};
use crate::mail::{EmailTemplate, EmailTemplates, TemplateName};
use crate::mfa::MfaPolicy;
use crate::password::policy::{PasswordPolicy, PolicyLevel};
use crate::password::rules::PasswordRules;
use crate::refresh::RefreshPolicy;
use crate::secret::SecretDigest;

/// Prefix of environment variables overriding file keys; `__` separates nesting levels,
/// e.g. `PORTCULLIS_TENANT__DEFAULT_DIRECTORY`.
pub const ENV_PREFIX: &str = "PORTCULLIS_";

/// Auth0's grant type names.
pub mod grant {
    pub const PASSWORD: &str = "password";
    pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
    pub const CLIENT_CREDENTIALS: &str = "client_credentials";
    pub const AUTHORIZATION_CODE: &str = "authorization_code";
    pub const REFRESH_TOKEN: &str = "refresh_token";
    pub const IMPLICIT: &str = "implicit";
    pub const MFA_OTP: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
    pub const MFA_RECOVERY_CODE: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: String,
    /// Where `/metrics` (and the health probes) are served instead of the public listener.
    #[serde(default)]
    pub operations_listen: Option<String>,
    pub data_dir: PathBuf,
    #[serde(default)]
    pub database_url: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub tls: Option<FileTls>,
    #[serde(default)]
    pub tenant: FileTenant,
    #[serde(default)]
    pub clients: Vec<FileClient>,
    #[serde(default)]
    pub client_grants: Vec<FileClientGrant>,
    #[serde(default)]
    pub resource_servers: Vec<FileResourceServer>,
    #[serde(default)]
    pub connections: Vec<FileConnection>,
    #[serde(default)]
    pub attack_protection: FileAttackProtection,
    #[serde(default)]
    pub email_provider: Option<FileEmailProvider>,
    /// Proxies allowed to name the client with `X-Forwarded-For` (addresses or CIDR ranges).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Auth0's email templates by name (`verify_email`, `reset_email`, `welcome_email`,
    /// `blocked_account`, `stolen_credentials`).
    #[serde(default)]
    pub email_templates: BTreeMap<String, FileEmailTemplate>,
    #[serde(default)]
    pub guardian: Option<FileGuardian>,
    #[serde(default)]
    pub branding: FileBranding,
    /// Actions, bound to their trigger in the order listed.
    #[serde(default)]
    pub actions: Vec<FileAction>,
    /// Legacy Rules, run at login by `order`.
    #[serde(default)]
    pub rules: Vec<FileRule>,
    /// Rules' `configuration` object (Auth0's rules configs).
    #[serde(default)]
    pub rules_configs: BTreeMap<String, String>,
    /// The sandbox's limits per execution.
    #[serde(default)]
    pub extensibility: FileExtensibility,
}

/// An Action deployed from a file (Auth0's `name`, `supported_triggers`, `code`, `secrets`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAction {
    pub name: String,
    /// `pre-user-registration`, `post-user-registration`, `post-login` or `post-change-password`.
    pub trigger: String,
    /// Path of the JavaScript module (`exports.onExecute…`).
    pub code: PathBuf,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A Rule deployed from a file: `function (user, context, callback) { … }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRule {
    pub name: String,
    pub script: PathBuf,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub order: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileExtensibility {
    /// CPU time one script may use (default 100 ms).
    #[serde(default)]
    pub cpu_limit_ms: Option<u64>,
    /// Memory one script may allocate (default 64 MiB).
    #[serde(default)]
    pub memory_limit_mb: Option<usize>,
}

/// The look of the hosted pages (Auth0's branding settings: `logo_url`, `favicon_url`,
/// `colors.primary`, `colors.page_background`), plus template files that replace the
/// built-in pages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBranding {
    /// Shown in every page's title and header (default: the tenant's `friendly_name`).
    #[serde(default)]
    pub page_title: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub favicon_url: Option<String>,
    #[serde(default)]
    pub colors: FileColors,
    /// A folder of page templates (`login.html`, `signup.html`, `layout.html`, …); each file
    /// replaces the built-in page of the same name.
    #[serde(default)]
    pub templates_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileColors {
    #[serde(default)]
    pub primary: Option<String>,
    #[serde(default)]
    pub page_background: Option<String>,
}

/// Auth0 Guardian's policy and factors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileGuardian {
    /// `never` (default) or `all-applications`.
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub factors: BTreeMap<String, FileFactor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileFactor {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEmailTemplate {
    #[serde(default)]
    pub subject: Option<String>,
    /// The body inline, with `{{ url }}`, `{{ user.email }}`, `{{ friendly_name }}` …
    #[serde(default)]
    pub body: Option<String>,
    /// Or the body from a file.
    #[serde(default)]
    pub body_file: Option<PathBuf>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Auth0's email provider object (`/api/v2/emails/provider`); `name = "outbox"` is
/// Portcullis' development default (mail written as `.eml` files into `data_dir/outbox`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEmailProvider {
    pub name: String,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub default_from_address: Option<String>,
    #[serde(default)]
    pub credentials: Option<FileSmtpCredentials>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSmtpCredentials {
    pub smtp_host: String,
    #[serde(default)]
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub smtp_user: Option<String>,
    #[serde(default)]
    pub smtp_pass: Option<String>,
    /// `starttls` (default on port 587), `tls` (implicit, default on 465) or `none`.
    #[serde(default)]
    pub tls: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAttackProtection {
    #[serde(default)]
    pub breached_password_detection: Option<FileBreachedPasswordDetection>,
    #[serde(default)]
    pub brute_force_protection: Option<FileBruteForceProtection>,
    #[serde(default)]
    pub suspicious_ip_throttling: Option<FileSuspiciousIpThrottling>,
}

/// Auth0's `suspicious_ip_throttling` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSuspiciousIpThrottling {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub shields: Option<Vec<String>>,
    #[serde(default)]
    pub allowlist: Vec<String>,
    #[serde(default)]
    pub stage: FileThrottleStages,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileThrottleStages {
    #[serde(default, rename = "pre-login")]
    pub pre_login: Option<FileBucket>,
    #[serde(default, rename = "pre-user-registration")]
    pub pre_user_registration: Option<FileBucket>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBucket {
    pub max_attempts: u32,
    /// Milliseconds per new token.
    pub rate: i64,
}

/// Auth0's `brute_force_protection` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBruteForceProtection {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub shields: Option<Vec<String>>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub allowlist: Vec<String>,
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

/// Auth0's `breached_password_detection` object, plus where the corpus comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBreachedPasswordDetection {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub shields: Vec<String>,
    #[serde(default)]
    pub admin_notification_frequency: Vec<String>,
    /// `standard` (Auth0's; an offline corpus here), `enhanced` (treated as `standard`), or
    /// `range_api` (a k-anonymity endpoint compatible with Pwned Passwords).
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub stage: FileBreachStages,
    /// A filter file built by `portcullis breach build`; the compiled-in corpus when absent.
    #[serde(default)]
    pub corpus: Option<PathBuf>,
    #[serde(default)]
    pub range_api: Option<FileRangeApi>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBreachStages {
    #[serde(default, rename = "pre-user-registration")]
    pub pre_user_registration: Option<FileStageShields>,
    #[serde(default, rename = "pre-change-password")]
    pub pre_change_password: Option<FileStageShields>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStageShields {
    #[serde(default)]
    pub shields: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRangeApi {
    /// The range endpoint's base: the 5-character prefix is appended, e.g.
    /// `https://api.pwnedpasswords.com/range/`.
    pub url: String,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// When the endpoint fails: accept the password (true) or refuse it (false, the default).
    #[serde(default)]
    pub fail_open: Option<bool>,
}

/// `tls = "self-signed"` or `tls = { cert = "…", key = "…" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FileTls {
    Mode(String),
    Files { cert: PathBuf, key: PathBuf },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTenant {
    #[serde(default)]
    pub default_directory: Option<String>,
    /// Logout URLs any application may return to (Auth0's tenant `allowed_logout_urls`).
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub default_audience: Option<String>,
    /// How many days tenant log events are kept (Auth0 keeps them per plan; default 30).
    #[serde(default)]
    pub logs_retention_days: Option<u32>,
    /// Auth0's tenant `support_email`: where attack-protection `admin_notification`s go.
    #[serde(default)]
    pub support_email: Option<String>,
    /// Auth0's tenant `error_page`: where a browser goes when a request cannot go back to
    /// its application (default: the built-in page at `/error`).
    #[serde(default)]
    pub error_page: Option<FileErrorPage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileErrorPage {
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileClient {
    pub name: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub app_type: Option<String>,
    #[serde(default)]
    pub callbacks: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub web_origins: Vec<String>,
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub jwt_configuration: Option<FileJwtConfiguration>,
    #[serde(default)]
    pub refresh_token: Option<FileRefreshToken>,
    /// Whether the application may log users in from its own page through
    /// `/co/authenticate` (auth0.js `login`, Lock); only from its `allowed_origins`.
    #[serde(default)]
    pub cross_origin_authentication: Option<bool>,
    /// The application's page that runs auth0.js `crossOriginVerification()`: where the
    /// verifier is fetched from when the browser withheld the verifier cookie (third-party
    /// cookies blocked).
    #[serde(default)]
    pub cross_origin_loc: Option<String>,
}

/// Auth0's client `refresh_token` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRefreshToken {
    #[serde(default)]
    pub rotation_type: Option<String>,
    #[serde(default)]
    pub expiration_type: Option<String>,
    #[serde(default)]
    pub leeway: Option<i64>,
    #[serde(default)]
    pub token_lifetime: Option<i64>,
    #[serde(default)]
    pub idle_token_lifetime: Option<i64>,
    #[serde(default)]
    pub infinite_token_lifetime: Option<bool>,
    #[serde(default)]
    pub infinite_idle_token_lifetime: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileJwtConfiguration {
    #[serde(default)]
    pub lifetime_in_seconds: Option<u64>,
    #[serde(default)]
    pub alg: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileClientGrant {
    pub client_id: String,
    pub audience: String,
    #[serde(default)]
    pub scope: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileResourceServer {
    pub identifier: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub token_lifetime: Option<u64>,
    #[serde(default)]
    pub scopes: Vec<FileResourceServerScope>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileResourceServerScope {
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConnection {
    pub name: String,
    #[serde(default)]
    pub strategy: Option<String>,
    #[serde(default)]
    pub enabled_clients: Option<Vec<String>>,
    #[serde(default)]
    pub options: FileConnectionOptions,
}

/// `connections[].options`, Auth0's names (mixed camelCase and snake_case, as Auth0 has them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConnectionOptions {
    #[serde(default, rename = "passwordPolicy")]
    pub password_policy: Option<String>,
    #[serde(default)]
    pub password_complexity_options: Option<FilePasswordComplexity>,
    #[serde(default)]
    pub brute_force_protection: Option<bool>,
    #[serde(default)]
    pub requires_username: Option<bool>,
    #[serde(default)]
    pub disable_signup: Option<bool>,
    #[serde(default)]
    pub validation: Option<FileValidation>,
    #[serde(default)]
    pub password_dictionary: Option<FilePasswordDictionary>,
    #[serde(default)]
    pub password_no_personal_info: Option<FileToggle>,
    #[serde(default)]
    pub password_history: Option<FilePasswordHistory>,
    /// Portcullis' own: end the user's sessions and refresh tokens when the password changes
    /// or is reset. Auth0 keeps them, and so does the default.
    #[serde(default)]
    pub revoke_sessions_on_password_change: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePasswordDictionary {
    pub enable: bool,
    #[serde(default)]
    pub dictionary: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileToggle {
    pub enable: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePasswordHistory {
    pub enable: bool,
    #[serde(default)]
    pub size: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePasswordComplexity {
    pub min_length: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileValidation {
    #[serde(default)]
    pub username: Option<FileUsernameValidation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUsernameValidation {
    pub min: u32,
    pub max: u32,
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Read(String),
    #[error("invalid value for `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

impl FileConfig {
    /// Reads the TOML file at `path` and overlays `PORTCULLIS_*` environment variables.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        if !path.exists() {
            return Err(ConfigError::Read(format!(
                "configuration file {} does not exist",
                path.display()
            )));
        }
        Self::from_figment(Figment::new().merge(Toml::file_exact(path)))
    }

    /// Parses TOML text (and the environment overlay).
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::new().merge(Toml::string(text)))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        // Only variables naming a top-level key overlay the file, so that other PORTCULLIS_*
        // variables (PORTCULLIS_CONFIG, PORTCULLIS_LOG_FORMAT, …) are not taken for keys.
        let env = Env::prefixed(ENV_PREFIX)
            .filter(|key| {
                let top = key.as_str().split("__").next().unwrap_or("");
                TOP_LEVEL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
            })
            .split("__");
        figment
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Read(describe_figment_error(e)))
    }
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "listen",
    "operations_listen",
    "data_dir",
    "database_url",
    "issuer",
    "tls",
    "tenant",
    "clients",
    "client_grants",
    "resource_servers",
    "connections",
    "attack_protection",
    "email_provider",
    "trusted_proxies",
    "email_templates",
    "guardian",
    "branding",
    "actions",
    "rules",
    "rules_configs",
    "extensibility",
];

fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if key.is_empty() {
                e.to_string()
            } else {
                format!("`{key}`: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How the server listens: plain HTTP, or HTTPS with files or a generated local CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsConfig {
    Off,
    SelfSigned,
    Files { cert: PathBuf, key: PathBuf },
}

#[derive(Debug, Clone)]
pub struct Client {
    pub name: String,
    pub client_id: String,
    /// Only a digest is kept in memory; the secret itself is compared in constant time.
    pub secret: Option<SecretDigest>,
    pub app_type: String,
    pub callbacks: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub web_origins: Vec<String>,
    pub allowed_logout_urls: Vec<String>,
    pub grant_types: Vec<String>,
    pub id_token_lifetime_secs: u64,
    pub refresh: RefreshPolicy,
    pub cross_origin_authentication: bool,
    pub cross_origin_loc: Option<String>,
}

impl Client {
    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
    }
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

#[derive(Debug, Clone)]
pub struct ClientGrant {
    pub client_id: String,
    pub audience: String,
    pub scope: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ResourceServer {
    pub identifier: String,
    pub name: String,
    pub token_lifetime_secs: u64,
}

#[derive(Debug, Clone)]
pub struct Connection {
    pub name: String,
    pub enabled_clients: Option<Vec<String>>,
    pub password_rules: PasswordRules,
    pub brute_force_protection: bool,
    pub requires_username: bool,
    pub disable_signup: bool,
    pub username_min: u32,
    pub username_max: u32,
    /// End the user's sessions and refresh tokens on a password change or reset.
    pub revoke_sessions_on_password_change: bool,
}

impl Connection {
    /// Auth0-style connection id (`con_…`), stable for the connection's name.
    pub fn id(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.name.as_bytes());
        format!("con_{}", &hex::encode(digest)[..16])
    }

    pub fn is_enabled_for(&self, client_id: &str) -> bool {
        self.enabled_clients
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|c| c == client_id))
    }
}

/// The validated runtime configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where the operations endpoints are served apart from the public listener, if anywhere.
    pub operations_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// Always ends with `/`, as Auth0's `iss` does.
    pub issuer: String,
    pub tls: TlsConfig,
    pub tenant_name: String,
    pub logs_retention_days: u32,
    pub support_email: Option<String>,
    /// The tenant's custom error page (`error_page.url`), if any.
    pub error_page_url: Option<String>,
    pub default_directory: Option<String>,
    pub allowed_logout_urls: Vec<String>,
    pub default_audience: Option<String>,
    pub clients: Vec<Client>,
    pub client_grants: Vec<ClientGrant>,
    pub resource_servers: Vec<ResourceServer>,
    pub connections: Vec<Connection>,
    pub breach_policy: BreachPolicy,
    pub breach_source: BreachSource,
    pub brute_force: BruteForcePolicy,
    pub throttle: ThrottlePolicy,
    pub trusted_proxies: Vec<IpRange>,
    pub mail: MailConfig,
    pub email_templates: EmailTemplates,
    pub mfa: MfaPolicy,
    pub branding: Branding,
    /// Deployed Actions with their trigger, in binding order.
    pub actions: Vec<Script>,
    /// Enabled Rules, in `order`.
    pub rules: Vec<Script>,
    pub rules_configs: Map<String, Value>,
    pub script_limits: ScriptLimits,
}

/// The hosted pages' look, checked: colours are CSS hex colours, URLs are http(s).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Branding {
    pub page_title: String,
    pub logo_url: Option<String>,
    pub favicon_url: Option<String>,
    pub primary_color: String,
    pub page_background: String,
    /// Page templates read from `templates_dir`, by file name.
    #[serde(skip)]
    pub templates: BTreeMap<String, String>,
}

/// Auth0's default Universal Login colours.
pub const DEFAULT_PRIMARY_COLOR: &str = "#635dff";
pub const DEFAULT_PAGE_BACKGROUND: &str = "#f4f4f6";

/// Where mail goes and from whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    pub from: String,
    pub transport: MailTransport,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// `.eml` files in a folder (the development default: `data_dir/outbox`).
    Outbox(PathBuf),
    Smtp {
        host: String,
        port: u16,
        user: Option<String>,
        pass: Option<String>,
        tls: SmtpTls,
    },
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Implicit,
    None,
}

/// Where breached passwords are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreachSource {
    /// A filter file, or the compiled-in corpus when `None`.
    Corpus(Option<PathBuf>),
    /// A Pwned-Passwords-compatible range endpoint.
    RangeApi { url: String, timeout_ms: u64 },
}

/// Auth0 keeps at most 24 passwords of history; 5 when enabled without a size.
pub const MAX_PASSWORD_HISTORY_SIZE: u32 = 24;
pub const DEFAULT_PASSWORD_HISTORY_SIZE: u32 = 5;

/// Auth0's Management API token lifetime (its resource server's `token_lifetime`).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: u64 = 86_400;
/// Access tokens for the MFA API manage second factors: short-lived.
pub const MFA_API_TOKEN_LIFETIME: u64 = 600;
/// Auth0's default `jwt_configuration.lifetime_in_seconds` (ID tokens).
pub const DEFAULT_ID_TOKEN_LIFETIME: u64 = 36_000;

impl Config {
    pub fn management_audience(&self) -> String {
        format!("{}api/v2/", self.issuer)
    }
    pub fn userinfo_audience(&self) -> String {
        format!("{}userinfo", self.issuer)
    }
    /// The MFA API (`/mfa/…`): an access token for it, with `enroll`, `read:authenticators` or
    /// `remove:authenticators`, manages the user's own authenticators.
    pub fn mfa_audience(&self) -> String {
        format!("{}mfa/", self.issuer)
    }
    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }
    pub fn client_grant(&self, client_id: &str, audience: &str) -> Option<&ClientGrant> {
        self.client_grants
            .iter()
            .find(|g| g.client_id == client_id && g.audience == audience)
    }
    /// The API named by `audience`: a configured resource server, or the Management API.
    pub fn resource_server(&self, audience: &str) -> Option<ResourceServer> {
        if audience == self.management_audience() {
            return Some(ResourceServer {
                identifier: audience.to_owned(),
                name: "Auth0 Management API".to_owned(),
                token_lifetime_secs: DEFAULT_ACCESS_TOKEN_LIFETIME,
            });
        }
        if audience == self.mfa_audience() {
            return Some(ResourceServer {
                identifier: audience.to_owned(),
                name: "MFA API".to_owned(),
                token_lifetime_secs: MFA_API_TOKEN_LIFETIME,
            });
        }
        self.resource_servers
            .iter()
            .find(|r| r.identifier == audience)
            .cloned()
    }

    pub fn validate(file: FileConfig) -> Result<Self, ConfigError> {
        let listen: SocketAddr = file.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an IP:port address", file.listen),
            )
        })?;
        let error_page_url = file.tenant.error_page.as_ref().and_then(|p| p.url.clone());
        if let Some(url) = &error_page_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(invalid(
                "tenant.error_page.url",
                format!("`{url}` is not an http(s) URL"),
            ));
        }
        let operations_listen = match &file.operations_listen {
            None => None,
            Some(text) => match text.parse::<SocketAddr>() {
                Ok(addr) if addr == listen && addr.port() != 0 => {
                    return Err(invalid(
                        "operations_listen",
                        "must differ from `listen`".to_owned(),
                    ));
                }
                Ok(addr) => Some(addr),
                Err(_) => {
                    return Err(invalid(
                        "operations_listen",
                        format!("`{text}` is not an IP:port address"),
                    ));
                }
            },
        };
        let tls = match file.tls {
            None => TlsConfig::Off,
            Some(FileTls::Mode(mode)) if mode == "self-signed" => TlsConfig::SelfSigned,
            Some(FileTls::Mode(mode)) if mode == "off" => TlsConfig::Off,
            Some(FileTls::Mode(mode)) => {
                return Err(invalid(
                    "tls",
                    format!("`{mode}` is neither \"self-signed\", \"off\" nor {{ cert, key }}"),
                ));
            }
            Some(FileTls::Files { cert, key }) => TlsConfig::Files { cert, key },
        };
        let scheme = if tls == TlsConfig::Off {
            "http"
        } else {
            "https"
        };
        let issuer = match file.issuer {
            Some(issuer) => {
                if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                    return Err(invalid("issuer", "must start with https:// or http://"));
                }
                if issuer.ends_with('/') {
                    issuer
                } else {
                    format!("{issuer}/")
                }
            }
            None => format!("{scheme}://{listen}/"),
        };
        if let Some(url) = &file.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database_url",
                "must be a postgres:// URL (leave it out for the embedded SQLite store)",
            ));
        }

        let mut clients = Vec::with_capacity(file.clients.len());
        let mut seen = HashSet::new();
        for (i, c) in file.clients.into_iter().enumerate() {
            let key = |field: &str| format!("clients[{i}].{field}");
            if c.client_id.is_empty() {
                return Err(invalid(key("client_id"), "must not be empty"));
            }
            if !seen.insert(c.client_id.clone()) {
                return Err(invalid(
                    key("client_id"),
                    format!("`{}` is used twice", c.client_id),
                ));
            }
            if let Some(secret) = &c.client_secret
                && secret.len() < 16
            {
                return Err(invalid(
                    key("client_secret"),
                    "must be at least 16 characters",
                ));
            }
            let grant_types = c.grant_types.unwrap_or_else(|| {
                default_grant_types(c.app_type.as_deref(), c.client_secret.is_some())
            });
            for g in &grant_types {
                if !KNOWN_GRANT_TYPES.contains(&g.as_str()) {
                    return Err(invalid(
                        key("grant_types"),
                        format!("unknown grant type `{g}`"),
                    ));
                }
            }
            if grant_types.iter().any(|g| g == grant::CLIENT_CREDENTIALS)
                && c.client_secret.is_none()
            {
                return Err(invalid(
                    key("grant_types"),
                    "client_credentials needs a client_secret (public clients cannot use it)",
                ));
            }
            if let Some(loc) = &c.cross_origin_loc
                && !(loc.starts_with("https://") || loc.starts_with("http://"))
            {
                return Err(invalid(
                    key("cross_origin_loc"),
                    "must start with https:// or http://",
                ));
            }
            let app_type = c.app_type.unwrap_or_else(|| {
                if c.client_secret.is_some() {
                    "regular_web"
                } else {
                    "spa"
                }
                .to_owned()
            });
            let id_token_lifetime_secs = c
                .jwt_configuration
                .as_ref()
                .and_then(|j| j.lifetime_in_seconds)
                .unwrap_or(DEFAULT_ID_TOKEN_LIFETIME);
            if let Some(alg) = c.jwt_configuration.as_ref().and_then(|j| j.alg.as_deref())
                && alg != "RS256"
            {
                return Err(invalid(
                    key("jwt_configuration.alg"),
                    "only RS256 is supported",
                ));
            }
            let refresh = refresh_policy(c.refresh_token.as_ref(), &key("refresh_token"))?;
            clients.push(Client {
                refresh,
                name: c.name,
                secret: c.client_secret.as_deref().map(SecretDigest::of),
                client_id: c.client_id,
                app_type,
                callbacks: c.callbacks,
                allowed_origins: c.allowed_origins,
                web_origins: c.web_origins,
                allowed_logout_urls: c.allowed_logout_urls,
                grant_types,
                id_token_lifetime_secs,
                cross_origin_authentication: c.cross_origin_authentication.unwrap_or(false),
                cross_origin_loc: c.cross_origin_loc,
            });
        }

        let mut resource_servers = Vec::new();
        for (i, r) in file.resource_servers.into_iter().enumerate() {
            if r.identifier.is_empty() {
                return Err(invalid(
                    format!("resource_servers[{i}].identifier"),
                    "must not be empty",
                ));
            }
            resource_servers.push(ResourceServer {
                name: r.name.unwrap_or_else(|| r.identifier.clone()),
                token_lifetime_secs: r.token_lifetime.unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME),
                identifier: r.identifier,
            });
        }

        let mut connections = Vec::new();
        let mut names = HashSet::new();
        for (i, c) in file.connections.into_iter().enumerate() {
            let key = |field: &str| format!("connections[{i}].{field}");
            if c.name.is_empty() {
                return Err(invalid(key("name"), "must not be empty"));
            }
            if !names.insert(c.name.clone()) {
                return Err(invalid(key("name"), format!("`{}` is used twice", c.name)));
            }
            if let Some(strategy) = &c.strategy
                && strategy != "auth0"
            {
                return Err(invalid(
                    key("strategy"),
                    "only database connections (\"auth0\") are supported",
                ));
            }
            let o = c.options;
            let policy = match o.password_policy.as_deref() {
                None => PolicyLevel::None,
                Some(name) => PolicyLevel::from_name(name).ok_or_else(|| {
                    invalid(
                        key("options.passwordPolicy"),
                        format!("`{name}` is not one of none, low, fair, good, excellent"),
                    )
                })?,
            };
            let min_length = match o.password_complexity_options {
                Some(p) if !(1..=128).contains(&p.min_length) => {
                    return Err(invalid(
                        key("options.password_complexity_options.min_length"),
                        "must be between 1 and 128",
                    ));
                }
                Some(p) => Some(p.min_length),
                None => None,
            };
            let (username_min, username_max) = match o.validation.and_then(|v| v.username) {
                Some(u) if u.min < 1 || u.max < u.min || u.max > 128 => {
                    return Err(invalid(
                        key("options.validation.username"),
                        "needs 1 <= min <= max <= 128",
                    ));
                }
                Some(u) => (u.min, u.max),
                None => (1, 15),
            };
            let history_size = match o.password_history {
                Some(h) if h.enable => {
                    let size = h.size.unwrap_or(DEFAULT_PASSWORD_HISTORY_SIZE);
                    if !(1..=MAX_PASSWORD_HISTORY_SIZE).contains(&size) {
                        return Err(invalid(
                            key("options.password_history.size"),
                            format!("must be between 1 and {MAX_PASSWORD_HISTORY_SIZE}"),
                        ));
                    }
                    Some(size)
                }
                _ => None,
            };
            let dictionary = o
                .password_dictionary
                .filter(|d| d.enable)
                .map(|d| d.dictionary.iter().map(|w| w.to_lowercase()).collect());
            connections.push(Connection {
                name: c.name,
                enabled_clients: c.enabled_clients,
                password_rules: PasswordRules {
                    policy: Some(PasswordPolicy::new(policy, min_length)),
                    dictionary,
                    no_personal_info: o.password_no_personal_info.is_some_and(|t| t.enable),
                    history_size,
                },
                brute_force_protection: o.brute_force_protection.unwrap_or(true),
                requires_username: o.requires_username.unwrap_or(false),
                disable_signup: o.disable_signup.unwrap_or(false),
                username_min,
                username_max,
                revoke_sessions_on_password_change: o
                    .revoke_sessions_on_password_change
                    .unwrap_or(false),
            });
        }
        for (i, c) in connections.iter().enumerate() {
            if let Some(enabled) = &c.enabled_clients {
                for id in enabled {
                    if !seen.contains(id) {
                        return Err(invalid(
                            format!("connections[{i}].enabled_clients"),
                            format!("no client has client_id `{id}`"),
                        ));
                    }
                }
            }
        }

        if let Some(dir) = &file.tenant.default_directory
            && !names.contains(dir)
        {
            return Err(invalid(
                "tenant.default_directory",
                format!("no connection is named `{dir}`"),
            ));
        }

        let (breach_policy, breach_source) =
            validate_breach(file.attack_protection.breached_password_detection)?;
        let mail = validate_mail(file.email_provider, &file.data_dir)?;
        let brute_force = validate_brute_force(file.attack_protection.brute_force_protection)?;
        let throttle = validate_throttle(file.attack_protection.suspicious_ip_throttling)?;
        let trusted_proxies = ip_ranges("trusted_proxies", &file.trusted_proxies)?;
        let email_templates = validate_templates(file.email_templates)?;
        let mfa = validate_guardian(file.guardian)?;
        let tenant_name = file
            .tenant
            .friendly_name
            .unwrap_or_else(|| "portcullis".to_owned());
        let branding = validate_branding(file.branding, &tenant_name)?;
        let (actions, rules, script_limits) =
            validate_scripts(file.actions, file.rules, file.extensibility)?;
        let rules_configs = file
            .rules_configs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let mut config = Config {
            listen,
            operations_listen,
            data_dir: file.data_dir,
            database_url: file.database_url,
            issuer,
            tls,
            tenant_name,
            logs_retention_days: file.tenant.logs_retention_days.unwrap_or(30).max(1),
            support_email: file.tenant.support_email,
            error_page_url,
            default_directory: file.tenant.default_directory,
            allowed_logout_urls: file.tenant.allowed_logout_urls,
            default_audience: file.tenant.default_audience,
            clients,
            client_grants: Vec::new(),
            resource_servers,
            connections,
            breach_policy,
            breach_source,
            brute_force,
            throttle,
            trusted_proxies,
            mail,
            email_templates,
            mfa,
            branding,
            actions,
            rules,
            rules_configs,
            script_limits,
        };
        for (i, g) in file.client_grants.into_iter().enumerate() {
            let key = |field: &str| format!("client_grants[{i}].{field}");
            if !seen.contains(&g.client_id) {
                return Err(invalid(
                    key("client_id"),
                    format!("no client has client_id `{}`", g.client_id),
                ));
            }
            // The Management API named with the other scheme is still this tenant's: turning
            // TLS on (or off) does not make the file's grants invalid.
            let management = config.management_audience();
            let audience = if without_scheme(&g.audience) == without_scheme(&management) {
                management
            } else {
                g.audience
            };
            let g = FileClientGrant { audience, ..g };
            if config.resource_server(&g.audience).is_none() {
                return Err(invalid(
                    key("audience"),
                    format!(
                        "`{}` is neither this tenant's Management API ({}) nor a configured resource server",
                        g.audience,
                        config.management_audience()
                    ),
                ));
            }
            if config.client_grant(&g.client_id, &g.audience).is_some() {
                return Err(invalid(
                    key("audience"),
                    "a grant for this client and audience already exists",
                ));
            }
            config.client_grants.push(ClientGrant {
                client_id: g.client_id,
                audience: g.audience,
                scope: g.scope,
            });
        }
        Ok(config)
    }
}

/// `url` without its `http://` or `https://`.
fn without_scheme(url: &str) -> &str {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url)
}

/// Auth0's refresh-token settings: rotating tokens must expire (30 days absolute, 15 days idle
/// by default); non-rotating ones default to never.
fn refresh_policy(
    file: Option<&FileRefreshToken>,
    key: &str,
) -> Result<RefreshPolicy, ConfigError> {
    let Some(r) = file else {
        return Ok(RefreshPolicy::default());
    };
    let rotating = match r.rotation_type.as_deref() {
        None | Some("non-rotating") => false,
        Some("rotating") => true,
        Some(other) => {
            return Err(invalid(
                format!("{key}.rotation_type"),
                format!("`{other}` is not one of rotating, non-rotating"),
            ));
        }
    };
    let expiring = match r.expiration_type.as_deref() {
        None => rotating,
        Some("expiring") => true,
        Some("non-expiring") => false,
        Some(other) => {
            return Err(invalid(
                format!("{key}.expiration_type"),
                format!("`{other}` is not one of expiring, non-expiring"),
            ));
        }
    };
    if rotating && !expiring {
        return Err(invalid(
            format!("{key}.expiration_type"),
            "rotating refresh tokens must be expiring",
        ));
    }
    let lifetime = |value: Option<i64>,
                    infinite: Option<bool>,
                    default: i64,
                    field: &str|
     -> Result<Option<i64>, ConfigError> {
        if !expiring || infinite == Some(true) {
            return Ok(None);
        }
        let v = value.unwrap_or(default);
        if v <= 0 {
            return Err(invalid(format!("{key}.{field}"), "must be positive"));
        }
        Ok(Some(v))
    };
    Ok(RefreshPolicy {
        rotating,
        token_lifetime: lifetime(
            r.token_lifetime,
            r.infinite_token_lifetime,
            2_592_000,
            "token_lifetime",
        )?,
        idle_token_lifetime: lifetime(
            r.idle_token_lifetime,
            r.infinite_idle_token_lifetime,
            1_296_000,
            "idle_token_lifetime",
        )?,
    })
}

fn validate_guardian(file: Option<FileGuardian>) -> Result<MfaPolicy, ConfigError> {
    let Some(g) = file else {
        return Ok(MfaPolicy::default());
    };
    let always = match g.policy.as_deref() {
        None | Some("never") => false,
        Some("all-applications") => true,
        Some(other) => {
            return Err(invalid(
                "guardian.policy",
                format!("`{other}` is not one of never, all-applications"),
            ));
        }
    };
    let known = [
        "otp",
        "recovery-code",
        "sms",
        "email",
        "push-notification",
        "duo",
        "webauthn-roaming",
        "webauthn-platform",
    ];
    let mut policy = MfaPolicy {
        always,
        otp: false,
        recovery_code: false,
    };
    for (name, factor) in g.factors {
        match name.as_str() {
            "otp" => policy.otp = factor.enabled,
            "recovery-code" => policy.recovery_code = factor.enabled,
            other if known.contains(&other) => {
                if factor.enabled {
                    return Err(invalid(
                        format!("guardian.factors.{other}"),
                        "this factor is not supported yet (otp, recovery-code are)",
                    ));
                }
            }
            other => {
                return Err(invalid(
                    format!("guardian.factors.{other}"),
                    "unknown factor",
                ));
            }
        }
    }
    if always && !policy.otp {
        return Err(invalid(
            "guardian.policy",
            "all-applications needs an enabled factor (guardian.factors.otp)",
        ));
    }
    Ok(policy)
}

fn validate_scripts(
    actions: Vec<FileAction>,
    rules: Vec<FileRule>,
    limits: FileExtensibility,
) -> Result<(Vec<Script>, Vec<Script>, ScriptLimits), ConfigError> {
    let read = |key: String, path: &Path| {
        std::fs::read_to_string(path)
            .map(Arc::<str>::from)
            .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))
    };
    let mut names = HashSet::new();
    let mut deployed = Vec::new();
    for (i, a) in actions.into_iter().enumerate() {
        let key = |field: &str| format!("actions[{i}].{field}");
        if a.name.trim().is_empty() || !names.insert(a.name.clone()) {
            return Err(invalid(key("name"), "must be present and unique"));
        }
        let trigger = Trigger::parse(&a.trigger).ok_or_else(|| {
            invalid(
                key("trigger"),
                "not one of pre-user-registration, post-user-registration, post-login, post-change-password",
            )
        })?;
        let code = read(key("code"), &a.code)?;
        if a.enabled == Some(false) {
            continue;
        }
        deployed.push(Script {
            name: a.name,
            kind: ScriptKind::Action(trigger),
            code,
            secrets: a
                .secrets
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        });
    }
    let mut ordered = Vec::new();
    for (i, r) in rules.into_iter().enumerate() {
        let key = |field: &str| format!("rules[{i}].{field}");
        if r.name.trim().is_empty() || !names.insert(r.name.clone()) {
            return Err(invalid(key("name"), "must be present and unique"));
        }
        let code = read(key("script"), &r.script)?;
        if r.enabled == Some(false) {
            continue;
        }
        ordered.push((
            r.order.unwrap_or(i as i64),
            Script {
                name: r.name,
                kind: ScriptKind::Rule,
                code,
                secrets: Map::new(),
            },
        ));
    }
    ordered.sort_by_key(|(order, _)| *order);
    let defaults = ScriptLimits::default();
    let cpu_millis = limits.cpu_limit_ms.unwrap_or(defaults.cpu_millis);
    let memory_mb = limits
        .memory_limit_mb
        .unwrap_or(defaults.memory_bytes >> 20);
    if !(1..=20_000).contains(&cpu_millis) {
        return Err(invalid(
            "extensibility.cpu_limit_ms",
            "must be between 1 and 20000",
        ));
    }
    if !(8..=1024).contains(&memory_mb) {
        return Err(invalid(
            "extensibility.memory_limit_mb",
            "must be between 8 and 1024",
        ));
    }
    Ok((
        deployed,
        ordered.into_iter().map(|(_, s)| s).collect(),
        ScriptLimits {
            cpu_millis,
            memory_bytes: memory_mb << 20,
        },
    ))
}

fn validate_branding(file: FileBranding, tenant_name: &str) -> Result<Branding, ConfigError> {
    let color = |key: &str, value: Option<String>, default: &str| {
        let value = value.unwrap_or_else(|| default.to_owned());
        let hex = value.strip_prefix('#').unwrap_or("");
        if matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(value)
        } else {
            Err(invalid(
                format!("branding.colors.{key}"),
                format!("`{value}` is not a hex colour like #635dff"),
            ))
        }
    };
    let url = |key: &str, value: Option<String>| match value {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) => Err(invalid(
            format!("branding.{key}"),
            "must start with https:// or http://",
        )),
        other => Ok(other),
    };
    let mut templates = BTreeMap::new();
    if let Some(dir) = &file.templates_dir {
        let unreadable = |e: std::io::Error| {
            invalid(
                "branding.templates_dir",
                format!("cannot read {}: {e}", dir.display()),
            )
        };
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if path.is_file() && name.ends_with(".html") {
                templates.insert(
                    name.to_owned(),
                    std::fs::read_to_string(&path).map_err(unreadable)?,
                );
            }
        }
    }
    Ok(Branding {
        page_title: file.page_title.unwrap_or_else(|| tenant_name.to_owned()),
        logo_url: url("logo_url", file.logo_url)?,
        favicon_url: url("favicon_url", file.favicon_url)?,
        primary_color: color("primary", file.colors.primary, DEFAULT_PRIMARY_COLOR)?,
        page_background: color(
            "page_background",
            file.colors.page_background,
            DEFAULT_PAGE_BACKGROUND,
        )?,
        templates,
    })
}

fn validate_templates(
    file: BTreeMap<String, FileEmailTemplate>,
) -> Result<EmailTemplates, ConfigError> {
    let mut templates = EmailTemplates::default();
    for (name, t) in file {
        let key = format!("email_templates.{name}");
        let template_name = TemplateName::parse(&name).ok_or_else(|| {
            invalid(&key, "not one of verify_email, reset_email, welcome_email, blocked_account, stolen_credentials, enrollment_email")
        })?;
        let body = match (t.body, t.body_file) {
            (Some(_), Some(_)) => return Err(invalid(&key, "give body or body_file, not both")),
            (Some(body), None) => Some(body),
            (None, Some(path)) => Some(std::fs::read_to_string(&path).map_err(|e| {
                invalid(
                    format!("{key}.body_file"),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?),
            (None, None) => None,
        };
        let template = EmailTemplate {
            subject: t.subject,
            body,
            enabled: t.enabled.unwrap_or(true),
        };
        EmailTemplates::validate(&template).map_err(|e| invalid(&key, e))?;
        templates.set(template_name, template);
    }
    Ok(templates)
}

fn ip_ranges(key: &str, entries: &[String]) -> Result<Vec<IpRange>, ConfigError> {
    entries
        .iter()
        .map(|entry| {
            IpRange::parse(entry).ok_or_else(|| {
                invalid(key, format!("`{entry}` is not an IP address or CIDR range"))
            })
        })
        .collect()
}

fn validate_throttle(
    file: Option<FileSuspiciousIpThrottling>,
) -> Result<ThrottlePolicy, ConfigError> {
    const KEY: &str = "attack_protection.suspicious_ip_throttling";
    let defaults = ThrottlePolicy::default();
    let Some(t) = file else {
        return Ok(defaults);
    };
    let shields = t
        .shields
        .unwrap_or_else(|| vec!["block".to_owned(), "admin_notification".to_owned()]);
    if let Some(s) = shields
        .iter()
        .find(|s| !["block", "admin_notification"].contains(&s.as_str()))
    {
        return Err(invalid(
            format!("{KEY}.shields"),
            format!("`{s}` is not one of block, admin_notification"),
        ));
    }
    let bucket =
        |name: &str, file: Option<FileBucket>, default: Bucket| -> Result<Bucket, ConfigError> {
            let Some(b) = file else { return Ok(default) };
            if b.max_attempts == 0 || b.rate <= 0 {
                return Err(invalid(
                    format!("{KEY}.stage.{name}"),
                    "max_attempts and rate must be positive",
                ));
            }
            Ok(Bucket {
                max_attempts: b.max_attempts,
                rate_millis: b.rate,
            })
        };
    Ok(ThrottlePolicy {
        enabled: t.enabled.unwrap_or(defaults.enabled),
        block: shields.iter().any(|s| s == "block"),
        notify_admin: shields.iter().any(|s| s == "admin_notification"),
        allowlist: ip_ranges(&format!("{KEY}.allowlist"), &t.allowlist)?,
        pre_login: bucket("pre-login", t.stage.pre_login, defaults.pre_login)?,
        pre_user_registration: bucket(
            "pre-user-registration",
            t.stage.pre_user_registration,
            defaults.pre_user_registration,
        )?,
    })
}

fn validate_brute_force(
    file: Option<FileBruteForceProtection>,
) -> Result<BruteForcePolicy, ConfigError> {
    const KEY: &str = "attack_protection.brute_force_protection";
    let Some(b) = file else {
        return Ok(BruteForcePolicy::default());
    };
    let defaults = BruteForcePolicy::default();
    let shields = b
        .shields
        .unwrap_or_else(|| vec!["block".to_owned(), "user_notification".to_owned()]);
    if let Some(s) = shields
        .iter()
        .find(|s| !["block", "user_notification"].contains(&s.as_str()))
    {
        return Err(invalid(
            format!("{KEY}.shields"),
            format!("`{s}` is not one of block, user_notification"),
        ));
    }
    let mode = match b.mode.as_deref() {
        None | Some("count_per_identifier_and_ip") => CountingMode::PerIdentifierAndIp,
        Some("count_per_identifier") => CountingMode::PerIdentifier,
        Some(other) => {
            return Err(invalid(
                format!("{KEY}.mode"),
                format!(
                    "`{other}` is not one of count_per_identifier_and_ip, count_per_identifier"
                ),
            ));
        }
    };
    let max_attempts = b.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if !(1..=MAX_MAX_ATTEMPTS).contains(&max_attempts) {
        return Err(invalid(
            format!("{KEY}.max_attempts"),
            format!("must be between 1 and {MAX_MAX_ATTEMPTS}"),
        ));
    }
    let allowlist = b
        .allowlist
        .iter()
        .map(|entry| {
            IpRange::parse(entry).ok_or_else(|| {
                invalid(
                    format!("{KEY}.allowlist"),
                    format!("`{entry}` is not an IP address or CIDR range"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BruteForcePolicy {
        enabled: b.enabled.unwrap_or(defaults.enabled),
        block: shields.iter().any(|s| s == "block"),
        notify_user: shields.iter().any(|s| s == "user_notification"),
        max_attempts,
        mode,
        allowlist,
    })
}

fn validate_mail(
    file: Option<FileEmailProvider>,
    data_dir: &Path,
) -> Result<MailConfig, ConfigError> {
    const KEY: &str = "email_provider";
    let outbox = || MailTransport::Outbox(data_dir.join("outbox"));
    let Some(p) = file else {
        return Ok(MailConfig {
            from: "Portcullis <no-reply@localhost>".to_owned(),
            transport: outbox(),
        });
    };
    let from = p
        .default_from_address
        .unwrap_or_else(|| "no-reply@localhost".to_owned());
    if !from.contains('@') {
        return Err(invalid(
            format!("{KEY}.default_from_address"),
            "must be an e-mail address",
        ));
    }
    let transport = match (p.enabled, p.name.as_str()) {
        (Some(false), _) => MailTransport::Disabled,
        (_, "outbox") => outbox(),
        (_, "smtp") => {
            let c = p.credentials.ok_or_else(|| {
                invalid(
                    format!("{KEY}.credentials"),
                    "name = \"smtp\" needs credentials = { smtp_host = … }",
                )
            })?;
            let tls = match c.tls.as_deref() {
                None if c.smtp_port == Some(465) => SmtpTls::Implicit,
                None | Some("starttls") => SmtpTls::StartTls,
                Some("tls") => SmtpTls::Implicit,
                Some("none") => SmtpTls::None,
                Some(other) => {
                    return Err(invalid(
                        format!("{KEY}.credentials.tls"),
                        format!("`{other}` is not one of starttls, tls, none"),
                    ));
                }
            };
            let port = c.smtp_port.unwrap_or(match tls {
                SmtpTls::Implicit => 465,
                SmtpTls::StartTls => 587,
                SmtpTls::None => 25,
            });
            MailTransport::Smtp {
                host: c.smtp_host,
                port,
                user: c.smtp_user,
                pass: c.smtp_pass,
                tls,
            }
        }
        (_, other) => {
            return Err(invalid(
                format!("{KEY}.name"),
                format!("`{other}` is not one of smtp, outbox"),
            ));
        }
    };
    Ok(MailConfig { from, transport })
}

fn validate_breach(
    file: Option<FileBreachedPasswordDetection>,
) -> Result<(BreachPolicy, BreachSource), ConfigError> {
    const KEY: &str = "attack_protection.breached_password_detection";
    let Some(b) = file else {
        return Ok((BreachPolicy::default(), BreachSource::Corpus(None)));
    };
    let check = |field: &str, values: &[String], allowed: &[&str]| -> Result<(), ConfigError> {
        match values.iter().find(|v| !allowed.contains(&v.as_str())) {
            Some(v) => Err(invalid(
                format!("{KEY}.{field}"),
                format!("`{v}` is not one of {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    };
    check(
        "shields",
        &b.shields,
        &["block", "user_notification", "admin_notification"],
    )?;
    check(
        "admin_notification_frequency",
        &b.admin_notification_frequency,
        &["immediately", "daily", "weekly", "monthly"],
    )?;
    let stage_shields =
        |s: &Option<FileStageShields>| s.as_ref().map(|s| s.shields.clone()).unwrap_or_default();
    let signup = stage_shields(&b.stage.pre_user_registration);
    let change = stage_shields(&b.stage.pre_change_password);
    check(
        "stage.pre-user-registration.shields",
        &signup,
        &["block", "admin_notification"],
    )?;
    check(
        "stage.pre-change-password.shields",
        &change,
        &["block", "admin_notification"],
    )?;
    let has = |list: &[String], s: &str| list.iter().any(|v| v == s);
    let mut fail_open = false;
    let source = match b.method.as_deref().unwrap_or("standard") {
        "standard" | "enhanced" => {
            if b.range_api.is_some() {
                return Err(invalid(
                    format!("{KEY}.range_api"),
                    "only used with method = \"range_api\"",
                ));
            }
            BreachSource::Corpus(b.corpus)
        }
        "range_api" => {
            let api = b.range_api.ok_or_else(|| {
                invalid(
                    format!("{KEY}.range_api"),
                    "method = \"range_api\" needs range_api = { url = \"…\" }",
                )
            })?;
            if !(api.url.starts_with("https://") || api.url.starts_with("http://")) {
                return Err(invalid(
                    format!("{KEY}.range_api.url"),
                    "must be an http(s) URL",
                ));
            }
            fail_open = api.fail_open.unwrap_or(false);
            BreachSource::RangeApi {
                url: api.url,
                timeout_ms: api.timeout_ms.unwrap_or(2_000),
            }
        }
        other => {
            return Err(invalid(
                format!("{KEY}.method"),
                format!("`{other}` is not one of standard, enhanced, range_api"),
            ));
        }
    };
    let policy = BreachPolicy {
        enabled: b.enabled,
        block_login: has(&b.shields, "block"),
        notify_user: has(&b.shields, "user_notification"),
        notify_admin: has(&b.shields, "admin_notification"),
        block_signup: has(&signup, "block"),
        block_password_change: has(&change, "block"),
        notify_admin_signup: has(&signup, "admin_notification"),
        notify_admin_password_change: has(&change, "admin_notification"),
        fail_open,
    };
    Ok((policy, source))
}

const KNOWN_GRANT_TYPES: &[&str] = &[
    grant::AUTHORIZATION_CODE,
    grant::IMPLICIT,
    grant::REFRESH_TOKEN,
    grant::CLIENT_CREDENTIALS,
    grant::PASSWORD,
    grant::PASSWORD_REALM,
    "http://auth0.com/oauth/grant-type/mfa-oob",
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// Auth0's Dashboard defaults by application type.
fn default_grant_types(app_type: Option<&str>, confidential: bool) -> Vec<String> {
    let list: &[&str] = match app_type {
        Some("non_interactive") => &[grant::CLIENT_CREDENTIALS],
        Some("spa") | Some("native") => &[
            grant::AUTHORIZATION_CODE,
            grant::IMPLICIT,
            grant::REFRESH_TOKEN,
        ],
        _ if confidential => &[
            grant::AUTHORIZATION_CODE,
            grant::IMPLICIT,
            grant::REFRESH_TOKEN,
            grant::CLIENT_CREDENTIALS,
        ],
        _ => &[
            grant::AUTHORIZATION_CODE,
            grant::IMPLICIT,
            grant::REFRESH_TOKEN,
        ],
    };
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../portcullis.example.toml");

    #[test]
    fn example_config_is_valid() {
        let file = FileConfig::from_toml_str(EXAMPLE).expect("parses");
        let config = Config::validate(file).expect("validates");
        assert_eq!(config.issuer, "http://127.0.0.1:3000/");
        assert_eq!(
            config.management_audience(),
            "http://127.0.0.1:3000/api/v2/"
        );
        assert!(
            config
                .client("backend")
                .is_some_and(Client::is_confidential)
        );
        assert!(!config.client("my-spa").is_some_and(Client::is_confidential));
        assert!(
            config
                .connection("closed")
                .is_some_and(|c| c.disable_signup)
        );
    }

    #[test]
    fn the_example_with_tls_keeps_its_management_api_grant() {
        let mut file = FileConfig::from_toml_str(EXAMPLE).expect("parses");
        file.tls = Some(FileTls::Mode("self-signed".to_owned()));
        let config = Config::validate(file).expect("validates");
        assert_eq!(
            config.management_audience(),
            "https://127.0.0.1:3000/api/v2/"
        );
        assert!(
            config
                .client_grant("backend", "https://127.0.0.1:3000/api/v2/")
                .is_some()
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let err = FileConfig::from_toml_str(
            "listen = \"127.0.0.1:1\"\ndata_dir = \"x\"\n[tenant]\ncolour = 1\n",
        )
        .expect_err("unknown key");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn bad_policy_is_named() {
        let file = FileConfig::from_toml_str(
            "listen = \"127.0.0.1:1\"\ndata_dir = \"x\"\n[[connections]]\nname = \"a\"\n[connections.options]\npasswordPolicy = \"strong\"\n",
        )
        .expect("parses");
        let err = Config::validate(file).expect_err("bad policy");
        assert!(
            err.to_string()
                .contains("connections[0].options.passwordPolicy"),
            "{err}"
        );
    }
}
