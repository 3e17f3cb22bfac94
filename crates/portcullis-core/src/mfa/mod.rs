//! Multi-factor authentication as Auth0 Guardian does it for the MFA API: a TOTP authenticator
//! (RFC 6238) and a recovery code, enrolled with an `mfa_token` and used through the
//! `mfa-otp` and `mfa-recovery-code` grants.

pub mod totp;

use serde::{Deserialize, Serialize};

use crate::flows::extensibility::CustomClaims;

/// `[guardian]`: whether MFA is demanded, and which factors are on. The Management API's
/// `PUT /guardian/…` stores an override (shared by every node) under [`SETTING`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaPolicy {
    /// Auth0's `all-applications` policy.
    pub always: bool,
    pub otp: bool,
    pub recovery_code: bool,
}

/// The settings key of the stored Guardian policy.
pub const SETTING: &str = "guardian";

/// A Guardian factor the policy can turn on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardianFactor {
    Otp,
    RecoveryCode,
}

/// The `all-applications` policy was asked for without a factor that can satisfy it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFactorForPolicy;

impl MfaPolicy {
    pub fn required(&self) -> bool {
        self.always && self.otp
    }

    /// Turns a factor on or off. The one rule between factors and policy: `all-applications`
    /// needs the one-time code (the factor every user can enroll), so turning it off turns the
    /// policy off with it, and [`MfaPolicy::require_always`] refuses the policy without it.
    pub fn set_factor(&mut self, factor: GuardianFactor, enabled: bool) {
        match factor {
            GuardianFactor::Otp => self.otp = enabled,
            GuardianFactor::RecoveryCode => self.recovery_code = enabled,
        }
        if !self.otp {
            self.always = false;
        }
    }

    /// Turns `all-applications` on or off (see [`MfaPolicy::set_factor`] for the rule).
    pub fn require_always(&mut self, always: bool) -> Result<(), NoFactorForPolicy> {
        if always && !self.otp {
            return Err(NoFactorForPolicy);
        }
        self.always = always;
        Ok(())
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn all_applications_needs_the_one_time_code() {
        let mut policy = MfaPolicy {
            always: false,
            otp: false,
            recovery_code: true,
        };
        assert_eq!(policy.require_always(true), Err(NoFactorForPolicy));
        assert!(!policy.required());
        policy.set_factor(GuardianFactor::Otp, true);
        assert_eq!(policy.require_always(true), Ok(()));
        assert!(policy.required());
        policy.set_factor(GuardianFactor::RecoveryCode, false);
        assert!(
            policy.required(),
            "the recovery code is not what the policy needs"
        );
        policy.set_factor(GuardianFactor::Otp, false);
        assert!(!policy.always && !policy.required());
    }
}

/// How long an `mfa_token` works (Auth0: 10 minutes).
pub const MFA_TOKEN_LIFETIME_SECS: i64 = 600;
/// Codes are checked under a bucket per user, as Auth0's Guardian does: it "starts with 10
/// attempts and refreshes at a rate of 1 attempt per 6 minutes"; a right code gives its
/// attempt back. An empty bucket is Auth0's `gd_otp_rate_limit_exceed`.
pub const OTP_ATTEMPTS: i64 = 10;
pub const OTP_ATTEMPT_REFILL_MILLIS: i64 = 360_000;
/// The throttle stage under which the bucket is kept (keyed by user id).
pub const OTP_THROTTLE_STAGE: &str = "mfa-otp";

/// What the login asked for, replayed when the second factor succeeds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    /// Claims the login's Actions and Rules added, for the tokens after the second factor.
    #[serde(default, skip_serializing_if = "CustomClaims::is_empty")]
    pub claims: CustomClaims,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaTokenRecord {
    pub token_hash: String,
    pub user_id: String,
    pub client_id: String,
    pub request: PendingLogin,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticatorKind {
    Otp,
    RecoveryCode,
}

impl AuthenticatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Otp => "otp",
            Self::RecoveryCode => "recovery-code",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "otp" => Some(Self::Otp),
            "recovery-code" => Some(Self::RecoveryCode),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorRecord {
    /// Auth0's form: `totp|dev_…` or `recovery-code|dev_…`.
    pub id: String,
    pub user_id: String,
    pub kind: AuthenticatorKind,
    /// Base32 TOTP secret (never returned after enrollment).
    pub secret: Option<String>,
    /// SHA-256 of the recovery code.
    pub code_hash: Option<String>,
    pub confirmed: bool,
    pub created_at: i64,
    pub last_step: Option<i64>,
}

/// A new recovery code: 24 characters from an alphabet without look-alikes.
pub fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 24];
    crate::secret::fill_random(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Recovery codes compare case-insensitively, ignoring spaces and dashes a user may type.
pub fn recovery_code_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    crate::secret::SecretDigest::of(&normalized).to_hex()
}

/// A new authenticator id in Auth0's form.
pub fn new_authenticator_id(kind: AuthenticatorKind) -> String {
    let prefix = match kind {
        AuthenticatorKind::Otp => "totp",
        AuthenticatorKind::RecoveryCode => "recovery-code",
    };
    format!("{prefix}|dev_{}", crate::secret::random_token(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 24);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        let spaced = format!("{} {}", &code[..12].to_lowercase(), &code[12..]);
        assert_eq!(recovery_code_hash(&spaced), recovery_code_hash(&code));
        assert_ne!(
            recovery_code_hash(&new_recovery_code()),
            recovery_code_hash(&code)
        );
    }
}
