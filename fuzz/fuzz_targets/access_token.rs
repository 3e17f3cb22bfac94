//! Bearer tokens: opaque access tokens and RS256 JWTs, verified against a real key ring.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::key_ring;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let verified = key_ring().verify_access_token(&token, "https://issuer/", "https://api/", 0);
    assert!(verified.is_err(), "a token nobody signed was accepted");
});
