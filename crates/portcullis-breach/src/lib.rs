//! The breached-password filter: build a compact, static set of "known breached" password hashes
//! from a corpus (Have I Been Pwned "Pwned Passwords" or a plain list), store it in one file, and
//! answer "was this password in a breach?" in well under a microsecond, zero-copy over an
//! `mmap` of that file.
//!
//! The set is a sharded [binary fuse filter](https://arxiv.org/abs/2201.01174) (crate `xorf`):
//! no false negatives; a false positive rate of 2⁻¹⁶ (`Precision::Fuse16`, ≈2.26 bytes/entry, the
//! default) or 2⁻⁸ (`Precision::Fuse8`, ≈1.13 bytes/entry). A false positive only means a user is
//! asked to pick another password.
//!
//! # Keys
//!
//! An entry is the SHA-1 of the password's UTF-8 bytes (what Pwned Passwords publishes). The filter
//! key is the first 8 bytes of that SHA-1 read as a big-endian `u64` ([`key_of`]); SHA-1 output is
//! uniform, so the top bits of the key pick a shard evenly.
//!
//! # Corpus formats ([`read_corpus`])
//!
//! One entry a line; `\n` or `\r\n`; a UTF-8 BOM on the first line is ignored; empty lines are
//! skipped. A line that is 40 hex digits (either case), optionally followed by `:COUNT` (the Pwned
//! Passwords download format), is a SHA-1 (a `:0` count is a padding entry and is skipped). A line
//! that is 32 hex digits followed by `:COUNT` is the NTLM edition of Pwned Passwords and is rejected
//! (its hashes cannot be matched). Any other line is a password, hashed as-is (every byte of the
//! line but the line ending). A file that starts with the gzip magic bytes (`1f 8b`) is
//! decompressed on the fly, whatever its name. Everything is streamed; no input is held in memory.
//!
//! # Building ([`build_filter_file`])
//!
//! Two passes, so that a 10⁹-entry corpus builds in a few GiB:
//! 1. stream the inputs and append each key (8 bytes, little-endian) to one of 4096 spill files
//!    in a private temporary directory, by the top 12 bits of the key (the *bucket*);
//! 2. group consecutive buckets into `S` shards of at most ≈4 M keys each (`S` = ⌈keys / 4 M⌉,
//!    1 ≤ S ≤ 4096, bucket boundaries at the key-count quantiles), then for one shard at a time:
//!    load its keys, sort, dedup, build the binary fuse filter and append it to the output.
//!
//! Peak memory is ≈ 34 bytes × the largest shard (xorf's work arrays plus the keys), about 140 MB,
//! plus 64 MiB of spill buffers during pass 1. The output is written to a temporary name beside
//! the target and renamed into place when complete.
//!
//! # File format (version 1, all integers little-endian)
//!
//! ```text
//! offset  size  header (64 bytes)
//!      0     8  magic "PCBREACH"
//!      8     4  format version = 1
//!     12     1  precision: 8 (BinaryFuse8) or 16 (BinaryFuse16)
//!     13     1  bucket bits B = 12 (a key's bucket is key >> (64 - B))
//!     14     2  reserved, 0
//!     16     4  shard count S (1 ..= 2^B)
//!     20     4  reserved, 0
//!     24     8  entries: distinct keys in the whole filter
//!     32     8  file length in bytes (detects truncation)
//!     40    24  reserved, 0
//!
//!     64  32×S  shard table, one 32-byte entry per shard, in key order:
//!                 +0  u32  first bucket of the shard (shard 0 starts at 0; strictly increasing;
//!                          a shard covers the buckets up to the next shard's first bucket)
//!                 +4  u32  reserved, 0
//!                 +8  u64  distinct keys in the shard
//!                +16  u64  offset of the shard's data (a multiple of 8)
//!                +24  u64  length of the shard's data (0 for an empty shard)
//!
//!   data  shard data, each starting on an 8-byte boundary (zero padding between):
//!                 +0  20   xorf binary fuse descriptor, as `DmaSerializable` writes it
//!                          (seed u64, segment_length u32, segment_length_mask u32,
//!                          segment_count_length u32)
//!                +20   4   zero padding
//!                +24   …   fingerprints (u8 or u16 each), as `DmaSerializable` writes them
//! ```
//!
//! [`BreachFilter::open`] maps the file, validates the header, the table and every descriptor
//! (so that no query can index out of bounds), and keeps one (descriptor, fingerprints) position
//! per shard plus a 4096-entry bucket→shard table. A query hashes nothing but SHA-1: key, bucket,
//! shard, then `BinaryFuse{8,16}Ref::from_dma` (parses 20 bytes, borrows the fingerprints) and
//! three memory reads.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

mod build;
mod corpus;
mod filter;
mod format;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use sha1::{Digest, Sha1};

pub use build::{
    BuildStats, DEFAULT_SHARD_TARGET_KEYS, build_filter_file, build_filter_file_with_shard_target,
    build_filter_from_keys, build_filter_from_keys_with_shard_target,
};
pub use corpus::read_corpus;
pub use filter::BreachFilter;

/// The fingerprint width of the filter, trading size for false positives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// 8-bit fingerprints: ≈1.13 bytes per entry, false positive rate 2⁻⁸ (≈1/256).
    Fuse8,
    /// 16-bit fingerprints: ≈2.26 bytes per entry, false positive rate 2⁻¹⁶ (≈1/65,536).
    #[default]
    Fuse16,
}

impl Precision {
    /// Bits per fingerprint (8 or 16); also the precision byte of the file header.
    pub fn bits(self) -> u8 {
        match self {
            Precision::Fuse8 => 8,
            Precision::Fuse16 => 16,
        }
    }

    /// The expected false positive rate of a filter of this precision.
    pub fn false_positive_rate(self) -> f64 {
        match self {
            Precision::Fuse8 => 1.0 / 256.0,
            Precision::Fuse16 => 1.0 / 65_536.0,
        }
    }

    pub(crate) fn fingerprint_bytes(self) -> u64 {
        match self {
            Precision::Fuse8 => 1,
            Precision::Fuse16 => 2,
        }
    }

    pub(crate) fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            8 => Some(Precision::Fuse8),
            16 => Some(Precision::Fuse16),
            _ => None,
        }
    }
}

impl FromStr for Precision {
    type Err = BreachError;

    /// Accepts `8`, `16`, `fuse8`, `fuse16` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "8" | "fuse8" => Ok(Precision::Fuse8),
            "16" | "fuse16" => Ok(Precision::Fuse16),
            _ => Err(BreachError::InvalidPrecision(s.to_owned())),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Precision::Fuse8 => f.write_str("fuse8"),
            Precision::Fuse16 => f.write_str("fuse16"),
        }
    }
}

/// Everything that can go wrong reading a corpus, building or opening a filter.
#[derive(Debug, thiserror::Error)]
pub enum BreachError {
    /// Reading or writing `path` failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A corpus line is longer than any password or hash line could be (binary file?).
    #[error("{}:{line}: line longer than {max} bytes", path.display())]
    LineTooLong {
        /// The corpus file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The limit.
        max: usize,
    },
    /// The corpus is the NTLM edition of Pwned Passwords; the filter needs the SHA-1 edition.
    #[error(
        "{}:{line}: NTLM hash line; download the SHA-1 edition of Pwned Passwords",
        path.display()
    )]
    NtlmCorpus {
        /// The corpus file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
    },
    /// A precision name other than `8`, `16`, `fuse8`, `fuse16`.
    #[error("unknown filter precision {0:?} (expected 8, 16, fuse8 or fuse16)")]
    InvalidPrecision(String),
    /// The filter file is not a Portcullis breach filter, is truncated or is corrupt.
    #[error("invalid breach filter: {0}")]
    InvalidFilter(String),
    /// The filter file was written by a newer (or unknown) format version.
    #[error("unsupported breach filter format version {0} (this build reads version 1)")]
    UnsupportedVersion(u32),
    /// xorf could not build a shard's filter (it retries 1000 seeds; not expected in practice).
    #[error("building the filter for shard {shard} failed: {reason}")]
    FilterConstruction {
        /// The shard index.
        shard: u32,
        /// xorf's reason.
        reason: &'static str,
    },
    /// One shard would hold more keys than fit the memory budget: the keys are far from uniform
    /// (a SHA-1 corpus never is; a crafted hex corpus could be).
    #[error(
        "shard {shard} would hold {keys} keys (limit {limit}); are the corpus keys real SHA-1s?"
    )]
    ShardTooLarge {
        /// The shard index.
        shard: u32,
        /// Keys spilled into it.
        keys: u64,
        /// The limit.
        limit: u64,
    },
    /// The zero-copy file format stores fingerprints little-endian, read in place.
    #[error("breach filters need a little-endian CPU")]
    UnsupportedPlatform,
}

impl BreachError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BreachError {
        let path = path.into();
        move |source| BreachError::Io { path, source }
    }
}

/// The SHA-1 of a password's UTF-8 bytes, as Pwned Passwords publishes it.
pub fn sha1_of(password: &str) -> [u8; 20] {
    sha1_bytes(password.as_bytes())
}

pub(crate) fn sha1_bytes(bytes: &[u8]) -> [u8; 20] {
    Sha1::digest(bytes).into()
}

/// The filter key of a SHA-1: its first 8 bytes as a big-endian `u64`.
pub fn key_of(sha1: &[u8; 20]) -> u64 {
    let [a, b, c, d, e, f, g, h, ..] = *sha1;
    u64::from_be_bytes([a, b, c, d, e, f, g, h])
}
