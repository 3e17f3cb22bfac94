//! Everything a flow needs, built once at start and passed down: no globals.

use std::sync::Arc;

use crate::attack::breach::BreachedPasswords;
use crate::clock::Clock;
use crate::config::Config;
use crate::logs::LogEvent;
use crate::mail::{Mailer, TemplateName};

/// Tries per mail before giving up.
const MAIL_ATTEMPTS: u32 = 3;
use crate::password::hasher::PasswordHasher;
use crate::store::Store;
use crate::tokens::KeyRing;

/// Work a request leaves to run after its answer (mail, notifications), counted so that a
/// caller can wait until none is left ([`BackgroundWork::settled`]).
#[derive(Debug, Default)]
pub struct BackgroundWork {
    running: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Counts one piece of background work as running until dropped (also on a panic).
struct Running(Arc<BackgroundWork>);

impl Drop for Running {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl BackgroundWork {
    /// Returns once no background work is running (work it starts itself included).
    pub async fn settled(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let idle = self.idle.notified();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Tenant {
    /// Runs `work` after the answer, counted in [`Tenant::background`].
    pub fn in_background(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.background
            .running
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let running = Running(self.background.clone());
        tokio::spawn(async move {
            let _running = running;
            work.await;
        });
    }

    /// Sends mail in the background: the request that caused it does not wait for (or fail
    /// with) delivery; a failure is logged.
    pub fn send_mail(&self, mail: crate::mail::Mail) {
        let mailer = self.mailer.clone();
        self.in_background(async move {
            // A few tries with backoff; then the failure is logged and dropped.
            for attempt in 1..=MAIL_ATTEMPTS {
                match mailer.send(&mail).await {
                    Ok(()) => return,
                    Err(e) if attempt == MAIL_ATTEMPTS => {
                        tracing::warn!(error = %e, to = %mail.to, "mail not delivered");
                    }
                    Err(e) => {
                        tracing::info!(error = %e, attempt, "mail delivery failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1 << (2 * attempt)))
                            .await;
                    }
                }
            }
        });
    }

    /// Tells the tenant's administrators (`support_email`), when one is configured.
    pub fn notify_admin(&self, subject: &str, text: String) {
        if let Some(to) = &self.config.support_email {
            self.send_mail(crate::mail::Mail {
                to: to.clone(),
                subject: format!("{}: {subject}", self.config.tenant_name),
                text,
            });
        }
    }

    /// Renders Auth0's template `name` for `user` (with `url` when the mail carries a link)
    /// and sends it in the background.
    pub fn send_template(
        &self,
        name: TemplateName,
        user: &crate::user::UserRecord,
        url: Option<&str>,
    ) {
        let vars = serde_json::json!({
            "friendly_name": self.config.tenant_name,
            "url": url,
            "user": {
                "email": user.email,
                "name": user.name,
                "nickname": user.nickname,
                "user_id": user.user_id(),
                "email_verified": user.email_verified,
                "user_metadata": user.user_metadata,
                "app_metadata": user.app_metadata,
            },
        });
        match self.config.email_templates.render(name, &user.email, &vars) {
            Ok(Some(mail)) => self.send_mail(mail),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "mail template failed to render"),
        }
    }

    /// Records a tenant log event; a failure to record is logged, never returned.
    pub async fn record(&self, event: LogEvent) {
        if let Err(e) = self.store.append_log(&event).await {
            tracing::warn!(error = %e, log_type = %event.log_type, "could not record a tenant log event");
        }
    }
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub keys: KeyRing,
    /// Seals the secrets the store keeps (TOTP secrets, signing keys).
    pub at_rest: Arc<crate::at_rest::AtRestKeys>,
    /// The breached-password corpus, when detection is enabled.
    pub breach: Option<Arc<dyn BreachedPasswords>>,
    pub mailer: Arc<dyn Mailer>,
    /// The sandbox that runs Actions and Rules.
    pub scripts: Arc<dyn crate::actions::ScriptRunner>,
    /// Actions bound through the Management API, as this node last loaded them.
    pub bound_actions: Arc<crate::flows::managed_actions::BoundActions>,
    /// What requests left running after their answers.
    pub background: Arc<BackgroundWork>,
}
