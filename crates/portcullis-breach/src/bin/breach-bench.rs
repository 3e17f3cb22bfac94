//! Build-and-query benchmark for the breached-password filter, on synthetic data.
//!
//! ```text
//! cargo run --release -p portcullis-breach --bin breach-bench -- [N] [M] [fuse8|fuse16] [TEMP_DIR]
//! ```
//!
//! Writes N random SHA-1s as a Pwned Passwords file (streamed), builds the filter with
//! `build_filter_file`, maps it, checks that every member is found, measures the false positive
//! rate on M random non-members (default 10⁷), and the latency of single lookups (p50/p99).
//! Peak RSS is the process's VmHWM, reset just before the build where the kernel allows it.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use portcullis_breach::{BreachFilter, Precision, build_filter_file};

/// splitmix64: fast, deterministic, good enough for synthetic hashes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn sha1(&mut self) -> [u8; 20] {
        let mut out = [0u8; 20];
        for chunk in out.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            let n = chunk.len();
            chunk.copy_from_slice(bytes.get(..n).unwrap_or(&[]));
        }
        out
    }
}

const MEMBER_SEED: u64 = 0x5EED_0001;
const OUTSIDER_SEED: u64 = 0x5EED_0002;
const LATENCY_SAMPLES: usize = 1_000_000;

fn status_kib(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(0)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("breach-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u64 = args.first().map_or(Ok(10_000_000), |s| s.parse())?;
    let m: u64 = args.get(1).map_or(Ok(10_000_000), |s| s.parse())?;
    let precision: Precision = args
        .get(2)
        .map_or(Ok(Precision::default()), |s| s.parse())?;
    let base = args
        .get(3)
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join(format!("breach-bench-{}", std::process::id()));
    fs::create_dir_all(&base)?;
    let result = bench(n, m, precision, &base);
    let _ = fs::remove_dir_all(&base);
    result
}

fn bench(
    n: u64,
    m: u64,
    precision: Precision,
    base: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("breach-bench: N = {n} members, M = {m} non-members, precision {precision}");

    // 1. Synthetic Pwned Passwords file, streamed.
    let corpus = base.join("pwned-passwords-sha1.txt");
    let started = Instant::now();
    {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&corpus)?);
        let mut rng = Rng(MEMBER_SEED);
        let mut line = String::with_capacity(64);
        for i in 0..n {
            line.clear();
            line.push_str(&hex::encode_upper(rng.sha1()));
            line.push(':');
            line.push_str(&(1 + i % 1000).to_string());
            line.push_str("\r\n");
            out.write_all(line.as_bytes())?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    println!(
        "corpus:  {:.1} MB written in {:.2?}",
        fs::metadata(&corpus)?.len() as f64 / 1e6,
        started.elapsed()
    );

    // 2. Build. Reset the peak-RSS counter first (Linux: "5" to clear_refs).
    let _ = fs::write("/proc/self/clear_refs", "5");
    let output = base.join("breach.pcbreach");
    let started = Instant::now();
    let stats = build_filter_file(std::slice::from_ref(&corpus), &output, precision, base)?;
    let build_time = started.elapsed();
    let peak = status_kib("VmHWM:");
    fs::remove_file(&corpus)?;
    println!(
        "build:   {build_time:.2?} ({:.0} k entries/s), peak RSS {}",
        n as f64 / build_time.as_secs_f64() / 1e3,
        mib(peak)
    );
    println!(
        "         entries read {}, distinct {}, shards {}, largest shard {} keys",
        stats.entries_read, stats.distinct_keys, stats.shards, stats.peak_shard_keys
    );
    println!(
        "file:    {} bytes = {:.4} bytes/entry",
        stats.file_bytes,
        stats.file_bytes as f64 / stats.distinct_keys.max(1) as f64
    );

    // 3. Open (mmap) and check membership.
    let anon_before = status_kib("RssAnon:");
    let started = Instant::now();
    let filter = BreachFilter::open(&output)?;
    let open_time = started.elapsed();
    let anon_after = status_kib("RssAnon:");
    println!(
        "open:    {open_time:.2?}, anonymous RSS {} -> {} (the filter is mapped, not read)",
        mib(anon_before),
        mib(anon_after)
    );
    let started = Instant::now();
    let mut rng = Rng(MEMBER_SEED);
    let missing = (0..n)
        .filter(|_| !filter.contains_sha1(&rng.sha1()))
        .count();
    let member_time = started.elapsed();
    println!(
        "members: {missing} of {n} missing (false negatives), {:.0} ns/lookup in a loop",
        member_time.as_nanos() as f64 / n.max(1) as f64
    );
    if missing != 0 {
        return Err("false negatives".into());
    }

    // 4. False positive rate on non-members.
    let mut rng = Rng(OUTSIDER_SEED);
    let started = Instant::now();
    let false_positives = (0..m).filter(|_| filter.contains_sha1(&rng.sha1())).count();
    let fp_time = started.elapsed();
    let fpr = false_positives as f64 / m.max(1) as f64;
    println!(
        "FPR:     {false_positives} of {m} = {fpr:.3e} (1/{:.0}; expected 1/{:.0}), {:.0} ns/lookup",
        1.0 / fpr,
        1.0 / precision.false_positive_rate(),
        fp_time.as_nanos() as f64 / m.max(1) as f64
    );

    // 5. Latency of single lookups: half members, half not, random order; and with SHA-1.
    let mut queries: Vec<[u8; 20]> = Vec::with_capacity(LATENCY_SAMPLES);
    let mut members = Rng(MEMBER_SEED);
    let mut outsiders = Rng(OUTSIDER_SEED ^ 0xABCD);
    let mut coin = Rng(99);
    for _ in 0..LATENCY_SAMPLES {
        queries.push(if coin.next() & 1 == 0 {
            members.sha1()
        } else {
            outsiders.sha1()
        });
    }
    let mut nanos: Vec<u64> = Vec::with_capacity(LATENCY_SAMPLES);
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        hits += usize::from(std::hint::black_box(
            filter.contains_sha1(std::hint::black_box(q)),
        ));
        nanos.push(t.elapsed().as_nanos() as u64);
    }
    nanos.sort_unstable();
    println!(
        "latency: contains_sha1 p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({hits} hits)",
        percentile(&nanos, 0.50),
        percentile(&nanos, 0.99),
        percentile(&nanos, 0.999),
        nanos.last().copied().unwrap_or(0)
    );
    let passwords: Vec<String> = (0..LATENCY_SAMPLES / 10)
        .map(|i| format!("password-{i}"))
        .collect();
    nanos.clear();
    for p in &passwords {
        let t = Instant::now();
        std::hint::black_box(filter.contains_password(std::hint::black_box(p)));
        nanos.push(t.elapsed().as_nanos() as u64);
    }
    nanos.sort_unstable();
    println!(
        "latency: contains_password (incl. SHA-1) p50 {} ns, p99 {} ns",
        percentile(&nanos, 0.50),
        percentile(&nanos, 0.99)
    );
    println!("peak RSS of the whole run {}", mib(status_kib("VmHWM:")));
    Ok(())
}
