//! Assembling a running Portcullis: configuration → store → tenant → HTTP(S) server.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod at_rest;
pub mod breach_corpus;
pub mod mail;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use portcullis_core::Tenant;
use portcullis_core::clock::{Clock, SystemClock};
use portcullis_core::config::{Config, TlsConfig};
use portcullis_core::password::hasher::PasswordHasher;
use portcullis_core::store::Store;
use portcullis_core::tokens::KeyRing;
use portcullis_store::{PgStore, SqliteStore};

/// Opens the configured store: PostgreSQL when `database_url` is set, else SQLite in `data_dir`.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &config.database_url {
        Some(url) => Arc::new(
            PgStore::connect(url, None)
                .await
                .with_context(|| "cannot open the PostgreSQL store at database_url")?,
        ),
        None => Arc::new(SqliteStore::open(&config.data_dir).await.with_context(|| {
            format!(
                "cannot open the SQLite store in {}",
                config.data_dir.display()
            )
        })?),
    })
}

/// This node's at-rest keys and the signing keys they open (the first one created if the store
/// has none). Secrets an older version stored plain are sealed on the way.
pub async fn signing_keys(
    config: &Config,
    store: &dyn Store,
    now_millis: i64,
) -> anyhow::Result<(KeyRing, Arc<portcullis_core::at_rest::AtRestKeys>)> {
    let (at_rest, source) = at_rest::load_keys(&config.data_dir)?;
    let at_rest = Arc::new(at_rest);
    // Values an older version stored plain are sealed now, once.
    let sealed = portcullis_core::at_rest::reseal_store(store, &at_rest, true)
        .await
        .context("cannot seal the stored secrets at rest")?;
    if sealed > 0 {
        tracing::info!(sealed, "stored secrets sealed at rest");
    }
    let keys = KeyRing::load_or_create(store, at_rest.clone(), now_millis)
        .await
        .with_context(|| match &source {
            at_rest::KeySource::Environment => format!(
                "cannot load the signing keys; every node needs the same {}",
                at_rest::KEYS_VARIABLE
            ),
            at_rest::KeySource::File(path) => format!(
                "cannot load the signing keys; every node needs the same at-rest keys ({} or {})",
                path.display(),
                at_rest::KEYS_VARIABLE
            ),
        })?;
    Ok((keys, at_rest))
}

pub async fn build_tenant(
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Tenant> {
    let (keys, at_rest) = signing_keys(&config, store.as_ref(), clock.now_millis()).await?;
    Ok(Tenant {
        store,
        clock,
        hasher: PasswordHasher::with_available_parallelism()
            .context("cannot start the password hasher")?,
        breach: breach_corpus::corpus_for(&config)?,
        mailer: mail::mailer_for(&config.mail)?,
        scripts: Arc::new(portcullis_actions::QuickJsRunner::new()),
        bound_actions: Default::default(),
        background: Default::default(),
        config: Arc::new(config),
        keys,
        at_rest,
    })
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: std::net::TcpListener,
    /// The operations address's listener and router, when `operations_listen` is set.
    operations: Option<(std::net::TcpListener, axum::Router)>,
    tenant: Tenant,
    router: axum::Router,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    handle: axum_server::Handle<SocketAddr>,
}

/// How often keys are reloaded from the store, so a rotation by another process is picked up.
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

impl Application {
    /// Binds `config.listen` and prepares the tenant with the system clock.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Self::build_on(listener, config, Arc::new(SystemClock)).await
    }

    /// Uses an already bound listener (tests bind port 0 first) and the given clock.
    pub async fn build_on(
        listener: std::net::TcpListener,
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        Self::build_with(listener, config, clock, store).await
    }

    /// As [`Application::build_on`], with a store opened by the caller.
    pub async fn build_with(
        listener: std::net::TcpListener,
        config: Config,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<Self> {
        listener.set_nonblocking(true)?;
        let tls = match &config.tls {
            TlsConfig::Off => None,
            TlsConfig::SelfSigned => {
                let files = tls::ensure_self_signed(&config.data_dir, config.listen)?;
                tracing::info!(ca = %files.ca_cert.display(), "serving HTTPS with a self-signed certificate; trust this CA file (e.g. NODE_EXTRA_CA_CERTS)");
                Some(tls::rustls_config(&files.server_cert, &files.server_key).await?)
            }
            TlsConfig::Files { cert, key } => Some(tls::rustls_config(cert, key).await?),
        };
        let operations = match config.operations_listen {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr} (operations_listen)"))?;
                listener.set_nonblocking(true)?;
                Some(listener)
            }
            None => None,
        };
        let tenant = build_tenant(config, store, clock).await?;
        let router = portcullis_http::router(tenant.clone()).map_err(anyhow::Error::msg)?;
        let operations = match operations {
            Some(listener) => Some((
                listener,
                portcullis_http::operations_router(tenant.clone()).map_err(anyhow::Error::msg)?,
            )),
            None => None,
        };
        Ok(Self {
            listener,
            operations,
            tenant,
            router,
            tls,
            handle: axum_server::Handle::new(),
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The operations address, when the operations endpoints have their own.
    pub fn operations_addr(&self) -> Option<SocketAddr> {
        self.operations
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> axum_server::Handle<SocketAddr> {
        self.handle.clone()
    }

    /// Serves until the handle asks for shutdown; in-flight requests finish first.
    pub async fn run(self) -> anyhow::Result<()> {
        let tenant = self.tenant.clone();
        let reloader = tokio::spawn(async move {
            let mut tick = tokio::time::interval(KEY_RELOAD_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = tenant.keys.reload(tenant.store.as_ref()).await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
            }
        });
        // Tenant logs older than the retention are removed hourly (every node may do it).
        let tenant = self.tenant.clone();
        let retention = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let days = i64::from(tenant.config.logs_retention_days);
                let before = tenant.clock.now_millis() - days * 86_400_000;
                match tenant.store.prune_logs(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "old tenant log events removed"),
                    Err(e) => tracing::warn!(error = %e, "removing old tenant log events failed"),
                }
            }
        });
        let operations_handle = axum_server::Handle::<SocketAddr>::new();
        let operations = match self.operations {
            Some((listener, router)) => {
                let server = axum_server::from_tcp(listener)?.handle(operations_handle.clone());
                Some(tokio::spawn(async move {
                    if let Err(e) = server.serve(router.into_make_service()).await {
                        tracing::error!(error = %e, "the operations listener stopped");
                    }
                }))
            }
            None => None,
        };
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let result = match self.tls {
            Some(tls) => {
                axum_server::from_tcp_rustls(self.listener, tls)?
                    .handle(self.handle)
                    .serve(app)
                    .await
            }
            None => {
                axum_server::from_tcp(self.listener)?
                    .handle(self.handle)
                    .serve(app)
                    .await
            }
        };
        reloader.abort();
        retention.abort();
        operations_handle.graceful_shutdown(Some(Duration::from_secs(1)));
        if let Some(task) = operations {
            let _ = task.await;
        }
        result.context("the server stopped with an error")
    }
}
