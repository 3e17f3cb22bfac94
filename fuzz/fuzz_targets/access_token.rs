//! Bearer tokens: opaque access tokens and RS256 JWTs, verified against a real key ring.
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
    let token = String::from_utf8_lossy(data);
    let verified = ring().verify_access_token(&token, "https://issuer/", "https://api/", 0);
    assert!(verified.is_err(), "a token nobody signed was accepted");
});
