//! The fuzz target `request_body` (in `fuzz/`) as a property test on stable: any bytes under
//! any content type are parsed into an object or refused with a request error — never a
//! panic, never something other than an object.

use portcullis_http::extract::{Accepts, parse_object};
use proptest::prelude::*;

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("application/json; charset=utf-8".to_owned()),
        Just(String::new()),
        any::<String>(),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        // Near-valid JSON and forms reach deeper.
        "\\{(\"[a-z_]{0,8}\":(\"[^\"]{0,8}\"|[0-9]{1,4}|null|true|\\[\\]|\\{\\}),?){0,6}\\}?"
            .prop_map(String::into_bytes),
        "([a-z_%]{0,8}=[a-zA-Z0-9%+&=]{0,12}&?){0,6}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    #[test]
    fn any_body_is_an_object_or_a_request_error(
        content_type in content_type(),
        body in body(),
        json_only in any::<bool>(),
        drop_nulls in any::<bool>(),
    ) {
        let accepts = if json_only { Accepts::JsonOnly } else { Accepts::JsonOrForm };
        if let Ok(object) = parse_object(&content_type, &body, accepts, drop_nulls)
            && drop_nulls
        {
            prop_assert!(object.values().all(|v| !v.is_null()));
        }
    }
}
