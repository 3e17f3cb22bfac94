//! HTTPS: certificate files given by the operator, or a local certificate authority created
//! once in the data folder with a server certificate for the listen address and `localhost`,
//! so that libraries which hard-code `https://` run unchanged against a developer's machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};

pub struct SelfSignedFiles {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// Creates `data_dir/tls/{ca.pem, ca-key.pem}` once, and a server certificate for `listen`
/// (and `localhost`, `127.0.0.1`, `::1`) signed by it whenever the names change.
pub fn ensure_self_signed(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<SelfSignedFiles> {
    let dir = data_dir.join("tls");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let files = SelfSignedFiles {
        ca_cert: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server-key.pem"),
    };
    let ca_key_path = dir.join("ca-key.pem");
    let names_path = dir.join("server.names");

    let ca_key = if ca_key_path.exists() && files.ca_cert.exists() {
        KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path)?).context("unreadable CA key")?
    } else {
        let key = KeyPair::generate()?;
        let cert = ca_params().self_signed(&key)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&files.ca_cert, cert.pem())?;
        // A new CA invalidates any server certificate signed by an old one.
        let _ = std::fs::remove_file(&names_path);
        key
    };

    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let ip = listen.ip().to_string();
    if !names.contains(&ip) && !listen.ip().is_unspecified() {
        names.push(ip);
    }
    let wanted = names.join(",");
    let current = std::fs::read_to_string(&names_path).unwrap_or_default();
    if current != wanted || !files.server_cert.exists() || !files.server_key.exists() {
        let ca = ca_params();
        let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "Portcullis server");
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(n.clone().try_into()?)),
            })
            .collect::<Result<Vec<_>, rcgen::Error>>()?;
        params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(397);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        write_private(&files.server_key, &key.serialize_pem())?;
        std::fs::write(&files.server_cert, cert.pem())?;
        std::fs::write(&names_path, wanted)?;
    }
    Ok(files)
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Portcullis local CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = time::macros::datetime!(2024-01-01 0:00 UTC);
    params.not_after = time::macros::datetime!(2044-01-01 0:00 UTC);
    params
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

pub async fn rustls_config(
    cert: &Path,
    key: &Path,
) -> anyhow::Result<axum_server::tls_rustls::RustlsConfig> {
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .with_context(|| {
            format!(
                "cannot load TLS certificate {} / key {}",
                cert.display(),
                key.display()
            )
        })
}
