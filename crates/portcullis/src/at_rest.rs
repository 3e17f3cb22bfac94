//! Where the at-rest keys live: the environment variable `PORTCULLIS_AT_REST_KEYS` when set
//! (what several nodes on one database share), else the file `at-rest.keys` in the data folder,
//! created with one new key at first start and readable by its owner only.

use std::path::{Path, PathBuf};

use anyhow::Context;
use portcullis_core::at_rest::AtRestKeys;

pub const KEYS_VARIABLE: &str = "PORTCULLIS_AT_REST_KEYS";
const KEYS_FILE: &str = "at-rest.keys";

/// Where the keys came from, for messages and for rotation.
pub enum KeySource {
    Environment,
    File(PathBuf),
}

pub fn keys_file(data_dir: &Path) -> PathBuf {
    data_dir.join(KEYS_FILE)
}

/// The at-rest keys of this node, creating the key file on first start.
pub fn load_keys(data_dir: &Path) -> anyhow::Result<(AtRestKeys, KeySource)> {
    if let Ok(list) = std::env::var(KEYS_VARIABLE) {
        let keys = AtRestKeys::parse(&list).context(KEYS_VARIABLE)?;
        return Ok((keys, KeySource::Environment));
    }
    let path = keys_file(data_dir);
    if !path.exists() {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
        write_private(&path, &file_text(&AtRestKeys::new_key_line(), ""))?;
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the at-rest keys {}", path.display()))?;
    let keys = AtRestKeys::parse(&text).with_context(|| path.display().to_string())?;
    Ok((keys, KeySource::File(path)))
}

/// The key file's text: `first` seals, `rest` (older keys) still opens.
pub fn file_text(first: &str, rest: &str) -> String {
    format!(
        "# Portcullis at-rest keys: the first line seals, every line opens. Keep a copy apart from\n\
         # the database; without it the TOTP secrets and signing keys in the database are lost.\n\
         {first}\n{rest}"
    )
}

/// Writes `text` to `path` readable by its owner only, replacing it whole.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let partial = path.with_extension("keys.part");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The existing key lines of the file, without its comments.
pub fn key_lines(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the at-rest keys {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect())
}
