//! Sealed values (hosted-page transactions, opaque state): opened only when this ring sealed
//! them.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portcullis_core::tokens::{KeyRing, generate_key_record};

fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| {
        let key = generate_key_record(1, 0).expect("key");
        KeyRing::from_records(vec![key]).expect("ring")
    })
}

fuzz_target!(|data: &[u8]| {
    let sealed = String::from_utf8_lossy(data);
    assert!(
        ring().open::<serde_json::Value>(&sealed).is_none(),
        "a value nobody sealed was opened"
    );
});
