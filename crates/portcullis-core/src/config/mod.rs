//! The tenant's configuration: a TOML file whose objects and field names are Auth0's
//! (`clients`, `client_grants`, `resource_servers`, `connections[].options`), overlaid from the
//! environment, then validated into the runtime [`Config`] that is passed down.
//!
//! The file model ([`FileConfig`]) is read with `deny_unknown_fields` so that a typo stops the
//! server at start with the key named; the runtime model ([`Config`]) holds only checked values.
//!
//! Split by what it reads: the file format (`file`), and one validator per tenant section
//! (`clients`, `connections`, `attack_protection`, `tenant`); the server's own settings
//! (addresses, TLS, issuer, store) are checked here.

mod attack_protection;
mod clients;
mod connections;
mod file;
mod tenant;

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use attack_protection::{ip_ranges, validate_breach, validate_brute_force, validate_throttle};
pub use file::*;
use tenant::{
    validate_branding, validate_guardian, validate_mail, validate_scripts, validate_templates,
};

use crate::actions::{Script, ScriptLimits};
use crate::attack::breach::BreachPolicy;
use crate::attack::brute_force::{BruteForcePolicy, IpRange};
use crate::attack::throttle::ThrottlePolicy;
use crate::mail::EmailTemplates;
use crate::mfa::MfaPolicy;
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

        let (clients, client_ids) = clients::validate_clients(file.clients)?;
        let resource_servers = clients::validate_resource_servers(file.resource_servers)?;
        let connections = connections::validate_connections(
            file.connections,
            &client_ids,
            file.tenant.default_directory.as_deref(),
        )?;

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
        config.client_grants =
            clients::validate_client_grants(&config, file.client_grants, &client_ids)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../../portcullis.example.toml");

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
