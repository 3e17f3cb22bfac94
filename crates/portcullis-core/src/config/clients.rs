//! Applications and the APIs they ask tokens for: `[[clients]]`, `[[resource_servers]]` and
//! `[[client_grants]]`.

use std::collections::HashSet;

use super::file::{FileClient, FileClientGrant, FileRefreshToken, FileResourceServer};
use super::{
    Client, ClientGrant, Config, ConfigError, DEFAULT_ACCESS_TOKEN_LIFETIME,
    DEFAULT_ID_TOKEN_LIFETIME, ResourceServer, grant, invalid,
};
use crate::refresh::RefreshPolicy;
use crate::secret::SecretDigest;

/// The `[[clients]]`, and the set of their ids.
pub(super) fn validate_clients(
    files: Vec<FileClient>,
) -> Result<(Vec<Client>, HashSet<String>), ConfigError> {
    let mut clients = Vec::with_capacity(files.len());
    let mut seen = HashSet::new();
    for (i, c) in files.into_iter().enumerate() {
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
        if grant_types.iter().any(|g| g == grant::CLIENT_CREDENTIALS) && c.client_secret.is_none() {
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
    Ok((clients, seen))
}

/// The `[[resource_servers]]` (the APIs tokens may be issued for).
pub(super) fn validate_resource_servers(
    files: Vec<FileResourceServer>,
) -> Result<Vec<ResourceServer>, ConfigError> {
    let mut resource_servers = Vec::new();
    for (i, r) in files.into_iter().enumerate() {
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
    Ok(resource_servers)
}

/// The `[[client_grants]]`: each for a known client and an API of `config`, once.
pub(super) fn validate_client_grants(
    config: &Config,
    files: Vec<FileClientGrant>,
    client_ids: &HashSet<String>,
) -> Result<Vec<ClientGrant>, ConfigError> {
    let mut grants: Vec<ClientGrant> = Vec::new();
    for (i, g) in files.into_iter().enumerate() {
        let key = |field: &str| format!("client_grants[{i}].{field}");
        if !client_ids.contains(&g.client_id) {
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
        if grants
            .iter()
            .any(|x| x.client_id == g.client_id && x.audience == g.audience)
        {
            return Err(invalid(
                key("audience"),
                "a grant for this client and audience already exists",
            ));
        }
        grants.push(ClientGrant {
            client_id: g.client_id,
            audience: g.audience,
            scope: g.scope,
        });
    }
    Ok(grants)
}

/// `url` without its `http://` or `https://`.
pub(super) fn without_scheme(url: &str) -> &str {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url)
}

/// Auth0's refresh-token settings: rotating tokens must expire (30 days absolute, 15 days idle
/// by default); non-rotating ones default to never.
pub(super) fn refresh_policy(
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

pub(super) const KNOWN_GRANT_TYPES: &[&str] = &[
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
pub(super) fn default_grant_types(app_type: Option<&str>, confidential: bool) -> Vec<String> {
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
