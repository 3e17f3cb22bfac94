//! Parse-only newtypes for what identifies a user. Their constructors validate, so a value of
//! these types is always acceptable to the store.

use crate::secret::fill_random;

/// Longest e-mail accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LENGTH: usize = 254;

/// A syntactically acceptable e-mail address, lower-cased as Auth0 database connections store it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Auth0 is lenient (`hello@hello` is accepted): one `@`, a local part of 1–64 characters, a
    /// domain of 1–253, no whitespace or control characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let value = raw.trim();
        if value.is_empty() || value.len() > MAX_EMAIL_LENGTH {
            return None;
        }
        let (local, domain) = value.rsplit_once('@')?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && !domain.is_empty()
            && domain.len() <= 253
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && !local.contains('@');
        ok.then(|| Self(value.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or(&self.0)
    }
}

/// Why a username was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameProblem {
    Length { min: u32, max: u32 },
    Characters,
}

/// A username of a database connection: case-insensitive, stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Letters, digits and `_ + - . ! # $ ' ^ \` ~` (Auth0's database default), `min..=max` long.
    pub fn parse(raw: &str, min: u32, max: u32) -> Result<Self, UsernameProblem> {
        let length = raw.chars().count();
        if length < min as usize || length > max as usize {
            return Err(UsernameProblem::Length { min, max });
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "_+-.!#$'^`~".contains(c);
        if !raw.chars().all(allowed) {
            return Err(UsernameProblem::Characters);
        }
        Ok(Self(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new database user id: 24 hex characters like Auth0's (a MongoDB ObjectId: 4 bytes of
/// seconds, then 8 random bytes), so ids sort roughly by creation.
pub fn new_user_id(now_secs: i64) -> String {
    let mut bytes = [0u8; 12];
    let secs = u32::try_from(now_secs.max(0)).unwrap_or(u32::MAX);
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    fill_random(&mut bytes[4..]);
    hex::encode(bytes)
}

/// The provider prefix of database users' ids: `auth0|<id>`.
pub const DATABASE_PROVIDER: &str = "auth0";

/// Splits `auth0|<id>` into the bare id; other providers are not ours.
pub fn parse_user_id(user_id: &str) -> Option<&str> {
    let (provider, id) = user_id.split_once('|')?;
    (provider == DATABASE_PROVIDER && !id.is_empty() && id.len() <= 64).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Jane.Doe@Example.COM ").map(|e| e.0),
            Some("jane.doe@example.com".into())
        );
        assert!(Email::parse("hello@hello").is_some());
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a b@example.com",
            "a@b@c",
            "a@.com",
            "a@com.",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_none());
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(300))).is_none());
    }

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse("John_Doe", 1, 15).map(|u| u.0),
            Ok("john_doe".into())
        );
        assert_eq!(
            Username::parse("", 1, 15),
            Err(UsernameProblem::Length { min: 1, max: 15 })
        );
        assert_eq!(
            Username::parse(&"a".repeat(16), 1, 15),
            Err(UsernameProblem::Length { min: 1, max: 15 })
        );
        assert_eq!(
            Username::parse("a b", 1, 15),
            Err(UsernameProblem::Characters)
        );
        assert_eq!(
            Username::parse("a@b", 1, 15),
            Err(UsernameProblem::Characters)
        );
    }

    #[test]
    fn user_ids() {
        let id = new_user_id(1_700_000_000);
        assert_eq!(id.len(), 24);
        assert!(id.starts_with("6553f100"));
        assert_eq!(parse_user_id(&format!("auth0|{id}")), Some(id.as_str()));
        assert_eq!(parse_user_id("google-oauth2|1"), None);
        assert_eq!(parse_user_id("auth0|"), None);
    }

    proptest! {
        #[test]
        fn parsed_emails_are_lowercase_and_bounded(raw in ".{0,300}") {
            if let Some(e) = Email::parse(&raw) {
                prop_assert!(e.as_str().len() <= MAX_EMAIL_LENGTH * 2);
                prop_assert_eq!(e.as_str(), e.as_str().to_lowercase());
                prop_assert!(e.as_str().contains('@'));
            }
        }
    }
}
