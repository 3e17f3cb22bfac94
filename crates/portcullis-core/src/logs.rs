//! Tenant logs: Auth0's log events (`s`, `fp`, `fu`, `ss`, `fs`, `pwd_leak`, …) as data an
//! operator reads through `GET /api/v2/logs`. Writing one never fails the request it records.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::config::Client;
use crate::secret::fill_random;
use crate::user::UserRecord;

/// Auth0's log type codes this server emits, with the description Auth0's docs give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogType {
    SuccessSignup,
    FailedSignup,
    SuccessExchangePassword,
    FailedExchangePassword,
    SuccessExchangeClientCredentials,
    FailedExchangeClientCredentials,
    FailedLogin,
    FailedLoginIncorrectPassword,
    FailedLoginInvalidUser,
    SuccessChangePassword,
    FailedChangePassword,
    SuccessApiOperation,
    SuccessUserDeletion,
    BreachedPasswordLogin,
    BreachedPasswordSignup,
    BreachedPasswordReset,
    BlockedAccount,
    UserBlockReleased,
    BlockedIpAddress,
    SuccessChangePasswordRequest,
    SuccessVerificationEmail,
    GuardianAuthSucceeded,
    GuardianAuthFailed,
    GuardianOtpRateLimit,
    GuardianRecoverySucceeded,
    GuardianRecoveryFailed,
    MfaRequired,
    SuccessExchangeMfaOtp,
    SuccessExchangeMfaRecoveryCode,
    GuardianUnenroll,
    GuardianStartEnroll,
    GuardianEnrollmentComplete,
    SuccessExchangeRefreshToken,
    FailedExchangeRefreshToken,
    FailedRefreshReuse,
    RefreshTokenRevoked,
    SuccessLogin,
    SuccessExchangeAuthorizationCode,
    FailedExchangeAuthorizationCode,
    SuccessLogout,
    ActionsExecutionFailed,
}

impl LogType {
    pub fn code(self) -> &'static str {
        match self {
            Self::SuccessSignup => "ss",
            Self::FailedSignup => "fs",
            Self::SuccessExchangePassword => "sepft",
            Self::FailedExchangePassword => "fepft",
            Self::SuccessExchangeClientCredentials => "seccft",
            Self::FailedExchangeClientCredentials => "feccft",
            Self::FailedLogin => "f",
            Self::FailedLoginIncorrectPassword => "fp",
            Self::FailedLoginInvalidUser => "fu",
            Self::SuccessChangePassword => "scp",
            Self::FailedChangePassword => "fcp",
            Self::SuccessApiOperation => "sapi",
            Self::SuccessUserDeletion => "sdu",
            Self::BreachedPasswordLogin => "pwd_leak",
            Self::BreachedPasswordSignup => "signup_pwd_leak",
            Self::BreachedPasswordReset => "reset_pwd_leak",
            Self::BlockedAccount => "limit_wc",
            Self::UserBlockReleased => "ublkdu",
            Self::BlockedIpAddress => "limit_mu",
            Self::SuccessChangePasswordRequest => "scpr",
            Self::SuccessVerificationEmail => "sv",
            Self::GuardianAuthSucceeded => "gd_auth_succeed",
            Self::GuardianAuthFailed => "gd_auth_failed",
            Self::GuardianOtpRateLimit => "gd_otp_rate_limit_exceed",
            Self::GuardianRecoverySucceeded => "gd_recovery_succeed",
            Self::GuardianRecoveryFailed => "gd_recovery_failed",
            Self::MfaRequired => "mfar",
            Self::SuccessExchangeMfaOtp => "seotpft",
            Self::SuccessExchangeMfaRecoveryCode => "sercft",
            Self::GuardianUnenroll => "gd_unenroll",
            Self::GuardianStartEnroll => "gd_start_enroll",
            Self::GuardianEnrollmentComplete => "gd_enrollment_complete",
            Self::SuccessExchangeRefreshToken => "sertft",
            Self::FailedExchangeRefreshToken => "fertft",
            Self::FailedRefreshReuse => "ferrt",
            Self::RefreshTokenRevoked => "srrt",
            Self::SuccessLogin => "s",
            Self::SuccessExchangeAuthorizationCode => "seacft",
            Self::FailedExchangeAuthorizationCode => "feacft",
            Self::SuccessLogout => "slo",
            Self::ActionsExecutionFailed => "actions_execution_failed",
        }
    }

    /// The default description, where Auth0 has a fixed one.
    fn default_description(self) -> Option<&'static str> {
        match self {
            Self::SuccessExchangePassword => {
                Some("Successful exchange of password for Access Token")
            }
            Self::SuccessExchangeClientCredentials => {
                Some("Successful exchange of Access Token for a Client Credentials Grant")
            }
            Self::SuccessExchangeAuthorizationCode => {
                Some("Successful exchange of Authorization Code for Access Token")
            }
            Self::SuccessLogout => Some("User successfully logged out"),
            Self::SuccessChangePassword => Some("Password changed"),
            Self::SuccessUserDeletion => Some("User was deleted"),
            Self::BreachedPasswordLogin => Some("Breached password"),
            Self::BreachedPasswordSignup => Some("Breached password on signup"),
            Self::BreachedPasswordReset => Some("Breached password on reset"),
            Self::BlockedAccount => Some(
                "An IP address is blocked because it reached the maximum failed login attempts into a single account.",
            ),
            _ => None,
        }
    }
}

/// Who made the request: what the HTTP layer knows of the caller.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Who performs a management operation: the application of the Management API token (none
/// for the operator's command line) and the request's origin.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub client_id: Option<String>,
    pub requester: Requester,
}

impl Actor {
    /// A user acting through a hosted page or link: no application.
    pub fn user(requester: &Requester) -> Self {
        Self {
            client_id: None,
            requester: requester.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// Sortable: milliseconds, then random digits.
    pub log_id: String,
    pub date: i64,
    pub log_type: String,
    pub description: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub connection: Option<String>,
    pub details: Map<String, Value>,
}

impl LogEvent {
    pub fn new(kind: LogType, now_millis: i64) -> Self {
        // Time, then a per-process sequence (events of one millisecond keep their order on
        // this node), then random digits (ids of different nodes never collide).
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed) % 100_000_000;
        let mut random = [0u8; 8];
        fill_random(&mut random);
        let suffix = u64::from_be_bytes(random) % 100_000_000;
        Self {
            log_id: format!("900{:015}{sequence:08}{suffix:08}", now_millis.max(0)),
            date: now_millis,
            log_type: kind.code().to_owned(),
            description: kind.default_description().map(str::to_owned),
            client_id: None,
            client_name: None,
            ip: None,
            user_agent: None,
            user_id: None,
            user_name: None,
            connection: None,
            details: Map::new(),
        }
    }

    pub fn client(mut self, client: &Client) -> Self {
        self.client_id = Some(client.client_id.clone());
        self.client_name = Some(client.name.clone());
        self
    }

    pub fn client_id(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    pub fn requester(mut self, requester: &Requester) -> Self {
        self.ip.clone_from(&requester.ip);
        self.user_agent.clone_from(&requester.user_agent);
        self
    }

    pub fn actor(mut self, actor: &Actor) -> Self {
        self.client_id.clone_from(&actor.client_id);
        self.requester(&actor.requester)
    }

    pub fn user(mut self, user: &UserRecord) -> Self {
        self.user_id = Some(user.user_id());
        self.user_name = Some(user.email.clone());
        self.connection = Some(user.connection.clone());
        self
    }

    pub fn user_name(mut self, name: &str) -> Self {
        self.user_name = Some(name.to_owned());
        self
    }

    pub fn connection(mut self, name: &str) -> Self {
        self.connection = Some(name.to_owned());
        self
    }

    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// Which log events to list.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub log_type: Option<String>,
    pub user_id: Option<String>,
    /// Checkpoint paging: events after this `log_id`, oldest first.
    pub from: Option<String>,
    pub offset: u64,
    pub limit: u64,
    /// Newest first (Auth0's default `sort=date:-1`) unless `from` is used.
    pub newest_first: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ids_sort_by_time() {
        let a = LogEvent::new(LogType::SuccessSignup, 1_000);
        let b = LogEvent::new(LogType::SuccessSignup, 2_000);
        assert!(a.log_id < b.log_id);
        assert_eq!(a.log_id.len(), 34);
        assert_eq!(a.log_type, "ss");
    }
}
