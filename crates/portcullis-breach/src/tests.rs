//! Crate-level tests on small generated corpora (nothing is downloaded).

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::*;

/// Deterministic generator (splitmix64) so statistical checks cannot flake.
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
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        out
    }
}

fn write_file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn gzip(content: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(content).unwrap();
    enc.finish().unwrap()
}

fn corpus(path: &Path) -> Vec<[u8; 20]> {
    read_corpus(path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn hex_upper(sha1: &[u8; 20]) -> String {
    hex::encode_upper(sha1)
}

// ---------- keys and precision ----------

#[test]
fn sha1_and_key_match_pwned_passwords() {
    let sha1 = sha1_of("password");
    assert_eq!(hex_upper(&sha1), "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
    assert_eq!(key_of(&sha1), 0x5BAA_61E4_C9B9_3F3F);
}

#[test]
fn precision_parses_and_defaults_to_fuse16() {
    assert_eq!(Precision::default(), Precision::Fuse16);
    for (s, p) in [
        ("8", Precision::Fuse8),
        ("fuse8", Precision::Fuse8),
        ("FUSE8", Precision::Fuse8),
        ("16", Precision::Fuse16),
        ("fuse16", Precision::Fuse16),
    ] {
        assert_eq!(s.parse::<Precision>().unwrap(), p, "{s}");
        assert_eq!(p.to_string().parse::<Precision>().unwrap(), p);
    }
    assert!(matches!(
        "32".parse::<Precision>(),
        Err(BreachError::InvalidPrecision(_))
    ));
}

// ---------- corpus formats ----------

#[test]
fn reads_pwned_passwords_format_upper_and_lower_case() {
    let dir = tempfile::tempdir().unwrap();
    let a = sha1_of("hunter2");
    let b = sha1_of("letmein");
    let padding = sha1_of("not breached");
    let text = format!(
        "{}:42\r\n{}:7\r\n{}:0\r\n",
        hex_upper(&a),
        hex::encode(b),
        hex_upper(&padding)
    );
    let path = write_file(dir.path(), "pwned.txt", text.as_bytes());
    assert_eq!(corpus(&path), vec![a, b]);
}

#[test]
fn reads_bare_hex_lines() {
    let dir = tempfile::tempdir().unwrap();
    let a = sha1_of("a");
    let b = sha1_of("b");
    let text = format!("{}\n\n{}", hex::encode(a), hex_upper(&b)); // no final newline
    let path = write_file(dir.path(), "hashes.txt", text.as_bytes());
    assert_eq!(corpus(&path), vec![a, b]);
}

#[test]
fn reads_plain_passwords_with_crlf_bom_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\u{feff}123456\r\n\r\n  spaced out  \npässwörd\n\nlast";
    let path = write_file(dir.path(), "rockyou.txt", text.as_bytes());
    assert_eq!(
        corpus(&path),
        vec![
            sha1_of("123456"),
            sha1_of("  spaced out  "),
            sha1_of("pässwörd"),
            sha1_of("last")
        ]
    );
}

#[test]
fn gzip_is_detected_by_magic_bytes_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let plain = format!("{}:3\nsecret\n", hex_upper(&sha1_of("x")));
    let expected = vec![sha1_of("x"), sha1_of("secret")];
    // Compressed, named .txt.
    let gz = write_file(dir.path(), "corpus.txt", &gzip(plain.as_bytes()));
    assert_eq!(corpus(&gz), expected);
    // Two concatenated gzip members (as `cat a.gz b.gz` makes).
    let mut two = gzip(b"one\n");
    two.extend(gzip(b"two\n"));
    let multi = write_file(dir.path(), "multi", &two);
    assert_eq!(corpus(&multi), vec![sha1_of("one"), sha1_of("two")]);
    // Not compressed, named .gz.
    let fake = write_file(dir.path(), "corpus.gz", plain.as_bytes());
    assert_eq!(corpus(&fake), expected);
}

#[test]
fn corpus_errors_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    // A corrupt gzip stream.
    let mut gz = gzip(b"alpha\nbeta\ngamma\n".repeat(1000).as_slice());
    let cut = gz.len() / 2;
    gz.truncate(cut);
    let path = write_file(dir.path(), "cut.gz", &gz);
    let results: Vec<_> = read_corpus(&path).unwrap().collect();
    assert!(matches!(results.last(), Some(Err(BreachError::Io { .. }))));
    // The NTLM edition of Pwned Passwords.
    let path = write_file(
        dir.path(),
        "ntlm.txt",
        b"8846F7EAEE8FB117AD06BDD830B7586C:2\n",
    );
    let results: Vec<_> = read_corpus(&path).unwrap().collect();
    assert!(matches!(
        results.as_slice(),
        [Err(BreachError::NtlmCorpus { line: 1, .. })]
    ));
    // A binary blob with no line breaks.
    let path = write_file(dir.path(), "blob", &vec![b'x'; 200_000]);
    let results: Vec<_> = read_corpus(&path).unwrap().collect();
    assert!(matches!(
        results.as_slice(),
        [Err(BreachError::LineTooLong { line: 1, .. })]
    ));
    // A missing file.
    assert!(matches!(
        read_corpus(&dir.path().join("missing")),
        Err(BreachError::Io { .. })
    ));
}

// ---------- building and querying ----------

#[test]
fn every_password_of_every_input_format_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let passwords: Vec<String> = (0..3000).map(|i| format!("password-{i}")).collect();
    let (hibp, rest) = passwords.split_at(1000);
    let (plain, hexed) = rest.split_at(1000);
    let hibp_text: String = hibp
        .iter()
        .map(|p| format!("{}:{}\r\n", hex_upper(&sha1_of(p)), p.len()))
        .collect();
    let plain_text: String = plain.iter().map(|p| format!("{p}\n")).collect();
    let hex_text: String = hexed
        .iter()
        .map(|p| format!("{}\n", hex::encode(sha1_of(p))))
        .collect();
    let inputs = vec![
        write_file(dir.path(), "hibp.txt", hibp_text.as_bytes()),
        write_file(dir.path(), "plain.gz", &gzip(plain_text.as_bytes())),
        write_file(dir.path(), "hex.txt", hex_text.as_bytes()),
        // The same passwords again: duplicates are merged.
        write_file(dir.path(), "again.txt", plain_text.as_bytes()),
    ];
    for precision in [Precision::Fuse8, Precision::Fuse16] {
        let output = dir.path().join(format!("{precision}.pcbreach"));
        let stats = build_filter_file(&inputs, &output, precision, dir.path()).unwrap();
        assert_eq!(stats.entries_read, 4000);
        assert_eq!(stats.distinct_keys, 3000);
        assert_eq!(stats.shards, 1);
        assert_eq!(stats.peak_shard_keys, 4000);
        let filter = BreachFilter::open(&output).unwrap();
        assert_eq!(filter.entries(), 3000);
        assert_eq!(filter.precision(), precision);
        assert_eq!(filter.size_bytes(), stats.file_bytes);
        assert_eq!(std::fs::metadata(&output).unwrap().len(), stats.file_bytes);
        for p in &passwords {
            assert!(filter.contains_password(p), "{precision}: {p} missing");
        }
        // The in-memory builder writes the very same file.
        let keys = passwords.iter().map(|p| key_of(&sha1_of(p)));
        let image = build_filter_from_keys(keys, precision).unwrap();
        assert_eq!(image, std::fs::read(&output).unwrap());
    }
    // Only the corpora and the two outputs are left: no spill or partial files.
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "again.txt",
            "fuse16.pcbreach",
            "fuse8.pcbreach",
            "hex.txt",
            "hibp.txt",
            "plain.gz"
        ]
    );
}

/// No false negatives, false positive rate and size, at 10⁶ keys.
fn check_precision(precision: Precision, max_bytes_per_entry: f64, target_fpr: f64) {
    const N: usize = 1_000_000;
    let mut rng = Rng(precision.bits().into());
    let keys: Vec<u64> = (0..N).map(|_| rng.next()).collect();
    let filter =
        BreachFilter::from_bytes(build_filter_from_keys(keys.iter().copied(), precision).unwrap())
            .unwrap();
    assert_eq!(filter.entries(), N as u64);
    assert!(keys.iter().all(|&k| filter.contains_key(k)));

    let bytes_per_entry = filter.size_bytes() as f64 / N as f64;
    assert!(
        bytes_per_entry <= max_bytes_per_entry,
        "{precision}: {bytes_per_entry} bytes/entry"
    );

    let false_positives = (0..N).filter(|_| filter.contains_sha1(&rng.sha1())).count();
    let fpr = false_positives as f64 / N as f64;
    // Sampling noise: allow 4 standard deviations of a binomial at the target rate.
    let allowed = target_fpr + 4.0 * (target_fpr / N as f64).sqrt();
    eprintln!(
        "{precision}: {bytes_per_entry:.4} bytes/entry, FPR {fpr:.3e} = 1/{:.0} ({false_positives} of {N})",
        1.0 / fpr
    );
    assert!(fpr <= allowed, "{precision}: FPR {fpr}, allowed {allowed}");
}

#[test]
fn fuse16_at_a_million_keys() {
    check_precision(Precision::Fuse16, 2.5, 1.0 / 65_000.0);
}

#[test]
fn fuse8_at_a_million_keys() {
    check_precision(Precision::Fuse8, 1.2, 1.0 / 250.0);
}

#[test]
fn small_and_empty_sets() {
    for precision in [Precision::Fuse8, Precision::Fuse16] {
        let empty =
            BreachFilter::from_bytes(build_filter_from_keys([], precision).unwrap()).unwrap();
        assert_eq!(empty.entries(), 0);
        assert_eq!(empty.shard_count(), 1);
        assert!(!empty.contains_password("password"));
        let mut rng = Rng(7);
        for n in [1usize, 2, 3, 4, 5, 10, 31, 100, 1000] {
            let keys: Vec<u64> = (0..n).map(|_| rng.next()).collect();
            let filter =
                BreachFilter::from_bytes(build_filter_from_keys(keys.clone(), precision).unwrap())
                    .unwrap();
            assert_eq!(filter.entries(), n as u64);
            assert!(keys.iter().all(|&k| filter.contains_key(k)), "n = {n}");
        }
    }
}

#[test]
fn sharding_with_a_small_forced_shard_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(42);
    let hashes: Vec<[u8; 20]> = (0..20_000).map(|_| rng.sha1()).collect();
    let text: String = hashes
        .iter()
        .map(|h| format!("{}:1\n", hex_upper(h)))
        .collect();
    let input = write_file(dir.path(), "corpus.txt", &gzip(text.as_bytes()));
    let output = dir.path().join("sharded.pcbreach");
    let temp = dir.path().join("spill");
    let stats = build_filter_file_with_shard_target(
        std::slice::from_ref(&input),
        &output,
        Precision::Fuse16,
        &temp,
        1_000,
    )
    .unwrap();
    assert_eq!(stats.shards, 20);
    assert_eq!(stats.distinct_keys, 20_000);
    assert!((900..=1_200).contains(&stats.peak_shard_keys), "{stats:?}");
    let filter = BreachFilter::open(&output).unwrap();
    assert_eq!(filter.shard_count(), 20);
    assert!(hashes.iter().all(|h| filter.contains_sha1(h)));
    let false_positives = (0..100_000)
        .filter(|_| filter.contains_sha1(&rng.sha1()))
        .count();
    assert!(false_positives < 10, "{false_positives}");
    // The spill directory is cleaned up.
    assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 0);
    // Same bytes from the in-memory builder.
    let image = build_filter_from_keys_with_shard_target(
        hashes.iter().map(key_of),
        Precision::Fuse16,
        1_000,
    )
    .unwrap();
    assert_eq!(image, std::fs::read(&output).unwrap());
}

// ---------- damaged files ----------

fn small_image(precision: Precision, target: u64) -> (Vec<u8>, Vec<u64>) {
    let mut rng = Rng(3);
    let keys: Vec<u64> = (0..600).map(|_| rng.next()).collect();
    let image =
        build_filter_from_keys_with_shard_target(keys.iter().copied(), precision, target).unwrap();
    (image, keys)
}

#[test]
fn every_truncation_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (image, _) = small_image(Precision::Fuse16, 200);
    let path = dir.path().join("cut.pcbreach");
    for len in 0..image.len() {
        assert!(
            BreachFilter::from_bytes(image[..len].to_vec()).is_err(),
            "len {len}"
        );
        if len.is_multiple_of(97) {
            std::fs::write(&path, &image[..len]).unwrap();
            assert!(BreachFilter::open(&path).is_err(), "file len {len}");
        }
    }
    let mut longer = image.clone();
    longer.extend([0u8; 8]);
    assert!(BreachFilter::from_bytes(longer).is_err());
    assert!(BreachFilter::from_bytes(image).is_ok());
    assert!(BreachFilter::open(&dir.path().join("missing")).is_err());
}

#[test]
fn corrupted_bytes_never_panic() {
    for precision in [Precision::Fuse8, Precision::Fuse16] {
        let (image, keys) = small_image(precision, 200);
        let filter = BreachFilter::from_bytes(image.clone()).unwrap();
        assert_eq!(filter.shard_count(), 3);
        // Header, table and each shard's descriptor (the bytes a query trusts).
        let table_end = 64 + 32 * 3;
        let mut positions: Vec<usize> = (0..table_end).collect();
        for shard in 0..3 {
            let at = 64 + 32 * shard + 16;
            let offset = u64::from_le_bytes(image[at..at + 8].try_into().unwrap()) as usize;
            positions.extend(offset..offset + 24);
        }
        let mut opened = 0;
        for &pos in &positions {
            for value in [0x00u8, 0x01, 0x80, 0xff, image[pos] ^ 0x10] {
                let mut bad = image.clone();
                bad[pos] = value;
                if let Ok(filter) = BreachFilter::from_bytes(bad) {
                    opened += 1;
                    // Wrong answers are possible; panics are not.
                    for &k in &keys {
                        let _ = filter.contains_key(k);
                        let _ = filter.contains_key(!k);
                    }
                }
            }
        }
        assert!(
            opened > 0,
            "some corruptions (seeds, reserved fields) still open"
        );
    }
}

#[test]
fn wrong_magic_and_version_are_reported() {
    let (image, _) = small_image(Precision::Fuse8, 1_000);
    let mut bad = image.clone();
    bad[0] = b'X';
    assert!(matches!(
        BreachFilter::from_bytes(bad),
        Err(BreachError::InvalidFilter(_))
    ));
    let mut newer = image;
    newer[8] = 2;
    assert!(matches!(
        BreachFilter::from_bytes(newer),
        Err(BreachError::UnsupportedVersion(2))
    ));
}

#[test]
fn unaligned_input_buffer_is_copied_to_an_aligned_one() {
    let (image, keys) = small_image(Precision::Fuse16, 1_000);
    let filter = BreachFilter::from_bytes_copied(&image).unwrap();
    assert!(keys.iter().all(|&k| filter.contains_key(k)));
}

#[test]
fn filter_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<BreachFilter>();
    assert_send_sync::<BreachError>();
}
