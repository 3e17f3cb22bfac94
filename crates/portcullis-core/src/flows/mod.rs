//! One module per flow. Each takes the [`Tenant`](crate::Tenant) and a parsed request, and
//! returns a domain result.

pub mod client_auth;
pub mod cross_origin;
pub mod extensibility;
pub mod login;
pub mod managed_actions;
pub mod mfa;
pub mod refresh;
pub mod reset;
pub mod screening;
pub mod signup;
pub mod throttle;
pub mod tokens;
pub mod unblock;
pub mod users;
pub mod verify;
pub mod web;
