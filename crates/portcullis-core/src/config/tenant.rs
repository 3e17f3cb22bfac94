//! The tenant's other sections: `[branding]`, `[email_provider]`, `[email_templates]`,
//! `[guardian]`, and the Actions and Rules with their `[extensibility]` limits.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::file::{
    FileAction, FileBranding, FileEmailProvider, FileEmailTemplate, FileExtensibility,
    FileGuardian, FileRule,
};
use super::{
    Branding, ConfigError, DEFAULT_PAGE_BACKGROUND, DEFAULT_PRIMARY_COLOR, MailConfig,
    MailTransport, SmtpTls, invalid,
};
use crate::actions::{Script, ScriptKind, ScriptLimits, Trigger};
use crate::mail::{EmailTemplate, EmailTemplates, TemplateName};
use crate::mfa::MfaPolicy;

pub(super) fn validate_guardian(file: Option<FileGuardian>) -> Result<MfaPolicy, ConfigError> {
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

pub(super) fn validate_scripts(
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

pub(super) fn validate_branding(
    file: FileBranding,
    tenant_name: &str,
) -> Result<Branding, ConfigError> {
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

pub(super) fn validate_templates(
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

pub(super) fn validate_mail(
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
