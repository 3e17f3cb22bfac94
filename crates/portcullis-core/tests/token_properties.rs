//! The fuzz targets `access_token` and `sealed_value` (in `fuzz/`) as property tests on
//! stable: nothing but what this key ring signed or sealed is ever accepted, and any change
//! to a signed or sealed string is refused.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::tokens::{AccessClaims, Audience, KeyRing, SealPurpose, generate_key_record};
use proptest::prelude::*;

const ISSUER: &str = "https://issuer.example/";
const AUDIENCE: &str = "https://api.example/";

fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| {
        KeyRing::from_records(vec![generate_key_record(1, 0).expect("key")]).expect("ring")
    })
}

fn claims() -> AccessClaims {
    AccessClaims {
        iss: ISSUER.to_owned(),
        sub: "auth0|someone".to_owned(),
        aud: Audience::One(AUDIENCE.to_owned()),
        iat: 1_000,
        exp: 2_000,
        scope: Some("read:users".to_owned()),
        gty: None,
        azp: "client".to_owned(),
        custom: serde_json::Map::new(),
    }
}

fn verifies(token: &str) -> bool {
    ring()
        .verify_access_token(token, ISSUER, AUDIENCE, 1_500)
        .is_ok()
}

/// Three base64url segments of JSON-ish or random bytes: what a forger would try.
fn forged_jwt() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        Just(URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)),
        Just(URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"x"}"#)),
        Just(URL_SAFE_NO_PAD.encode(
            r#"{"iss":"https://issuer.example/","sub":"a","aud":"https://api.example/","iat":1,"exp":9999999999,"azp":"c"}"#
        )),
        "[A-Za-z0-9_-]{0,40}",
    ];
    (segment.clone(), segment.clone(), segment).prop_map(|(h, p, s)| format!("{h}.{p}.{s}"))
}

proptest! {
    #[test]
    fn arbitrary_strings_never_verify(token in any::<String>()) {
        prop_assert!(!verifies(&token));
        prop_assert!(ring().open::<serde_json::Value>(SealPurpose::LoginTransaction, &token).is_none());
    }

    #[test]
    fn forged_tokens_never_verify(token in forged_jwt()) {
        prop_assert!(!verifies(&token));
    }

    #[test]
    fn any_change_to_a_signed_token_is_refused(position in any::<prop::sample::Index>(), byte in 0x21u8..0x7f) {
        let token = ring().sign(&claims()).expect("sign");
        prop_assert!(verifies(&token));
        let mut bytes = token.into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        prop_assert!(!verifies(&String::from_utf8(bytes).expect("ascii")));
    }

    #[test]
    fn any_change_to_an_opaque_token_or_sealed_value_is_refused(position in any::<prop::sample::Index>(), byte in 0x21u8..0x7f) {
        for sealed in [
            ring().seal_opaque(&claims()).expect("seal"),
            ring().seal(SealPurpose::LoginTransaction, &serde_json::json!({"state": "abc", "n": 1})).expect("seal"),
        ] {
            let mut bytes = sealed.clone().into_bytes();
            let i = position.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(!verifies(&changed));
            prop_assert!(ring().open::<serde_json::Value>(SealPurpose::LoginTransaction, &changed).is_none());
        }
    }
}
