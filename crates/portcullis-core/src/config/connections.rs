//! Database connections: `[[connections]]` with Auth0's options.

use std::collections::HashSet;

use super::file::FileConnection;
use super::{
    ConfigError, Connection, DEFAULT_PASSWORD_HISTORY_SIZE, MAX_PASSWORD_HISTORY_SIZE, invalid,
};
use crate::password::policy::{PasswordPolicy, PolicyLevel};
use crate::password::rules::PasswordRules;

/// The `[[connections]]`: every option checked, `enabled_clients` naming known clients, and
/// the tenant's `default_directory` naming one of them.
pub(super) fn validate_connections(
    files: Vec<FileConnection>,
    client_ids: &HashSet<String>,
    default_directory: Option<&str>,
) -> Result<Vec<Connection>, ConfigError> {
    let mut connections = Vec::new();
    let mut names = HashSet::new();
    for (i, c) in files.into_iter().enumerate() {
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
                if !client_ids.contains(id) {
                    return Err(invalid(
                        format!("connections[{i}].enabled_clients"),
                        format!("no client has client_id `{id}`"),
                    ));
                }
            }
        }
    }

    if let Some(dir) = default_directory
        && !names.contains(dir)
    {
        return Err(invalid(
            "tenant.default_directory",
            format!("no connection is named `{dir}`"),
        ));
    }
    Ok(connections)
}
