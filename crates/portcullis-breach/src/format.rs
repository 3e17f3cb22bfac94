//! The on-disk layout (see the crate documentation): header, shard table, shard data.

use crate::{BreachError, Precision};

pub(crate) const MAGIC: [u8; 8] = *b"PCBREACH";
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 64;
pub(crate) const SHARD_ENTRY_LEN: usize = 32;
/// A key's bucket is its top `BUCKET_BITS` bits; shards are runs of consecutive buckets.
pub(crate) const BUCKET_BITS: u32 = 12;
pub(crate) const BUCKETS: usize = 1 << BUCKET_BITS;
/// Largest bucket-bits value a reader accepts (keeps the bucket→shard table small).
const MAX_BUCKET_BITS: u32 = 16;
/// xorf's descriptor, padded so that the fingerprints start 8-byte aligned.
pub(crate) const DESCRIPTOR_SLOT: usize = 24;
pub(crate) const DESCRIPTOR_LEN: usize = xorf::Descriptor::DMA_LEN;
pub(crate) const DATA_ALIGN: u64 = 8;

const _: () = assert!(DESCRIPTOR_LEN <= DESCRIPTOR_SLOT);
const _: () = assert!(DESCRIPTOR_SLOT.is_multiple_of(8));

/// The fixed-size file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub precision: Precision,
    pub bucket_bits: u32,
    pub shard_count: u32,
    pub entries: u64,
    pub file_len: u64,
}

/// One shard table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ShardEntry {
    pub first_bucket: u32,
    pub entries: u64,
    pub offset: u64,
    pub len: u64,
}

/// A shard that passed validation: byte positions of its descriptor and fingerprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShardView {
    /// Offset of the 20-byte descriptor.
    pub descriptor: usize,
    /// Fingerprint byte range; empty for an empty shard.
    pub fingerprints_start: usize,
    pub fingerprints_end: usize,
}

impl ShardView {
    pub(crate) fn is_empty(&self) -> bool {
        self.fingerprints_start == self.fingerprints_end
    }
}

/// Everything `BreachFilter` keeps from a validated file.
#[derive(Debug)]
pub(crate) struct Layout {
    pub header: Header,
    pub bucket_to_shard: Box<[u16]>,
    pub shards: Box<[ShardView]>,
}

pub(crate) fn table_end(shard_count: u32) -> u64 {
    HEADER_LEN as u64 + SHARD_ENTRY_LEN as u64 * u64::from(shard_count)
}

pub(crate) fn encode_header(h: &Header) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[0..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12] = h.precision.bits();
    out[13] = h.bucket_bits as u8;
    out[16..20].copy_from_slice(&h.shard_count.to_le_bytes());
    out[24..32].copy_from_slice(&h.entries.to_le_bytes());
    out[32..40].copy_from_slice(&h.file_len.to_le_bytes());
    out
}

pub(crate) fn encode_shard_entry(e: &ShardEntry) -> [u8; SHARD_ENTRY_LEN] {
    let mut out = [0u8; SHARD_ENTRY_LEN];
    out[0..4].copy_from_slice(&e.first_bucket.to_le_bytes());
    out[8..16].copy_from_slice(&e.entries.to_le_bytes());
    out[16..24].copy_from_slice(&e.offset.to_le_bytes());
    out[24..32].copy_from_slice(&e.len.to_le_bytes());
    out
}

fn invalid(msg: impl Into<String>) -> BreachError {
    BreachError::InvalidFilter(msg.into())
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, BreachError> {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| invalid("truncated"))
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, BreachError> {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| invalid("truncated"))
}

fn all_zero(bytes: &[u8], range: std::ops::Range<usize>) -> bool {
    bytes.get(range).is_some_and(|r| r.iter().all(|&b| b == 0))
}

fn decode_header(bytes: &[u8]) -> Result<Header, BreachError> {
    if bytes.len() < HEADER_LEN {
        return Err(invalid(format!(
            "{} bytes is shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    if bytes.get(0..8) != Some(&MAGIC[..]) {
        return Err(invalid("bad magic (not a PCBREACH file)"));
    }
    let version = u32_at(bytes, 8)?;
    if version != FORMAT_VERSION {
        return Err(BreachError::UnsupportedVersion(version));
    }
    let precision_byte = bytes.get(12).copied().unwrap_or(0);
    let precision = Precision::from_bits(precision_byte)
        .ok_or_else(|| invalid(format!("unknown precision {precision_byte}")))?;
    let bucket_bits = u32::from(bytes.get(13).copied().unwrap_or(0));
    if !(1..=MAX_BUCKET_BITS).contains(&bucket_bits) {
        return Err(invalid(format!("bucket bits {bucket_bits} out of range")));
    }
    if !all_zero(bytes, 14..16) || !all_zero(bytes, 20..24) || !all_zero(bytes, 40..HEADER_LEN) {
        return Err(invalid("reserved header bytes are not zero"));
    }
    Ok(Header {
        precision,
        bucket_bits,
        shard_count: u32_at(bytes, 16)?,
        entries: u64_at(bytes, 24)?,
        file_len: u64_at(bytes, 32)?,
    })
}

fn decode_shard_entry(bytes: &[u8], index: u32) -> Result<ShardEntry, BreachError> {
    let at = HEADER_LEN + SHARD_ENTRY_LEN * index as usize;
    if u32_at(bytes, at + 4)? != 0 {
        return Err(invalid(format!(
            "shard {index}: reserved bytes are not zero"
        )));
    }
    Ok(ShardEntry {
        first_bucket: u32_at(bytes, at)?,
        entries: u64_at(bytes, at + 8)?,
        offset: u64_at(bytes, at + 16)?,
        len: u64_at(bytes, at + 24)?,
    })
}

/// Checks that a binary fuse descriptor cannot make `contains` index outside `fingerprint_count`
/// fingerprints: xorf reads `h0 < scl`, `h1` in the next segment and `h2` in the one after, so
/// with a power-of-two segment length dividing `scl`, every index is below `scl + 2 × len`.
fn validate_descriptor(
    descriptor: &[u8],
    fingerprint_count: u64,
    shard: u32,
) -> Result<(), BreachError> {
    let segment_length = u32_at(descriptor, 8)?;
    let segment_length_mask = u32_at(descriptor, 12)?;
    let segment_count_length = u32_at(descriptor, 16)?;
    let bad = |what: &str| invalid(format!("shard {shard}: {what}"));
    if !segment_length.is_power_of_two() || segment_length_mask != segment_length - 1 {
        return Err(bad("bad segment length"));
    }
    if !segment_count_length.is_multiple_of(segment_length) {
        return Err(bad(
            "segment count length is not a multiple of the segment length",
        ));
    }
    let reach = u64::from(segment_count_length) + 2 * u64::from(segment_length);
    if reach > fingerprint_count || reach > u64::from(u32::MAX) {
        return Err(bad("descriptor reaches past the fingerprints"));
    }
    Ok(())
}

/// Validates a whole file image and computes where each shard lives. Never panics, never
/// allocates more than the (bounded) bucket→shard and shard tables.
pub(crate) fn parse_layout(bytes: &[u8]) -> Result<Layout, BreachError> {
    let header = decode_header(bytes)?;
    let file_len = bytes.len() as u64;
    if header.file_len != file_len {
        return Err(invalid(format!(
            "file is {file_len} bytes, header says {} (truncated or appended to)",
            header.file_len
        )));
    }
    let buckets = 1u32 << header.bucket_bits;
    if header.shard_count == 0 || header.shard_count > buckets {
        return Err(invalid(format!(
            "shard count {} out of range",
            header.shard_count
        )));
    }
    let data_start = table_end(header.shard_count);
    if data_start > file_len {
        return Err(invalid("shard table runs past the end of the file"));
    }

    let fp_bytes = header.precision.fingerprint_bytes();
    let mut shards = Vec::with_capacity(header.shard_count as usize);
    let mut bucket_to_shard = vec![0u16; buckets as usize];
    let mut total: u64 = 0;
    let mut previous_first: Option<u32> = None;
    for index in 0..header.shard_count {
        let e = decode_shard_entry(bytes, index)?;
        let bad = |what: &str| invalid(format!("shard {index}: {what}"));
        match previous_first {
            None if e.first_bucket != 0 => return Err(bad("first shard must start at bucket 0")),
            Some(p) if e.first_bucket <= p => return Err(bad("buckets are not increasing")),
            _ => {}
        }
        if e.first_bucket >= buckets {
            return Err(bad("first bucket out of range"));
        }
        previous_first = Some(e.first_bucket);
        total = total
            .checked_add(e.entries)
            .ok_or_else(|| bad("entry count overflows"))?;

        let end = e
            .offset
            .checked_add(e.len)
            .ok_or_else(|| bad("offset overflows"))?;
        if !e.offset.is_multiple_of(DATA_ALIGN) || e.offset < data_start || end > file_len {
            return Err(bad("data out of bounds or misaligned"));
        }
        let view = if e.len == 0 {
            if e.entries != 0 {
                return Err(bad("has entries but no data"));
            }
            ShardView {
                descriptor: 0,
                fingerprints_start: 0,
                fingerprints_end: 0,
            }
        } else {
            if e.entries == 0 {
                return Err(bad("has data but no entries"));
            }
            let fingerprints_len = e
                .len
                .checked_sub(DESCRIPTOR_SLOT as u64)
                .ok_or_else(|| bad("data shorter than a descriptor"))?;
            if !fingerprints_len.is_multiple_of(fp_bytes) {
                return Err(bad(
                    "fingerprint bytes are not a whole number of fingerprints",
                ));
            }
            // `end <= file_len == bytes.len()`, so these fit in usize.
            let descriptor = e.offset as usize;
            let descriptor_bytes = bytes
                .get(descriptor..descriptor + DESCRIPTOR_LEN)
                .ok_or_else(|| bad("descriptor out of bounds"))?;
            validate_descriptor(descriptor_bytes, fingerprints_len / fp_bytes, index)?;
            ShardView {
                descriptor,
                fingerprints_start: descriptor + DESCRIPTOR_SLOT,
                fingerprints_end: end as usize,
            }
        };
        shards.push(view);
    }
    if total != header.entries {
        return Err(invalid(format!(
            "shards hold {total} entries, header says {}",
            header.entries
        )));
    }
    // Fill bucket→shard: shard i covers [first_i, first_{i+1}).
    for index in 0..header.shard_count {
        let first = decode_shard_entry(bytes, index)?.first_bucket as usize;
        let next = if index + 1 < header.shard_count {
            decode_shard_entry(bytes, index + 1)?.first_bucket as usize
        } else {
            buckets as usize
        };
        if let Some(range) = bucket_to_shard.get_mut(first..next) {
            range.fill(index as u16);
        }
    }
    Ok(Layout {
        header,
        bucket_to_shard: bucket_to_shard.into_boxed_slice(),
        shards: shards.into_boxed_slice(),
    })
}
