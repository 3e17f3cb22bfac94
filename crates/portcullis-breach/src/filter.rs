//! Querying a filter file, zero-copy over an `mmap` (or over owned, aligned bytes).

use std::fmt;
use std::fs::File;
use std::path::Path;

use memmap2::Mmap;
use xorf::{BinaryFuse8Ref, BinaryFuse16Ref, Filter, FilterRef};

use crate::format::{DATA_ALIGN, DESCRIPTOR_LEN, HEADER_LEN, ShardView, parse_layout};
use crate::{BreachError, Precision, key_of, sha1_of};

enum Storage {
    Mapped(Mmap),
    /// `buf[start..start + len]` is the file image; `start` makes it 8-byte aligned in memory,
    /// as xorf's zero-copy views require (the heap buffer does not move with the struct).
    Owned {
        buf: Vec<u8>,
        start: usize,
        len: usize,
    },
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped(map) => map,
            Storage::Owned { buf, start, len } => buf.get(*start..*start + *len).unwrap_or(&[]),
        }
    }
}

/// An opened breached-password filter. Cheap to share (`Sync`); queries do not allocate.
pub struct BreachFilter {
    storage: Storage,
    precision: Precision,
    entries: u64,
    bucket_shift: u32,
    bucket_to_shard: Box<[u16]>,
    shards: Box<[ShardView]>,
}

impl fmt::Debug for BreachFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreachFilter")
            .field("precision", &self.precision)
            .field("entries", &self.entries)
            .field("shards", &self.shards.len())
            .field("size_bytes", &self.size_bytes())
            .field("mapped", &matches!(self.storage, Storage::Mapped(_)))
            .finish()
    }
}

impl BreachFilter {
    /// Maps a filter file and validates its header, shard table and descriptors. The file's
    /// content is not read into memory: pages are loaded by the kernel as queries touch them.
    ///
    /// The file must not be modified while it is open (replace it by renaming a new file over
    /// it, as the builder does).
    pub fn open(path: &Path) -> Result<Self, BreachError> {
        if cfg!(target_endian = "big") {
            return Err(BreachError::UnsupportedPlatform);
        }
        let file = File::open(path).map_err(BreachError::io(path))?;
        let len = file.metadata().map_err(BreachError::io(path))?.len();
        if len < HEADER_LEN as u64 {
            return Err(BreachError::InvalidFilter(format!(
                "{}: {len} bytes is shorter than the {HEADER_LEN}-byte header",
                path.display()
            )));
        }
        // SAFETY: the mapping is read-only and private to this value. Another process truncating
        // or rewriting the file in place while it is mapped would be undefined behaviour (a
        // SIGBUS or changing bytes); filter files are written once and replaced by rename, which
        // leaves this mapping on the old inode.
        let map = unsafe { Mmap::map(&file) }.map_err(BreachError::io(path))?;
        #[cfg(unix)]
        {
            // Queries touch random pages: read-ahead would only waste page cache. Advisory.
            let _ = map.advise(memmap2::Advice::Random);
        }
        Self::from_storage(Storage::Mapped(map))
    }

    /// Uses a filter file image held in memory (e.g. from [`crate::build_filter_from_keys`]).
    /// Copies it once if its buffer is not 8-byte aligned.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, BreachError> {
        if cfg!(target_endian = "big") {
            return Err(BreachError::UnsupportedPlatform);
        }
        if bytes.as_ptr().align_offset(DATA_ALIGN as usize) != 0 {
            return Self::from_bytes_copied(&bytes);
        }
        let len = bytes.len();
        let storage = Storage::Owned {
            buf: bytes,
            start: 0,
            len,
        };
        Self::from_storage(storage)
    }

    /// Copies the image into a buffer where it starts 8-byte aligned.
    pub(crate) fn from_bytes_copied(bytes: &[u8]) -> Result<Self, BreachError> {
        let len = bytes.len();
        let mut buf: Vec<u8> = Vec::with_capacity(len + DATA_ALIGN as usize);
        let start = buf.as_ptr().align_offset(DATA_ALIGN as usize);
        buf.resize(start, 0);
        buf.extend_from_slice(bytes);
        Self::from_storage(Storage::Owned { buf, start, len })
    }

    fn from_storage(storage: Storage) -> Result<Self, BreachError> {
        let bytes = storage.bytes();
        if bytes.as_ptr().align_offset(DATA_ALIGN as usize) != 0 {
            return Err(BreachError::InvalidFilter(
                "filter image is not 8-byte aligned in memory".to_owned(),
            ));
        }
        let layout = parse_layout(bytes)?;
        Ok(BreachFilter {
            precision: layout.header.precision,
            entries: layout.header.entries,
            bucket_shift: 64 - layout.header.bucket_bits,
            bucket_to_shard: layout.bucket_to_shard,
            shards: layout.shards,
            storage,
        })
    }

    /// Whether the SHA-1 is (probably) in the corpus: never a false negative; false positives
    /// at the rate of [`Precision::false_positive_rate`].
    pub fn contains_sha1(&self, sha1: &[u8; 20]) -> bool {
        self.contains_key(key_of(sha1))
    }

    /// Whether the password is (probably) in the corpus.
    pub fn contains_password(&self, password: &str) -> bool {
        self.contains_sha1(&sha1_of(password))
    }

    /// Whether the key (see [`crate::key_of`]) is (probably) in the filter.
    pub fn contains_key(&self, key: u64) -> bool {
        // `bucket_shift` is 48..=63, from validated bucket bits.
        let bucket = key.checked_shr(self.bucket_shift).unwrap_or(0) as usize;
        let Some(shard) = self
            .bucket_to_shard
            .get(bucket)
            .and_then(|&index| self.shards.get(usize::from(index)))
        else {
            return false;
        };
        if shard.is_empty() {
            return false;
        }
        let bytes = self.storage.bytes();
        let (Some(descriptor), Some(fingerprints)) = (
            bytes.get(shard.descriptor..shard.descriptor + DESCRIPTOR_LEN),
            bytes.get(shard.fingerprints_start..shard.fingerprints_end),
        ) else {
            return false;
        };
        // `from_dma` parses the 20-byte descriptor and borrows the fingerprints; alignment,
        // length and index bounds were validated at open, so neither it nor `contains` can panic.
        match self.precision {
            Precision::Fuse8 => BinaryFuse8Ref::from_dma(descriptor, fingerprints).contains(&key),
            Precision::Fuse16 => BinaryFuse16Ref::from_dma(descriptor, fingerprints).contains(&key),
        }
    }

    /// Distinct keys in the filter.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The fingerprint width the filter was built with.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Size of the filter file (or image) in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.storage.bytes().len() as u64
    }

    /// Number of shards.
    pub fn shard_count(&self) -> u32 {
        self.shards.len() as u32
    }
}
