//! The breached-password corpora behind `attack_protection.breached_password_detection`: a
//! filter file built by `portcullis breach build`, the compiled-in corpus, or a
//! Pwned-Passwords-compatible range API.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use portcullis_breach::{BreachFilter, Precision, build_filter_from_keys, key_of, sha1_of};
use portcullis_core::attack::breach::{BreachLookupError, BreachedPasswords};
use portcullis_core::config::{BreachSource, Config};

/// The compiled-in corpus (see `data/README.md`): 437,651 passwords from public breaches.
static DEFAULT_CORPUS_GZ: &[u8] = include_bytes!("../data/leaked-passwords.txt.gz");

/// Built once per process, on first use.
static DEFAULT_FILTER: tokio::sync::OnceCell<Arc<BreachFilter>> =
    tokio::sync::OnceCell::const_new();

fn build_default_filter() -> anyhow::Result<BreachFilter> {
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(DEFAULT_CORPUS_GZ));
    let mut keys = Vec::with_capacity(440_000);
    for line in reader.lines() {
        let line = line.context("the compiled-in corpus is unreadable")?;
        let password = line.trim_end_matches('\r');
        if !password.is_empty() {
            keys.push(key_of(&sha1_of(password)));
        }
    }
    let bytes = build_filter_from_keys(keys, Precision::Fuse16)?;
    Ok(BreachFilter::from_bytes(bytes)?)
}

/// Lookups in a static filter: microseconds, no I/O but the memory map.
#[derive(Debug)]
pub struct FilterCorpus {
    filter: FilterSource,
}

#[derive(Debug)]
enum FilterSource {
    File(BreachFilter),
    CompiledIn,
}

#[async_trait]
impl BreachedPasswords for FilterCorpus {
    async fn is_breached(&self, password: &str) -> Result<bool, BreachLookupError> {
        match &self.filter {
            FilterSource::File(filter) => Ok(filter.contains_password(password)),
            FilterSource::CompiledIn => {
                let filter = DEFAULT_FILTER
                    .get_or_try_init(|| async {
                        tokio::task::spawn_blocking(build_default_filter)
                            .await
                            .map_err(|e| anyhow::anyhow!(e))?
                            .map(Arc::new)
                    })
                    .await
                    .map_err(|e| BreachLookupError::Unavailable(e.to_string()))?;
                Ok(filter.contains_password(password))
            }
        }
    }
}

/// A k-anonymity range endpoint (`GET {url}{first 5 hex of SHA-1}` answering `SUFFIX:COUNT`
/// lines): only the 5-character prefix leaves the server, and padding is asked for so the
/// answer's size tells an observer nothing either.
#[derive(Debug)]
pub struct RangeApiCorpus {
    client: reqwest::Client,
    url: String,
}

#[async_trait]
impl BreachedPasswords for RangeApiCorpus {
    async fn is_breached(&self, password: &str) -> Result<bool, BreachLookupError> {
        let hex = hex::encode_upper(sha1_of(password));
        let (prefix, suffix) = hex.split_at(5);
        let unavailable = |e: &dyn std::fmt::Display| BreachLookupError::Unavailable(e.to_string());
        let response = self
            .client
            .get(format!("{}{prefix}", self.url))
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        if !response.status().is_success() {
            return Err(BreachLookupError::Unavailable(format!(
                "range API answered {}",
                response.status()
            )));
        }
        let body = response.text().await.map_err(|e| unavailable(&e))?;
        // Padding lines carry a count of 0 and are not breaches.
        Ok(body.lines().any(|line| match line.trim().split_once(':') {
            Some((s, count)) => {
                s.eq_ignore_ascii_case(suffix) && count.trim().parse::<u64>().is_ok_and(|c| c > 0)
            }
            None => false,
        }))
    }
}

/// The corpus the configuration names, or `None` when detection is off.
pub fn corpus_for(config: &Config) -> anyhow::Result<Option<Arc<dyn BreachedPasswords>>> {
    if !config.breach_policy.enabled {
        return Ok(None);
    }
    Ok(Some(match &config.breach_source {
        BreachSource::Corpus(Some(path)) => Arc::new(FilterCorpus {
            filter: FilterSource::File(open_filter(path)?),
        }),
        BreachSource::Corpus(None) => Arc::new(FilterCorpus {
            filter: FilterSource::CompiledIn,
        }),
        BreachSource::RangeApi { url, timeout_ms } => Arc::new(RangeApiCorpus {
            client: reqwest::Client::builder()
                .timeout(Duration::from_millis(*timeout_ms))
                .build()
                .context("cannot build the range API client")?,
            url: url.clone(),
        }),
    }))
}

fn open_filter(path: &Path) -> anyhow::Result<BreachFilter> {
    BreachFilter::open(path).with_context(|| {
        format!(
            "attack_protection.breached_password_detection.corpus: cannot open the filter {}",
            path.display()
        )
    })
}
