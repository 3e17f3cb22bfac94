//! Attack protection: breached-password detection (brute-force protection and suspicious-IP
//! throttling follow).

pub mod breach;
pub mod brute_force;
pub mod throttle;
