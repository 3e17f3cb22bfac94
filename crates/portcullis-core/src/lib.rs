//! Portcullis' domain: tenants, connections, users, password rules, tokens and the flows that
//! combine them. Nothing here knows HTTP or SQL: storage is the [`store::Store`] trait, time is the
//! [`clock::Clock`] trait, and every outcome a client can see is an [`error::Error`] variant that the
//! HTTP layer maps to Auth0's wire format in one place.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod actions;
pub mod at_rest;
pub mod attack;
pub mod clock;
pub mod codes_and_sessions;
pub mod config;
pub mod error;
pub mod flows;
pub mod identity;
pub mod logs;
pub mod mail;
pub mod mfa;
pub mod password;
pub mod refresh;
pub mod secret;
pub mod store;
pub mod tenant;
pub mod tickets;
pub mod tokens;
pub mod user;

pub use error::Error;
pub use tenant::Tenant;
