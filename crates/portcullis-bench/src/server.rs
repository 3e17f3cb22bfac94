//! The Portcullis process under test: started on a tenant of its own, measured (CPU, memory)
//! and stopped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::Args;

/// A server process under measurement, killed and reaped when dropped.
pub(crate) struct Server {
    pub(crate) pid: u32,
    process: Process,
}

enum Process {
    Std(Child),
    Tokio(tokio::process::Child),
}

impl Drop for Server {
    fn drop(&mut self) {
        match &mut self.process {
            Process::Std(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            // Started with `kill_on_drop`: tokio reaps it.
            Process::Tokio(child) => {
                let _ = child.start_kill();
            }
        }
    }
}

/// User + system CPU seconds consumed so far by process `pid` (from `/proc/<pid>/stat`).
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

impl Server {
    pub(crate) fn new(child: Child) -> Self {
        Self {
            pid: child.id(),
            process: Process::Std(child),
        }
    }

    pub(crate) fn from_tokio(child: tokio::process::Child) -> Option<Self> {
        Some(Self {
            pid: child.id()?,
            process: Process::Tokio(child),
        })
    }

    pub(crate) fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.pid)
    }

    pub(crate) fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}

pub(crate) fn start_server(args: &Args) -> anyhow::Result<(Server, String)> {
    start_server_with(args, "plain", "")
}

/// Starts the server with `tail` appended to its configuration, in a data folder named `tag`.
pub(crate) fn start_server_with(
    args: &Args,
    tag: &str,
    tail: &str,
) -> anyhow::Result<(Server, String)> {
    let tenant = BenchTenant::prepare(args, tag, tail)?;
    Ok((tenant.start()?, tenant.base.clone()))
}

/// A configured tenant in its own folder: the server can be started (and restarted) on it,
/// and operator commands run against it.
pub(crate) struct BenchTenant {
    pub(crate) binary: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) base: String,
}

impl BenchTenant {
    pub(crate) fn prepare(args: &Args, tag: &str, tail: &str) -> anyhow::Result<Self> {
        let binary = match &args.server {
            Some(p) => p.clone(),
            None => std::env::current_exe()?.with_file_name("portcullis"),
        };
        if !binary.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p portcullis`",
                binary.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir =
            std::env::temp_dir().join(format!("portcullis-bench-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let database = args
            .database_url
            .as_ref()
            .map_or(String::new(), |u| format!("database_url = \"{u}\""));
        let config = format!(
            r#"listen = "127.0.0.1:{port}"
data_dir = "{data}"
{database}
[[clients]]
name = "Bench"
client_id = "bench"
grant_types = ["http://auth0.com/oauth/grant-type/password-realm", "password", "refresh_token"]
[[clients]]
name = "Bench administrator"
client_id = "bench-admin"
client_secret = "bench-admin-secret"
grant_types = ["client_credentials"]
[[client_grants]]
client_id = "bench-admin"
audience = "http://127.0.0.1:{port}/api/v2/"
scope = ["read:users", "create:users"]
[[connections]]
name = "db"
[connections.options]
passwordPolicy = "good"
[attack_protection.suspicious_ip_throttling]
allowlist = ["127.0.0.1"]
{tail}
"#,
            data = dir.join("data").display()
        );
        let path = dir.join("bench.toml");
        std::fs::write(&path, config)?;
        Ok(Self {
            binary,
            config: path,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    pub(crate) fn start(&self) -> anyhow::Result<Server> {
        let child = Command::new(&self.binary)
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        Ok(Server::new(child))
    }

    /// Runs an operator command (`portcullis <args> --config …`); its standard output.
    pub(crate) fn command(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new(&self.binary)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .output()?;
        if !output.status.success() {
            bail!(
                "portcullis {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

pub(crate) async fn wait_until_up(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if http
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not start")
}
