//! Building filter files: spill keys into buckets, group buckets into shards, one binary fuse
//! filter per shard, written in the format of `format.rs`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use xorf::{BinaryFuse8, BinaryFuse16, DmaSerializable};

use crate::corpus::CorpusReader;
use crate::format::{
    BUCKET_BITS, BUCKETS, DATA_ALIGN, DESCRIPTOR_LEN, DESCRIPTOR_SLOT, HEADER_LEN, Header,
    SHARD_ENTRY_LEN, ShardEntry, encode_header, encode_shard_entry, table_end,
};
use crate::{BreachError, Precision, key_of};

/// Keys per shard the builder aims at: ≈4 M keys need ≈140 MB of scratch while building, and
/// shards of 1 M keys or more get xorf's best size factor (1.125).
pub const DEFAULT_SHARD_TARGET_KEYS: u64 = 4 << 20;
/// Refuse to load a shard larger than this (≈9 GB of scratch): only a crafted, non-uniform hex
/// corpus can get here, since SHA-1 keys spread evenly over the buckets.
const MAX_SHARD_KEYS: u64 = 256 << 20;
/// Per-bucket spill buffer in pass 1 (4096 × 16 KiB = 64 MiB at most).
const SPILL_BUFFER_BYTES: usize = 16 * 1024;
const SHARD_READ_CHUNK: usize = 1 << 20;

/// What a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStats {
    /// Entries parsed from the inputs (hash lines and passwords), duplicates included.
    pub entries_read: u64,
    /// Distinct keys in the filter.
    pub distinct_keys: u64,
    /// Shards in the file.
    pub shards: u32,
    /// Size of the filter file.
    pub file_bytes: u64,
    /// Most keys held in memory at once for one shard (before dedup): the memory high-water mark
    /// of pass 2 is ≈34 bytes × this.
    pub peak_shard_keys: u64,
}

/// Builds a filter file from corpus files (see [`crate::read_corpus`] for the formats), using
/// `temp_dir` for the spill files (≈8 bytes per entry, removed afterwards). The output appears
/// atomically at `output` once complete.
pub fn build_filter_file(
    inputs: &[PathBuf],
    output: &Path,
    precision: Precision,
    temp_dir: &Path,
) -> Result<BuildStats, BreachError> {
    build_filter_file_with_shard_target(
        inputs,
        output,
        precision,
        temp_dir,
        DEFAULT_SHARD_TARGET_KEYS,
    )
}

/// [`build_filter_file`] with a chosen number of keys per shard (tests force several shards).
#[doc(hidden)]
pub fn build_filter_file_with_shard_target(
    inputs: &[PathBuf],
    output: &Path,
    precision: Precision,
    temp_dir: &Path,
    target_shard_keys: u64,
) -> Result<BuildStats, BreachError> {
    if cfg!(target_endian = "big") {
        return Err(BreachError::UnsupportedPlatform);
    }
    let work = WorkDir::create(temp_dir)?;

    // Pass 1: stream every input into the bucket spill files.
    let mut spill = Spill::new(work.path.clone());
    let mut entries_read: u64 = 0;
    for input in inputs {
        for sha1 in CorpusReader::open(input)? {
            spill.push(key_of(&sha1?))?;
            entries_read += 1;
        }
    }
    let bucket_counts = spill.finish()?;

    // Pass 2: one shard at a time.
    let plan = plan_shards(&bucket_counts, target_shard_keys);
    let partial = PartialOutput::create(output)?;
    let file = File::create(&partial.path).map_err(BreachError::io(&partial.path))?;
    let out = BufWriter::with_capacity(1 << 20, file);
    let mut writer =
        FilterWriter::new(out, precision, &plan).map_err(BreachError::io(&partial.path))?;
    let mut keys: Vec<u64> = Vec::new();
    let mut peak_shard_keys = 0;
    for (shard, buckets) in shard_bucket_ranges(&plan).enumerate() {
        let shard = shard as u32;
        let spilled: u64 = bucket_counts
            .get(buckets.clone())
            .unwrap_or(&[])
            .iter()
            .sum();
        if spilled > MAX_SHARD_KEYS {
            return Err(BreachError::ShardTooLarge {
                shard,
                keys: spilled,
                limit: MAX_SHARD_KEYS,
            });
        }
        peak_shard_keys = peak_shard_keys.max(spilled);
        keys.clear();
        // Give memory back between shards of very different sizes; otherwise reuse it.
        keys.shrink_to(spilled as usize);
        keys.reserve_exact(spilled as usize);
        for bucket in buckets {
            work.read_bucket(bucket, &mut keys)?;
        }
        keys.sort_unstable();
        keys.dedup();
        writer
            .add_shard(shard, &keys)
            .map_err(|e| e.with_path(&partial.path))?;
    }
    drop(keys);
    let (out, summary) = writer.finish().map_err(BreachError::io(&partial.path))?;
    let file = out
        .into_inner()
        .map_err(|e| BreachError::io(&partial.path)(e.into_error()))?;
    file.sync_all().map_err(BreachError::io(&partial.path))?;
    drop(file);
    partial.commit()?;
    Ok(BuildStats {
        entries_read,
        distinct_keys: summary.entries,
        shards: summary.shards,
        file_bytes: summary.file_len,
        peak_shard_keys,
    })
}

/// Builds a filter in memory, in the same file format (for small corpora and tests): the result
/// can be written to a file or given to [`crate::BreachFilter::from_bytes`].
pub fn build_filter_from_keys(
    keys: impl IntoIterator<Item = u64>,
    precision: Precision,
) -> Result<Vec<u8>, BreachError> {
    build_filter_from_keys_with_shard_target(keys, precision, DEFAULT_SHARD_TARGET_KEYS)
}

/// [`build_filter_from_keys`] with a chosen number of keys per shard. For the same keys and
/// target it produces the same bytes as [`build_filter_file_with_shard_target`].
#[doc(hidden)]
pub fn build_filter_from_keys_with_shard_target(
    keys: impl IntoIterator<Item = u64>,
    precision: Precision,
    target_shard_keys: u64,
) -> Result<Vec<u8>, BreachError> {
    if cfg!(target_endian = "big") {
        return Err(BreachError::UnsupportedPlatform);
    }
    let mut keys: Vec<u64> = keys.into_iter().collect();
    let mut bucket_counts = vec![0u64; BUCKETS];
    for &key in &keys {
        if let Some(count) = bucket_counts.get_mut(bucket_of(key)) {
            *count += 1;
        }
    }
    keys.sort_unstable();
    keys.dedup();
    let plan = plan_shards(&bucket_counts, target_shard_keys);
    let memory = Path::new("<memory>");
    let mut writer = FilterWriter::new(Cursor::new(Vec::new()), precision, &plan)
        .map_err(BreachError::io(memory))?;
    let mut rest: &[u64] = &keys;
    for (shard, buckets) in shard_bucket_ranges(&plan).enumerate() {
        let split = rest.partition_point(|&k| bucket_of(k) < buckets.end);
        let (these, after) = rest.split_at(split);
        writer
            .add_shard(shard as u32, these)
            .map_err(|e| e.with_path(memory))?;
        rest = after;
    }
    let (out, _) = writer.finish().map_err(BreachError::io(memory))?;
    Ok(out.into_inner())
}

fn bucket_of(key: u64) -> usize {
    (key >> (64 - BUCKET_BITS)) as usize
}

/// The first bucket of each shard. `S = ⌈total / target⌉` (1 ..= 4096) shards, cut where the
/// running key count crosses `i × total / S`, so shards are even when buckets are.
fn plan_shards(bucket_counts: &[u64], target_shard_keys: u64) -> Vec<u32> {
    let total: u64 = bucket_counts.iter().sum();
    let target = target_shard_keys.max(1);
    let shards = total.div_ceil(target).clamp(1, BUCKETS as u64);
    let mut firsts = vec![0u32];
    let mut running: u64 = 0;
    for (bucket, &count) in bucket_counts.iter().enumerate() {
        running += count;
        let closed = firsts.len() as u64;
        let next_bucket = bucket + 1;
        if closed < shards
            && next_bucket < bucket_counts.len()
            && u128::from(running) * u128::from(shards) >= u128::from(closed) * u128::from(total)
        {
            firsts.push(next_bucket as u32);
        }
    }
    firsts
}

/// Bucket ranges of the planned shards.
fn shard_bucket_ranges(plan: &[u32]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    plan.iter().enumerate().map(|(i, &first)| {
        let end = plan.get(i + 1).map_or(BUCKETS, |&next| next as usize);
        first as usize..end
    })
}

/// Pass 1: buffered appends to one spill file per bucket. Files are opened only to flush a full
/// buffer, so the build never needs thousands of descriptors at once.
struct Spill {
    dir: PathBuf,
    buffers: Vec<Vec<u8>>,
    counts: Vec<u64>,
}

impl Spill {
    fn new(dir: PathBuf) -> Self {
        Spill {
            dir,
            buffers: vec![Vec::new(); BUCKETS],
            counts: vec![0; BUCKETS],
        }
    }

    fn push(&mut self, key: u64) -> Result<(), BreachError> {
        let bucket = bucket_of(key);
        let (Some(buffer), Some(count)) =
            (self.buffers.get_mut(bucket), self.counts.get_mut(bucket))
        else {
            return Ok(()); // unreachable: bucket_of < BUCKETS
        };
        if buffer.capacity() == 0 {
            buffer.reserve_exact(SPILL_BUFFER_BYTES);
        }
        buffer.extend_from_slice(&key.to_le_bytes());
        *count += 1;
        if buffer.len() >= SPILL_BUFFER_BYTES {
            Self::flush(&self.dir, bucket, buffer)?;
        }
        Ok(())
    }

    fn flush(dir: &Path, bucket: usize, buffer: &mut Vec<u8>) -> Result<(), BreachError> {
        let path = bucket_path(dir, bucket);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(BreachError::io(&path))?;
        file.write_all(buffer).map_err(BreachError::io(&path))?;
        buffer.clear();
        Ok(())
    }

    /// Flushes every buffer, frees them, and returns the key count of each bucket.
    fn finish(mut self) -> Result<Vec<u64>, BreachError> {
        for (bucket, buffer) in self.buffers.iter_mut().enumerate() {
            if !buffer.is_empty() {
                Self::flush(&self.dir, bucket, buffer)?;
            }
        }
        Ok(self.counts)
    }
}

fn bucket_path(dir: &Path, bucket: usize) -> PathBuf {
    dir.join(format!("bucket-{bucket:04}.keys"))
}

/// A private directory for the spill files, removed with its content when dropped.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(parent: &Path) -> Result<Self, BreachError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        fs::create_dir_all(parent).map_err(BreachError::io(parent))?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = parent.join(format!(
            "portcullis-breach-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&path).map_err(BreachError::io(&path))?;
        Ok(WorkDir { path })
    }

    /// Appends the keys of a bucket's spill file (if any) to `keys`, then deletes the file.
    fn read_bucket(&self, bucket: usize, keys: &mut Vec<u64>) -> Result<(), BreachError> {
        let path = bucket_path(&self.path, bucket);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(BreachError::io(&path)(e)),
        };
        let mut chunk = vec![0u8; SHARD_READ_CHUNK];
        let mut filled = 0;
        loop {
            let n = file
                .read(chunk.get_mut(filled..).unwrap_or(&mut []))
                .map_err(BreachError::io(&path))?;
            if n == 0 {
                break;
            }
            filled += n;
            let whole = filled - filled % 8;
            keys.extend(
                chunk
                    .get(..whole)
                    .unwrap_or(&[])
                    .chunks_exact(8)
                    .filter_map(|b| b.try_into().ok().map(u64::from_le_bytes)),
            );
            chunk.copy_within(whole..filled, 0);
            filled -= whole;
        }
        drop(file);
        fs::remove_file(&path).map_err(BreachError::io(&path))?;
        Ok(())
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The output file while it is written: `.NAME.partial-PID` beside the target, renamed over the
/// target on success, removed on failure.
struct PartialOutput {
    path: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl PartialOutput {
    fn create(target: &Path) -> Result<Self, BreachError> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "breach-filter".to_owned());
        let path = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        Ok(PartialOutput {
            path,
            target: target.to_owned(),
            committed: false,
        })
    }

    fn commit(mut self) -> Result<(), BreachError> {
        fs::rename(&self.path, &self.target).map_err(BreachError::io(&self.target))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PartialOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

struct Summary {
    entries: u64,
    shards: u32,
    file_len: u64,
}

/// Errors of `FilterWriter::add_shard`: I/O (path added by the caller) or xorf's.
enum ShardError {
    Io(io::Error),
    Build(BreachError),
}

impl ShardError {
    fn with_path(self, path: &Path) -> BreachError {
        match self {
            ShardError::Io(e) => BreachError::io(path)(e),
            ShardError::Build(e) => e,
        }
    }
}

impl From<io::Error> for ShardError {
    fn from(e: io::Error) -> Self {
        ShardError::Io(e)
    }
}

/// Writes header and table placeholders, then shard data in order, then the real header and
/// table once every shard's offset and size is known.
struct FilterWriter<W: Write + Seek> {
    out: W,
    position: u64,
    precision: Precision,
    table: Vec<ShardEntry>,
}

impl<W: Write + Seek> FilterWriter<W> {
    fn new(mut out: W, precision: Precision, plan: &[u32]) -> io::Result<Self> {
        let shard_count = plan.len() as u32;
        let data_start = table_end(shard_count);
        io::copy(&mut io::repeat(0).take(data_start), &mut out)?;
        Ok(FilterWriter {
            out,
            position: data_start,
            precision,
            table: plan
                .iter()
                .map(|&first_bucket| ShardEntry {
                    first_bucket,
                    ..ShardEntry::default()
                })
                .collect(),
        })
    }

    /// Adds the next shard, from its sorted, distinct keys.
    fn add_shard(&mut self, shard: u32, keys: &[u64]) -> Result<(), ShardError> {
        let offset = self.position;
        let len = if keys.is_empty() {
            0
        } else {
            let failed =
                |reason| ShardError::Build(BreachError::FilterConstruction { shard, reason });
            match self.precision {
                Precision::Fuse8 => {
                    let filter = BinaryFuse8::try_from(keys).map_err(failed)?;
                    self.write_dma(&filter)?
                }
                Precision::Fuse16 => {
                    let filter = BinaryFuse16::try_from(keys).map_err(failed)?;
                    self.write_dma(&filter)?
                }
            }
        };
        if let Some(entry) = self.table.get_mut(shard as usize) {
            entry.entries = keys.len() as u64;
            entry.offset = offset;
            entry.len = len;
        }
        Ok(())
    }

    /// Writes descriptor slot + fingerprints and pads to the next 8-byte boundary; returns the
    /// shard's data length (without the padding).
    fn write_dma<F: DmaSerializable>(&mut self, filter: &F) -> io::Result<u64> {
        let mut slot = [0u8; DESCRIPTOR_SLOT];
        if let Some(descriptor) = slot.get_mut(..DESCRIPTOR_LEN) {
            filter.dma_copy_descriptor_to(descriptor);
        }
        let fingerprints = filter.dma_fingerprints();
        self.out.write_all(&slot)?;
        self.out.write_all(fingerprints)?;
        let len = (DESCRIPTOR_SLOT + fingerprints.len()) as u64;
        let padding = len.next_multiple_of(DATA_ALIGN) - len;
        self.out
            .write_all(&[0u8; DATA_ALIGN as usize][..padding as usize])?;
        self.position += len + padding;
        Ok(len)
    }

    fn finish(mut self) -> io::Result<(W, Summary)> {
        let entries = self.table.iter().map(|e| e.entries).sum();
        let header = Header {
            precision: self.precision,
            bucket_bits: BUCKET_BITS,
            shard_count: self.table.len() as u32,
            entries,
            file_len: self.position,
        };
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&encode_header(&header))?;
        for entry in &self.table {
            self.out.write_all(&encode_shard_entry(entry))?;
        }
        debug_assert_eq!(
            HEADER_LEN as u64 + (SHARD_ENTRY_LEN * self.table.len()) as u64,
            table_end(header.shard_count)
        );
        self.out.seek(SeekFrom::Start(self.position))?;
        self.out.flush()?;
        Ok((
            self.out,
            Summary {
                entries,
                shards: header.shard_count,
                file_len: self.position,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_one_shard_for_small_or_empty_input() {
        assert_eq!(plan_shards(&[0; BUCKETS], 100), vec![0]);
        assert_eq!(plan_shards(&[1; BUCKETS], 1 << 20), vec![0]);
    }

    #[test]
    fn plan_cuts_even_shards_at_quantiles() {
        let counts = vec![10u64; BUCKETS]; // 40,960 keys
        let plan = plan_shards(&counts, 10_000); // 5 shards of ~8,192
        assert_eq!(plan.len(), 5);
        let sizes: Vec<u64> = shard_bucket_ranges(&plan)
            .map(|r| counts[r].iter().sum())
            .collect();
        assert!(
            sizes.iter().all(|&s| (8_000..=8_300).contains(&s)),
            "{sizes:?}"
        );
        assert_eq!(sizes.iter().sum::<u64>(), 40_960);
    }

    #[test]
    fn plan_never_exceeds_bucket_count() {
        let plan = plan_shards(&[5; BUCKETS], 1);
        assert_eq!(plan.len(), BUCKETS);
        assert!(plan.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn plan_survives_one_huge_bucket() {
        let mut counts = vec![0u64; BUCKETS];
        counts[7] = 1_000;
        let plan = plan_shards(&counts, 100);
        assert!(plan.windows(2).all(|w| w[0] < w[1]));
        assert!(plan.len() <= 10);
    }
}
