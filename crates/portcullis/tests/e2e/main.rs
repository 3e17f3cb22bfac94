//! End-to-end tests: the real server on a random port, driven over HTTP like a client would.
//! All modules form one test binary so it links once.

mod actions;
mod attacks;
mod breach;
mod browser;
mod brute_force;
mod cli;
mod concurrency;
mod embedded_login;
mod enumeration;
mod faults;
mod helpers;
mod hosted_mfa;
mod hostile;
mod logs;
mod management;
mod mfa;
mod operations;
mod password_rules;
mod refresh;
mod reset;
mod scale_out;
mod shutdown;
mod signup;
mod throttling;
mod token;
mod token_attacks;
mod web_login;
