//! Actions and Rules: the tenant's JavaScript, run at Auth0's triggers, that can deny a
//! sign-up or a login, change the user's metadata, add claims to tokens and ask for MFA. The
//! domain decides when scripts run and what their outcome means; a [`ScriptRunner`] (the
//! sandbox) runs them.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

/// Auth0's Action triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    PreUserRegistration,
    PostUserRegistration,
    PostLogin,
    PostChangePassword,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [
        Self::PreUserRegistration,
        Self::PostUserRegistration,
        Self::PostLogin,
        Self::PostChangePassword,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreUserRegistration => "pre-user-registration",
            Self::PostUserRegistration => "post-user-registration",
            Self::PostLogin => "post-login",
            Self::PostChangePassword => "post-change-password",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The function an Action exports for this trigger.
    pub fn handler(self) -> &'static str {
        match self {
            Self::PreUserRegistration => "onExecutePreUserRegistration",
            Self::PostUserRegistration => "onExecutePostUserRegistration",
            Self::PostLogin => "onExecutePostLogin",
            Self::PostChangePassword => "onExecutePostChangePassword",
        }
    }

    /// The trigger's current version, as the Management API names it.
    pub fn version(self) -> &'static str {
        match self {
            Self::PostLogin => "v3",
            _ => "v2",
        }
    }

    /// Whether `api.access.deny` exists at this trigger.
    pub fn can_deny(self) -> bool {
        matches!(self, Self::PreUserRegistration | Self::PostLogin)
    }
}

/// What runs: an Action bound to a trigger, or a legacy Rule (`function (user, context,
/// callback)`, run at login).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptKind {
    Action(Trigger),
    Rule,
}

/// A deployed script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Unique per tenant; the key of its compiled form and of its `api.cache`.
    pub name: String,
    pub kind: ScriptKind,
    pub code: Arc<str>,
    /// An Action's `event.secrets`.
    pub secrets: Map<String, Value>,
}

/// The sandbox's limits for one execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    pub cpu_millis: u64,
    pub memory_bytes: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self {
            cpu_millis: 100,
            memory_bytes: 64 << 20,
        }
    }
}

/// A script's refusal: `api.access.deny(reason, userMessage)`, or a Rule's
/// `callback(new UnauthorizedError(reason))` (`unauthorized`) or other error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Denial {
    pub reason: String,
    #[serde(default)]
    pub user_message: Option<String>,
    /// For Rules: whether the error was an `UnauthorizedError`.
    #[serde(default)]
    pub unauthorized: bool,
}

/// What a script asked for.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ScriptOutcome {
    pub deny: Option<Denial>,
    pub user_metadata: Map<String, Value>,
    pub app_metadata: Map<String, Value>,
    pub id_token_claims: Map<String, Value>,
    pub access_token_claims: Map<String, Value>,
    /// `api.multifactor.enable(provider)` or a Rule's `context.multifactor`.
    pub multifactor: Option<String>,
    /// What `console.log` printed, for the tenant log's `details`.
    pub logs: Vec<String>,
}

impl ScriptOutcome {
    /// Folds a later script's outcome into this one (later writes win).
    pub fn merge(&mut self, later: ScriptOutcome) {
        self.deny = self.deny.take().or(later.deny);
        self.user_metadata.extend(later.user_metadata);
        self.app_metadata.extend(later.app_metadata);
        self.id_token_claims.extend(later.id_token_claims);
        self.access_token_claims.extend(later.access_token_claims);
        self.multifactor = later.multifactor.or(self.multifactor.take());
        self.logs.extend(later.logs);
    }
}

/// Why a script did not complete (Auth0's extensibility error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptFailure {
    #[error("script execution time exceeded")]
    Timeout,
    #[error("script exceeded its memory limit")]
    OutOfMemory,
    #[error("{0}")]
    Threw(String),
    #[error("invalid script result: {0}")]
    Invalid(String),
    #[error("the sandbox is unavailable: {0}")]
    Unavailable(String),
}

/// Runs one script with its event; the sandbox.
#[async_trait::async_trait]
pub trait ScriptRunner: Send + Sync + std::fmt::Debug {
    /// `event` is the trigger's event object (for Rules: `{"user", "context",
    /// "configuration"}`).
    async fn run(
        &self,
        script: &Script,
        event: Value,
        limits: ScriptLimits,
    ) -> Result<ScriptOutcome, ScriptFailure>;
}

/// An Action deployed through the Management API: its draft, and the deployed version that
/// runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    pub id: String,
    pub name: String,
    /// The trigger id (`post-login`, …).
    pub trigger: String,
    pub code: String,
    pub secrets: Map<String, Value>,
    /// The code and secrets of the deployed version; `None` until the first deploy.
    pub deployed_code: Option<String>,
    pub deployed_secrets: Map<String, Value>,
    /// The deployed version's number (0 before the first deploy).
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An Action bound to a trigger, at its place in the trigger's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRecord {
    pub id: String,
    pub trigger: String,
    pub action_id: String,
    pub display_name: String,
    pub created_at: i64,
}
