//! Request bodies: JSON and form data under every content type the edge meets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_http::extract::{Accepts, parse_object};

const CONTENT_TYPES: [&str; 5] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "",
    "application/json; charset=utf-8",
    "text/plain",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let accepts = if selector & 0x80 == 0 {
        Accepts::JsonOrForm
    } else {
        Accepts::JsonOnly
    };
    let _ = parse_object(content_type, body, accepts, selector & 0x40 == 0);
});
