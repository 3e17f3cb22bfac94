//! Password rules (Auth0's password-sheriff policies) and password hashing (argon2id).

pub mod hasher;
pub mod policy;
pub mod rules;
