//! The password options of a database connection beyond the strength policy — Auth0's
//! `password_dictionary`, `password_no_personal_info` and `password_history` — and the order in
//! which every check runs, so that the error Auth0 would give wins when several fail.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::policy::{PasswordPolicy, PolicyReport};

/// Auth0's default dictionary: the 10,000 most common passwords (see `data/README.md`).
const DEFAULT_DICTIONARY_TEXT: &str = include_str!("../../data/common-passwords-10k.txt");

static DEFAULT_DICTIONARY: LazyLock<HashSet<String>> = LazyLock::new(|| {
    DEFAULT_DICTIONARY_TEXT
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_lowercase)
        .collect()
});

/// How many entries the default dictionary has (for documentation and tests).
pub fn default_dictionary_len() -> usize {
    DEFAULT_DICTIONARY.len()
}

/// A connection's checks, built once from its options.
#[derive(Debug, Clone, Default)]
pub struct PasswordRules {
    pub policy: Option<PasswordPolicy>,
    /// `Some` when `password_dictionary.enable`: the connection's own words, lower-cased,
    /// checked on top of the default dictionary.
    pub dictionary: Option<HashSet<String>>,
    pub no_personal_info: bool,
    /// `password_history.size` when enabled: the new password may not be any of the last N.
    pub history_size: Option<u32>,
}

/// Why a new password was refused, in Auth0's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRejection {
    TooWeak {
        report: PolicyReport,
        policy: String,
    },
    TooCommon,
    ContainsUserInfo,
}

/// The profile fields Auth0's `password_no_personal_info` compares against (Auth0 "Password
/// options": name, username, nickname, `user_metadata.name|first|last`, and the part of the
/// e-mail before the `@`).
#[derive(Debug, Clone, Default)]
pub struct PersonalInfo<'a> {
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    pub name: Option<&'a str>,
    pub nickname: Option<&'a str>,
    pub user_metadata: Option<&'a Map<String, Value>>,
}

/// Personal values shorter than this are not looked for inside passwords: a one- or
/// two-letter nickname would refuse half of all passwords.
const MIN_PERSONAL_VALUE_CHARS: usize = 3;

impl PersonalInfo<'_> {
    /// The lower-cased values a password must not contain. Each value counts whole, as
    /// Auth0 matches it: `john.doe@…` refuses "xjohn.doe1" but not "johndoe" or "john".
    fn values(&self) -> Vec<String> {
        let mut values: Vec<&str> = Vec::new();
        if let Some((local, _)) = self.email.and_then(|e| e.split_once('@')) {
            values.push(local);
        }
        values.extend(self.username);
        values.extend(self.name);
        values.extend(self.nickname);
        if let Some(meta) = self.user_metadata {
            for key in ["name", "first", "last"] {
                if let Some(Value::String(v)) = meta.get(key) {
                    values.push(v);
                }
            }
        }
        values
            .into_iter()
            .map(|v| v.trim().to_lowercase())
            .filter(|v| v.chars().count() >= MIN_PERSONAL_VALUE_CHARS)
            .collect()
    }
}

impl PasswordRules {
    /// The checks that need no stored data, in Auth0's order: strength policy, then dictionary,
    /// then personal information. (History and breach detection follow in the flows.)
    pub fn check(&self, password: &str, info: &PersonalInfo<'_>) -> Result<(), PasswordRejection> {
        if let Some(policy) = &self.policy {
            policy
                .check(password)
                .map_err(|report| PasswordRejection::TooWeak {
                    report,
                    policy: policy.describe(),
                })?;
        }
        if let Some(custom) = &self.dictionary {
            let lowered = password.to_lowercase();
            if DEFAULT_DICTIONARY.contains(&lowered) || custom.contains(&lowered) {
                return Err(PasswordRejection::TooCommon);
            }
        }
        if self.no_personal_info {
            let lowered = password.to_lowercase();
            if info.values().iter().any(|v| lowered.contains(v.as_str())) {
                return Err(PasswordRejection::ContainsUserInfo);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::policy::PolicyLevel;

    fn rules() -> PasswordRules {
        PasswordRules {
            policy: Some(PasswordPolicy::new(PolicyLevel::Low, None)),
            dictionary: Some(["portcullis".to_owned()].into_iter().collect()),
            no_personal_info: true,
            history_size: None,
        }
    }

    #[test]
    fn the_default_dictionary_is_shipped() {
        assert!(
            default_dictionary_len() >= 9_000,
            "{}",
            default_dictionary_len()
        );
        assert!(DEFAULT_DICTIONARY.contains("password"));
        assert!(DEFAULT_DICTIONARY.contains("123456"));
    }

    #[test]
    fn dictionary_is_whole_password_and_case_insensitive() {
        let info = PersonalInfo::default();
        assert_eq!(
            rules().check("PassWord", &info),
            Err(PasswordRejection::TooCommon)
        );
        assert_eq!(
            rules().check("Portcullis", &info),
            Err(PasswordRejection::TooCommon)
        );
        assert_eq!(rules().check("password-but-longer-and-rare", &info), Ok(()));
    }

    #[test]
    fn personal_info_is_a_case_insensitive_substring() {
        let meta: Map<String, Value> = serde_json::json!({"first": "Gwendolyn"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let info = PersonalInfo {
            email: Some("jane.doe@example.com"),
            username: Some("jdoe77"),
            nickname: Some("jd"),
            user_metadata: Some(&meta),
            ..PersonalInfo::default()
        };
        for refused in [
            "xJane.Doe!",
            "my-JDOE77-pw",
            "gwendolyn1",
            "jane.doe@example.com",
        ] {
            assert_eq!(
                rules().check(refused, &info),
                Err(PasswordRejection::ContainsUserInfo),
                "{refused}"
            );
        }
        // Parts of a value are not refused.
        assert_eq!(rules().check("janedoe-42", &info), Ok(()));
        // Too-short values (the two-letter nickname) are not looked for.
        assert_eq!(rules().check("jd-is-fine-here", &info), Ok(()));
    }

    #[test]
    fn strength_is_checked_first() {
        let info = PersonalInfo {
            username: Some("abcdef"),
            ..PersonalInfo::default()
        };
        assert!(matches!(
            rules().check("abc", &info),
            Err(PasswordRejection::TooWeak { .. })
        ));
    }
}
