//! Attack protection: breached-password detection, brute-force protection and suspicious-IP
//! throttling.

pub mod breach;
pub mod brute_force;
pub mod throttle;

use std::net::IpAddr;

/// The address under which a client's attempts are counted: an IPv4 address as it is (an
/// IPv4-mapped IPv6 address as its IPv4 address), an IPv6 address by its /64 network — one
/// host is routinely given a whole /64, so counting single IPv6 addresses would give it
/// 2^64 buckets. Text that is not an address is counted as it is.
pub fn counting_address(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
        Err(_) => ip.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::counting_address;

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(counting_address("203.0.113.9"), "203.0.113.9");
        assert_eq!(counting_address("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(
            counting_address("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            counting_address("2001:db8:1:2::1"),
            counting_address("2001:db8:1:2:ffff::9")
        );
        assert_ne!(
            counting_address("2001:db8:1:2::1"),
            counting_address("2001:db8:1:3::1")
        );
    }
}
