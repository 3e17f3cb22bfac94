//! Delivering mail with lettre: SMTP (STARTTLS, implicit TLS, or plain for a local relay), or
//! `.eml` files in a folder — the zero-set-up default a developer can open.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use portcullis_core::config::{MailConfig, MailTransport, SmtpTls};
use portcullis_core::mail::{Mail, MailError, Mailer};

#[derive(Debug)]
enum Transport {
    Outbox(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Disabled,
}

#[derive(Debug)]
pub struct LettreMailer {
    from: Mailbox,
    transport: Transport,
}

pub fn mailer_for(config: &MailConfig) -> anyhow::Result<Arc<dyn Mailer>> {
    let from: Mailbox = config.from.parse().with_context(|| {
        format!(
            "email_provider.default_from_address: `{}` is not an address",
            config.from
        )
    })?;
    let transport = match &config.transport {
        MailTransport::Disabled => Transport::Disabled,
        MailTransport::Outbox(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the mail outbox {}", dir.display()))?;
            Transport::Outbox(AsyncFileTransport::<Tokio1Executor>::new(dir))
        }
        MailTransport::Smtp {
            host,
            port,
            user,
            pass,
            tls,
        } => {
            let builder = match tls {
                SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                    .with_context(|| format!("email_provider.credentials.smtp_host: {host}"))?,
                SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                    .with_context(|| format!("email_provider.credentials.smtp_host: {host}"))?,
                SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            };
            let builder = builder.port(*port);
            let builder = match (user, pass) {
                (Some(u), Some(p)) => builder.credentials(Credentials::new(u.clone(), p.clone())),
                _ => builder,
            };
            Transport::Smtp(builder.build())
        }
    };
    Ok(Arc::new(LettreMailer { from, transport }))
}

#[async_trait]
impl Mailer for LettreMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.clone()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Delivery(e.to_string()))?;
        match &self.transport {
            Transport::Outbox(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Delivery(e.to_string())),
            Transport::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Delivery(e.to_string())),
            Transport::Disabled => Ok(()),
        }
    }
}
