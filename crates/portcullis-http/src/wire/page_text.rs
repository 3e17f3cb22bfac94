//! The words of the hosted pages: titles, buttons and the sentences a page says, beside the
//! failure texts of `page` — the one place a reader changes what a user reads.

pub const ENROLL_TICKET_TITLE: &str = "Set up your authenticator";
pub const ENROLLED_TITLE: &str = "You are enrolled";
pub const ENROLLED_TEXT: &str = "Your authenticator app is set up. You can close this page.";
pub const FORGOT_PASSWORD_TITLE: &str = "Forgot your password?";
pub const CHECK_EMAIL_TITLE: &str = "Check your email";
pub const LOGIN_TITLE: &str = "Log in";
pub const LOGGED_OUT_TITLE: &str = "Logged out";
pub const LOGGED_OUT_TEXT: &str = "You have been logged out.";
pub const MFA_CHALLENGE_TITLE: &str = "Verify your identity";
pub const MFA_ENROLL_TITLE: &str = "Secure your account";
pub const RECOVERY_CODE_FIRST_TITLE: &str = "Almost there!";
pub const RECOVERY_CODE_NEXT_TITLE: &str = "Your new recovery code";
pub const RESET_TITLE: &str = "Change your password";
pub const RESET_MISMATCH: &str = "Please ensure the password and the confirmation are the same.";
pub const RESET_DONE_TITLE: &str = "Password changed";
pub const RESET_DONE_TEXT: &str = "Your password has been changed. You can log in with it now.";
pub const SIGNUP_TITLE: &str = "Sign up";
pub const UNBLOCK_TITLE: &str = "Unblock your account";
pub const UNBLOCK_TEXT: &str = "Your account was blocked after several failed login attempts.";
pub const UNBLOCK_BUTTON: &str = "Unblock my account";
pub const UNBLOCKED_TITLE: &str = "Account unblocked";
pub const UNBLOCKED_TEXT: &str = "Your account has been unblocked. You can log in again.";
pub const VERIFY_TITLE: &str = "Verify your email";
pub const VERIFIED_TITLE: &str = "Email verified";
pub const VERIFIED_TEXT: &str = "Your email address was verified. You can close this page.";
pub const ERROR_TITLE: &str = "Error";

/// After a reset request: the same sentence whether or not the address has an account.
pub fn check_email(address: &str) -> String {
    format!("Please check the email address {address} for instructions to reset your password.")
}

/// The connection's password policy, as the sign-up page lists it.
pub fn password_rules(checklist: &str) -> String {
    format!("Your password must contain:\n{checklist}")
}
