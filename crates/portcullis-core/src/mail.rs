//! Mail to users (breach notifications; later reset, verification and unblock links). The
//! domain composes messages; a [`Mailer`] delivers them — SMTP in production, a folder of
//! `.eml` files as the zero-set-up default.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address {0}")]
    Address(String),
    #[error("mail delivery failed: {0}")]
    Delivery(String),
}

#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Auth0's email template names this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateName {
    VerifyEmail,
    ResetEmail,
    WelcomeEmail,
    BlockedAccount,
    StolenCredentials,
    EnrollmentEmail,
}

impl TemplateName {
    pub const ALL: [TemplateName; 6] = [
        Self::VerifyEmail,
        Self::ResetEmail,
        Self::WelcomeEmail,
        Self::BlockedAccount,
        Self::StolenCredentials,
        Self::EnrollmentEmail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetEmail => "reset_email",
            Self::WelcomeEmail => "welcome_email",
            Self::BlockedAccount => "blocked_account",
            Self::StolenCredentials => "stolen_credentials",
            Self::EnrollmentEmail => "enrollment_email",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    fn default_subject(self) -> &'static str {
        match self {
            Self::VerifyEmail => "Verify your email",
            Self::ResetEmail => "Reset your password",
            Self::WelcomeEmail => "Welcome to {{ friendly_name }}",
            Self::BlockedAccount => "Your account has been blocked",
            Self::StolenCredentials => "Your password was found in a data breach",
            Self::EnrollmentEmail => "Set up multi-factor authentication",
        }
    }

    fn default_body(self) -> &'static str {
        match self {
            Self::VerifyEmail => {
                "Hello,\n\nPlease verify the email address of your {{ friendly_name }} account ({{ user.email }}) \
                 by opening this link:\n{{ url }}\n\nIf you did not create an account, ignore this message.\n"
            }
            Self::ResetEmail => {
                "Hello,\n\nSomeone asked to reset the password of your {{ friendly_name }} account ({{ user.email }}).\n\
                 To choose a new password, open this link:\n{{ url }}\n\nIf it was not you, ignore this message: \
                 your password has not changed.\n"
            }
            Self::WelcomeEmail => {
                "Hello,\n\nWelcome to {{ friendly_name }}! Your account {{ user.email }} is ready.\n"
            }
            Self::BlockedAccount => {
                "Hello,\n\nYour {{ friendly_name }} account ({{ user.email }}) was blocked after several consecutive \
                 failed login attempts.\n\nIf it was you, open this link to unblock it (it works once):\n{{ url }}\n\n\
                 If it was not you, someone may be trying to guess your password; consider changing it.\n"
            }
            Self::StolenCredentials => {
                "Hello,\n\nSomeone just logged in to your {{ friendly_name }} account ({{ user.email }}) with your \
                 correct password, and that password appears in a public data breach of another website.\n\n\
                 Please change your password, and change it on every other site where you used it.\n"
            }
            Self::EnrollmentEmail => {
                "Hello,\n\nYou have been invited to protect your {{ friendly_name }} account ({{ user.email }}) \
                 with an authenticator app. Open this link to set it up:\n{{ url }}\n"
            }
        }
    }
}

/// A template as configured (Auth0's `subject` and `body`, with `{{ … }}` placeholders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTemplate {
    /// `None` keeps the default.
    pub subject: Option<String>,
    pub body: Option<String>,
    pub enabled: bool,
}

/// The tenant's templates: Auth0's defaults, overridden from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailTemplates {
    overrides: std::collections::HashMap<&'static str, EmailTemplate>,
}

impl EmailTemplates {
    pub fn set(&mut self, name: TemplateName, template: EmailTemplate) {
        self.overrides.insert(name.as_str(), template);
    }

    /// Checks that a template renders (at configuration time).
    pub fn validate(template: &EmailTemplate) -> Result<(), String> {
        let env = minijinja::Environment::new();
        for source in [&template.subject, &template.body].into_iter().flatten() {
            env.template_from_str(source).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The mail for `name` to `to`, or `None` when the template is disabled.
    pub fn render(
        &self,
        name: TemplateName,
        to: &str,
        vars: &serde_json::Value,
    ) -> Result<Option<Mail>, MailError> {
        let (subject, body) = match self.overrides.get(name.as_str()) {
            Some(t) if !t.enabled => return Ok(None),
            Some(t) => (
                t.subject.as_deref().unwrap_or(name.default_subject()),
                t.body.as_deref().unwrap_or(name.default_body()),
            ),
            None => (name.default_subject(), name.default_body()),
        };
        let env = minijinja::Environment::new();
        let render = |source: &str| {
            env.render_str(
                source,
                minijinja::Value::from(minijinja::value::Serde(vars)),
            )
            .map_err(|e| MailError::Delivery(format!("template {}: {e}", name.as_str())))
        };
        Ok(Some(Mail {
            to: to.to_owned(),
            subject: render(subject)?,
            text: render(body)?,
        }))
    }
}
