//! Breached-password detection (Auth0's `attack_protection.breached_password_detection`): the
//! policy of which stage blocks, and the [`BreachedPasswords`] lookup it consults — an offline
//! filter over a corpus such as Pwned Passwords, or a k-anonymity range API.

use async_trait::async_trait;

/// A corpus of breached passwords.
#[async_trait]
pub trait BreachedPasswords: Send + Sync + std::fmt::Debug {
    /// Whether `password` is known to have leaked.
    async fn is_breached(&self, password: &str) -> Result<bool, BreachLookupError>;
}

#[derive(Debug, thiserror::Error)]
pub enum BreachLookupError {
    #[error("breached-password lookup unavailable: {0}")]
    Unavailable(String),
}

/// The moments Auth0 checks a password against the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachStage {
    /// A successful login (top-level `shields`).
    Login,
    /// `stage.pre-user-registration`.
    SignUp,
    /// `stage.pre-change-password`.
    PasswordChange,
}

impl BreachStage {
    /// Auth0's name of the stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::SignUp => "pre-user-registration",
            Self::PasswordChange => "pre-change-password",
        }
    }
}

/// What the configuration asks for, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreachPolicy {
    pub enabled: bool,
    pub block_login: bool,
    pub notify_user: bool,
    pub notify_admin: bool,
    pub block_signup: bool,
    pub block_password_change: bool,
    /// `admin_notification` in the stage's shields (the top-level ones for login).
    pub notify_admin_signup: bool,
    pub notify_admin_password_change: bool,
    /// When the lookup itself fails: let the password through (true) or refuse it.
    pub fail_open: bool,
}

impl BreachPolicy {
    /// Whether a breached password is refused at `stage`.
    pub fn blocks(&self, stage: BreachStage) -> bool {
        self.enabled
            && match stage {
                BreachStage::Login => self.block_login,
                BreachStage::SignUp => self.block_signup,
                BreachStage::PasswordChange => self.block_password_change,
            }
    }

    /// Whether administrators are told of a breached password at `stage`.
    pub fn notifies_admin(&self, stage: BreachStage) -> bool {
        self.enabled
            && match stage {
                BreachStage::Login => self.notify_admin,
                BreachStage::SignUp => self.notify_admin_signup,
                BreachStage::PasswordChange => self.notify_admin_password_change,
            }
    }

    /// Whether the stage needs a lookup at all (to block, or to notify).
    pub fn checks(&self, stage: BreachStage) -> bool {
        self.blocks(stage)
            || self.notifies_admin(stage)
            || (self.enabled && stage == BreachStage::Login && self.notify_user)
    }
}
