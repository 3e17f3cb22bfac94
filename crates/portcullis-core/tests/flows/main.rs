//! The flows of core against the in-memory store: each flow's rules at the speed of a unit
//! test, beside the end-to-end tests that drive the real server over HTTP.

mod harness;
mod login;
mod mfa;
mod refresh;
mod reset;
mod signup;
