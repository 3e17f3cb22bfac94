//! A database-connection user as stored, and Auth0's normalised-profile defaults.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::identity::DATABASE_PROVIDER;

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    /// The bare id (24 hex); the user's `user_id` is `auth0|<id>`.
    pub id: String,
    pub connection: String,
    /// Lower-cased.
    pub email: String,
    pub email_verified: bool,
    /// Lower-cased; only on connections with usernames.
    pub username: Option<String>,
    pub password_hash: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: String,
    pub nickname: String,
    pub picture: String,
    pub user_metadata: Map<String, Value>,
    pub app_metadata: Map<String, Value>,
    /// `None` until an administrator sets it, as Auth0 omits `blocked` until then.
    pub blocked: Option<bool>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login: Option<i64>,
    pub last_ip: Option<String>,
    pub logins_count: i64,
    pub last_password_reset: Option<i64>,
    /// Optimistic-concurrency version, bumped by every replace.
    pub version: i64,
}

impl UserRecord {
    pub fn user_id(&self) -> String {
        format!("{DATABASE_PROVIDER}|{}", self.id)
    }
    pub fn is_blocked(&self) -> bool {
        self.blocked == Some(true)
    }
}

/// Auth0's default `picture`: the Gravatar of the e-mail, falling back to an avatar of the
/// name's first two letters.
pub fn default_picture(email: &str, name: &str) -> String {
    let digest = Md5::digest(email.trim().to_lowercase().as_bytes());
    let initials: String = name
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(2)
        .collect::<String>()
        .to_lowercase();
    let initials = if initials.is_empty() {
        "us".to_owned()
    } else {
        initials
    };
    format!(
        "https://s.gravatar.com/avatar/{}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{initials}.png",
        hex::encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gravatar_picture() {
        let p = default_picture("Jane@Example.com", "jane@example.com");
        assert!(p.starts_with("https://s.gravatar.com/avatar/"));
        assert!(p.ends_with("%2Fja.png"), "{p}");
    }
}
