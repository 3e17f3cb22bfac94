//! `portcullis`: the server and its operator commands.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use portcullis::{Application, build_tenant, open_store};
use portcullis_core::clock::SystemClock;
use portcullis_core::config::{Config, FileConfig};
use portcullis_core::flows::signup::NewUser;
use portcullis_core::flows::users::{self, UserPatch};
use portcullis_core::logs::Actor;
use portcullis_core::store::UserQuery;
use portcullis_core::tokens::KeyRing;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "A self-hosted authentication server that speaks Auth0's APIs"
)]
struct Cli {
    /// The configuration file (TOML, Auth0's object and field names).
    #[arg(
        long,
        short,
        global = true,
        env = "PORTCULLIS_CONFIG",
        default_value = "portcullis.toml"
    )]
    config: PathBuf,
    /// Process log format.
    #[arg(long, global = true, env = "PORTCULLIS_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Apply database migrations and exit (the server also applies them at start).
    Migrate,
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The at-rest keys that seal TOTP secrets and signing keys in the store.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Users of database connections.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The breached-password corpus.
    Breach {
        #[command(subcommand)]
        command: BreachCommand,
    },
}

#[derive(Subcommand)]
enum BreachCommand {
    /// Build a filter file from Pwned Passwords downloads (`SHA1HEX:COUNT` lines), 40-hex SHA-1
    /// lines or plain password lists, gzip or not; streaming, in bounded memory.
    Build {
        /// Corpus files (repeatable).
        #[arg(long = "input", short, required = true)]
        inputs: Vec<PathBuf>,
        /// The filter file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// 16: ~2.3 bytes per entry, false positives ~1/65,536; 8: ~1.2 bytes, ~1/256.
        #[arg(long, default_value = "16")]
        precision: String,
        /// Where to spill while building (needs ~8 bytes per entry); default: next to the output.
        #[arg(long)]
        temp_dir: Option<PathBuf>,
    },
    /// Look a password up in a filter file (reads the password from standard input).
    Check {
        #[arg(long)]
        filter: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key; running servers sign with it within 30 seconds, and the JWKS
    /// keeps serving the previous one.
    Rotate,
    /// Delete every signing key older than the newest: tokens they signed stop verifying.
    /// Run it a rotation's token lifetime after `rotate`, or at once after a key leaked.
    Retire,
    /// List key ids and generations.
    List,
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Put a new at-rest key first in the key file (older keys still open what they sealed);
    /// with the keys in the environment, print the new list to set there instead.
    Rotate,
    /// Seal every stored secret under the first at-rest key; afterwards older keys can go.
    Reseal,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (the connection's password policy applies).
    Create {
        #[arg(long)]
        connection: String,
        #[arg(long)]
        email: String,
        #[arg(long, env = "PORTCULLIS_USER_PASSWORD")]
        password: String,
        #[arg(long)]
        username: Option<String>,
    },
    /// Create many users quickly, for load tests and benchmarks: one password for all,
    /// checked against the connection's rules and hashed once.
    Seed {
        #[arg(long)]
        connection: String,
        /// How many users.
        #[arg(long)]
        count: u64,
        /// E-mail addresses, `{n}` replaced by each user's number.
        #[arg(long, default_value = "user{n}@example.com")]
        email: String,
        /// The first number.
        #[arg(long, default_value_t = 0)]
        first: u64,
        #[arg(long, env = "PORTCULLIS_USER_PASSWORD")]
        password: String,
        /// Users per transaction.
        #[arg(long, default_value_t = 5_000)]
        batch: usize,
    },
    /// List users as JSON lines.
    List {
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        connection: Option<String>,
    },
    /// Refuse every login of a user ("user is blocked").
    Block { user_id: String },
    /// Lift an administrator's block.
    Unblock { user_id: String },
    /// Delete a user.
    Delete { user_id: String },
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    let file = FileConfig::load(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Config::validate(file).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_logging(&cli.log_format);
    if let Err(e) = run(cli).await {
        eprintln!("portcullis: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Corpus commands need no tenant configuration.
    if let Command::Breach { command } = cli.command {
        return breach(command);
    }
    let config = load_config(&cli.config)?;
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            open_store(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys { command } => keys(config, command).await,
        Command::Secrets { command } => secrets(config, command).await,
        Command::User { command } => user(config, command).await,
        Command::Breach { .. } => Ok(()),
    }
}

fn breach(command: BreachCommand) -> anyhow::Result<()> {
    match command {
        BreachCommand::Build {
            inputs,
            output,
            precision,
            temp_dir,
        } => {
            let precision: portcullis_breach::Precision = precision
                .parse()
                .map_err(|e| anyhow::anyhow!("--precision: {e}"))?;
            let temp_dir = temp_dir.unwrap_or_else(|| {
                output
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), PathBuf::from)
            });
            let started = std::time::Instant::now();
            let stats =
                portcullis_breach::build_filter_file(&inputs, &output, precision, &temp_dir)?;
            println!(
                "{}: {} entries read, {} distinct, {} shards, {} bytes ({:.2} bytes per entry), {:.1} s",
                output.display(),
                stats.entries_read,
                stats.distinct_keys,
                stats.shards,
                stats.file_bytes,
                stats.file_bytes as f64 / stats.distinct_keys.max(1) as f64,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        BreachCommand::Check { filter } => {
            let filter = portcullis_breach::BreachFilter::open(&filter)?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            if filter.contains_password(password) {
                println!("breached");
            } else {
                println!("not found");
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let addr = app.local_addr()?;
    let issuer = app.tenant().config.issuer.clone();
    tracing::info!(%addr, %issuer, store = if app.tenant().config.database_url.is_some() { "postgresql" } else { "sqlite" }, "portcullis is listening");
    if let Some(operations) = app.operations_addr() {
        tracing::info!(%operations, "metrics and health probes are served on the operations address");
    }
    let handle = app.handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down; letting in-flight requests finish");
        handle.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    app.run().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let now = portcullis_core::clock::Clock::now_millis(&SystemClock);
    match command {
        KeysCommand::Rotate => {
            let (_, at_rest) = portcullis::signing_keys(&config, store.as_ref(), now).await?;
            let key = KeyRing::rotate(store.as_ref(), &at_rest, now).await?;
            println!(
                "new signing key {} (generation {})",
                key.kid, key.generation
            );
        }
        KeysCommand::Retire => {
            let retired = KeyRing::retire(store.as_ref()).await?;
            println!(
                "{retired} older signing key(s) retired; servers stop accepting their tokens within 30 seconds"
            );
        }
        KeysCommand::List => {
            for key in store.signing_keys().await? {
                println!("{}\tgeneration {}", key.kid, key.generation);
            }
        }
    }
    Ok(())
}

async fn secrets(config: Config, command: SecretsCommand) -> anyhow::Result<()> {
    use portcullis::at_rest::{KeySource, file_text, key_lines, load_keys, write_private};
    use portcullis_core::at_rest::{AtRestKeys, reseal_store};
    let (at_rest, source) = load_keys(&config.data_dir)?;
    match command {
        SecretsCommand::Rotate => {
            let new = AtRestKeys::new_key_line();
            match source {
                KeySource::Environment => {
                    let old: Vec<String> = std::env::var(portcullis::at_rest::KEYS_VARIABLE)
                        .unwrap_or_default()
                        .split(['\n', ','])
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect();
                    println!(
                        "{}={new},{}",
                        portcullis::at_rest::KEYS_VARIABLE,
                        old.join(",")
                    );
                    eprintln!(
                        "set this on every node, restart them, then run `portcullis secrets reseal`"
                    );
                }
                KeySource::File(path) => {
                    let rest = key_lines(&path)?;
                    write_private(&path, &file_text(&new, &rest))?;
                    println!(
                        "new at-rest key first in {}; copy the file to every node, restart them, then run `portcullis secrets reseal`",
                        path.display()
                    );
                }
            }
        }
        SecretsCommand::Reseal => {
            let store = open_store(&config).await?;
            let resealed = reseal_store(store.as_ref(), &at_rest, false).await?;
            println!(
                "{resealed} stored secret(s) sealed under key {}; keys after the first can now be removed",
                at_rest.current_id()
            );
        }
    }
    Ok(())
}

/// A refused new user as an operator reads it: a weak password with the policy's rules.
fn describe_new_user_error(e: portcullis_core::Error) -> anyhow::Error {
    match e {
        portcullis_core::Error::WeakPassword { policy, .. } => {
            anyhow::anyhow!("the password does not meet the connection's policy:\n{policy}")
        }
        other => anyhow::anyhow!("{other}"),
    }
}

async fn user(config: Config, command: UserCommand) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let tenant = build_tenant(config, store, Arc::new(SystemClock)).await?;
    let describe = |e: portcullis_core::Error| anyhow::anyhow!("{e}");
    match command {
        UserCommand::Create {
            connection,
            email,
            password,
            username,
        } => {
            let new = NewUser {
                email,
                password,
                username,
                ..NewUser::default()
            };
            let user = users::create(&tenant, &connection, new, false, &Actor::default())
                .await
                .map_err(describe_new_user_error)?;
            println!("{}", user.user_id());
        }
        UserCommand::Seed {
            connection,
            count,
            email,
            first,
            password,
            batch,
        } => {
            let seed = portcullis_core::flows::signup::Seed {
                connection,
                email_template: email,
                password,
                first,
                count,
                batch,
            };
            let started = std::time::Instant::now();
            let stored = portcullis_core::flows::signup::seed_users(&tenant, &seed, |stored| {
                if stored % 100_000 == 0 {
                    eprintln!("{stored} users");
                }
            })
            .await
            .map_err(describe_new_user_error)?;
            println!("{stored} users in {:.1} s", started.elapsed().as_secs_f64());
        }
        UserCommand::List { email, connection } => {
            let mut offset = 0;
            loop {
                let query = UserQuery {
                    email: email.as_ref().map(|e| e.to_lowercase()),
                    connection: connection.clone(),
                    offset,
                    limit: 100,
                    with_total: false,
                };
                let (page, _) = users::list(&tenant, &query).await.map_err(describe)?;
                for u in &page {
                    println!("{}", portcullis_http::wire::user::management_user(u));
                }
                if page.len() < 100 {
                    break;
                }
                offset += 100;
            }
        }
        UserCommand::Block { user_id } => {
            set_blocked(&tenant, &user_id, true).await?;
        }
        UserCommand::Unblock { user_id } => {
            set_blocked(&tenant, &user_id, false).await?;
        }
        UserCommand::Delete { user_id } => {
            users::get(&tenant, &user_id)
                .await
                .map_err(describe)
                .context("no such user")?;
            users::delete(&tenant, &user_id, &Actor::default())
                .await
                .map_err(describe)?;
            println!("deleted {user_id}");
        }
    }
    Ok(())
}

async fn set_blocked(
    tenant: &portcullis_core::Tenant,
    user_id: &str,
    blocked: bool,
) -> anyhow::Result<()> {
    let patch = UserPatch {
        blocked: Some(blocked),
        ..UserPatch::default()
    };
    users::update(tenant, user_id, patch, &Actor::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{} {user_id}",
        if blocked { "blocked" } else { "unblocked" }
    );
    Ok(())
}
