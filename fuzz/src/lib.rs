//! What the fuzz targets share: a real key ring, generated once per process.

use std::sync::OnceLock;

use portcullis_core::tokens::{KeyRing, generate_key_record};

/// A ring of one freshly generated RSA key.
pub fn key_ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| {
        let key = generate_key_record(1, 0).expect("key");
        KeyRing::from_records(vec![key]).expect("ring")
    })
}
