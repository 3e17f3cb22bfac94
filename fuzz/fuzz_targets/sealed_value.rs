//! Sealed values (hosted-page transactions, opaque state): opened only when this ring sealed
//! them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_core::tokens::SealPurpose;
use portcullis_fuzz::key_ring;

fuzz_target!(|data: &[u8]| {
    let sealed = String::from_utf8_lossy(data);
    assert!(
        key_ring()
            .open::<serde_json::Value>(SealPurpose::LoginTransaction, &sealed)
            .is_none(),
        "a value nobody sealed was opened"
    );
});
