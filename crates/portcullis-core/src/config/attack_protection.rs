//! `[attack_protection]`: brute-force protection, suspicious-IP throttling and breached-password
//! detection, and the address ranges they (and `trusted_proxies`) name.

use super::file::{
    FileBreachedPasswordDetection, FileBruteForceProtection, FileBucket, FileStageShields,
    FileSuspiciousIpThrottling,
};
use super::{BreachSource, ConfigError, invalid};
use crate::attack::breach::BreachPolicy;
use crate::attack::brute_force::{
    BruteForcePolicy, CountingMode, DEFAULT_MAX_ATTEMPTS, IpRange, MAX_MAX_ATTEMPTS,
};
use crate::attack::throttle::{Bucket, ThrottlePolicy};

pub(super) fn ip_ranges(key: &str, entries: &[String]) -> Result<Vec<IpRange>, ConfigError> {
    entries
        .iter()
        .map(|entry| {
            IpRange::parse(entry).ok_or_else(|| {
                invalid(key, format!("`{entry}` is not an IP address or CIDR range"))
            })
        })
        .collect()
}

pub(super) fn validate_throttle(
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

pub(super) fn validate_brute_force(
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

pub(super) fn validate_breach(
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
