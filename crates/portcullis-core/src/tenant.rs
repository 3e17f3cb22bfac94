//! Everything a flow needs, built once at start and passed down: no globals.

use std::sync::Arc;

use crate::attack::breach::BreachedPasswords;
use crate::clock::Clock;
use crate::config::Config;
use crate::logs::LogEvent;
use crate::mail::Mailer;
use crate::password::hasher::PasswordHasher;
use crate::store::Store;
use crate::tokens::KeyRing;

impl Tenant {
    /// Sends mail in the background: the request that caused it does not wait for (or fail
    /// with) delivery; a failure is logged.
    pub fn send_mail(&self, mail: crate::mail::Mail) {
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&mail).await {
                tracing::warn!(error = %e, "mail not delivered");
            }
        });
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
    /// The breached-password corpus, when detection is enabled.
    pub breach: Option<Arc<dyn BreachedPasswords>>,
    pub mailer: Arc<dyn Mailer>,
}
