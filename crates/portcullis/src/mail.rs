//! Delivering mail with lettre: SMTP (STARTTLS, implicit TLS, or plain for a local relay), or
//! `.eml` files in a folder — the zero-set-up default a developer can open. A file appears whole:
//! it is written under a hidden name and renamed, so a reader never sees half a message.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use portcullis_core::config::{MailConfig, MailTransport, SmtpTls};
use portcullis_core::mail::{Mail, MailError, Mailer};

#[derive(Debug)]
enum Transport {
    Outbox(PathBuf),
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
            Transport::Outbox(dir.clone())
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
            Transport::Outbox(dir) => write_whole(dir, &message.formatted())
                .await
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

/// Writes one message into the outbox as `<nanoseconds>-<sequence>.eml` (names sort by sending
/// order), first under a hidden name and then renamed, so the file is never seen half-written.
async fn write_whole(dir: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let name = format!("{nanos}-{}", SEQUENCE.fetch_add(1, Ordering::Relaxed));
    let partial = dir.join(format!(".{name}.part"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, dir.join(format!("{name}.eml"))).await
}
