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

/// Told when a user's correct password is found in a breach (`user_notification` shield).
pub fn breached_password_notice(tenant_name: &str, email: &str) -> Mail {
    Mail {
        to: email.to_owned(),
        subject: format!("{tenant_name}: your password was found in a data breach"),
        text: format!(
            "Hello,\n\n\
             Someone just logged in to your {tenant_name} account ({email}) with your correct password, \
             and that password appears in a public data breach of another website.\n\n\
             To protect your account, the login was blocked. Please change your password, and \
             change it on every other site where you used it.\n\n\
             If this was not you, someone else knows your password.\n"
        ),
    }
}
