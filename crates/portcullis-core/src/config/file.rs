//! The configuration file's model: Auth0's object and field names, read with
//! `deny_unknown_fields` so that a typo stops the server at start with the key named, and
//! overlaid from the environment (`PORTCULLIS_…`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use super::{ConfigError, ENV_PREFIX};

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
