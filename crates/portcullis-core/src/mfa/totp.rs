//! RFC 6238 TOTP as authenticator apps implement it: HMAC-SHA-1, 6 digits, 30-second steps,
//! one step of skew either way. Checking returns the matched step so a code is accepted once.

use totp_rs::{Algorithm, Builder, Secret};

pub const DIGITS: u8 = 6;
pub const STEP_SECS: u64 = 30;

/// A new secret: 160 random bits, Base32 without padding.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    crate::secret::fill_random(&mut bytes);
    Secret::from(bytes.to_vec()).to_base32()
}

fn totp(secret_base32: &str, issuer: &str, account: &str) -> Option<totp_rs::Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(issuer.replace(':', "")))
        .build()
        .ok()
}

/// `otpauth://totp/<issuer>:<account>?secret=…&issuer=<issuer>&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_uri(secret_base32: &str, issuer: &str, account: &str) -> Option<String> {
    totp(secret_base32, issuer, account)?.to_url().ok()
}

/// The step the code belongs to (current ±1), if it is right.
pub fn check(secret_base32: &str, code: &str, now_secs: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let time = u64::try_from(now_secs).ok()?;
    let step = totp(secret_base32, "x", "x")?.check(code, time)?;
    i64::try_from(step).ok()
}

/// The code of `now_secs` (for tests and diagnostics).
pub fn code_at(secret_base32: &str, now_secs: i64) -> Option<String> {
    let time = u64::try_from(now_secs).ok()?;
    Some(totp(secret_base32, "x", "x")?.generate(time).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, with its 20-byte ASCII secret "12345678901234567890".
    #[test]
    fn rfc_6238_vectors() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(&secret, time).as_deref(), Some(code), "{time}");
        }
    }

    #[test]
    fn one_step_of_skew_either_way_and_no_more() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let code = code_at(&secret, now).expect("code");
        let step = now / 30;
        assert_eq!(check(&secret, &code, now), Some(step));
        assert_eq!(check(&secret, &code, now + 30), Some(step), "one step late");
        assert_eq!(
            check(&secret, &code, now - 30),
            Some(step),
            "one step early"
        );
        assert_eq!(check(&secret, &code, now + 60), None);
        assert_eq!(check(&secret, &code, now - 60), None);
        assert_eq!(check(&secret, "12345", now), None);
        assert_eq!(check(&secret, "abcdef", now), None);
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let secret = new_secret();
        let uri = otpauth_uri(&secret, "portcullis", "jane@example.com").expect("uri");
        assert!(
            uri.starts_with("otpauth://totp/portcullis:jane%40example.com?"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={secret}")) && uri.contains("issuer=portcullis"),
            "{uri}"
        );
    }
}
