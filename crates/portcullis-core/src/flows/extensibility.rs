//! When the tenant's Actions and Rules run, with which event, and what their outcome does:
//! a deny stops the sign-up or login, metadata is saved to the user, claims go into the
//! tokens, and `api.multifactor.enable` asks for a second factor.

use serde_json::{Map, Value, json};

use crate::actions::{Script, ScriptKind, ScriptOutcome, Trigger};
use crate::clock::iso8601_millis;
use crate::config::{Client, Connection};
use crate::identity::DATABASE_PROVIDER;
use crate::logs::{LogEvent, LogType, Requester};
use crate::user::UserRecord;
use crate::{Error, Tenant};

/// Custom claims the login's scripts added, for the tokens it ends with.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomClaims {
    #[serde(default)]
    pub id_token: Map<String, Value>,
    #[serde(default)]
    pub access_token: Map<String, Value>,
}

/// Claims a script may not set: the tokens' own (Auth0 ignores them too).
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "azp",
    "nonce",
    "auth_time",
    "at_hash",
    "c_hash",
    "acr",
    "amr",
    "sid",
    "scope",
    "gty",
    "permissions",
    "org_id",
    "org_name",
];

impl CustomClaims {
    pub fn is_empty(&self) -> bool {
        self.id_token.is_empty() && self.access_token.is_empty()
    }

    /// `claims` without the reserved names.
    pub fn allowed(claims: &Map<String, Value>) -> Map<String, Value> {
        claims
            .iter()
            .filter(|(k, _)| !RESERVED_CLAIMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// What the post-login scripts decided beyond letting the user in.
#[derive(Debug, Clone, Default)]
pub struct LoginDecision {
    pub claims: CustomClaims,
    /// A script asked for a second factor.
    pub multifactor: bool,
    /// What the scripts printed with `console.log`, for the login's log event.
    pub logs: Vec<String>,
}

/// How the user logs in, for `event.transaction.protocol`.
#[derive(Debug, Clone, Copy)]
pub enum LoginProtocol {
    Password,
    WebLogin,
    RefreshToken,
}

/// The Actions bound to `trigger`, in order: those deployed from files, then those bound
/// through the Management API.
async fn actions_for(tenant: &Tenant, trigger: Trigger) -> Result<Vec<Script>, Error> {
    let bound = tenant.bound_actions.scripts(tenant).await?;
    Ok(tenant
        .config
        .actions
        .iter()
        .chain(bound.iter())
        .filter(|s| s.kind == ScriptKind::Action(trigger))
        .cloned()
        .collect())
}

/// The user as Actions see it (`event.user`).
pub fn event_user(user: &UserRecord) -> Value {
    let mut u = json!({
        "user_id": user.user_id(),
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "nickname": user.nickname,
        "picture": user.picture,
        "created_at": iso8601_millis(user.created_at),
        "updated_at": iso8601_millis(user.updated_at),
        "user_metadata": user.user_metadata,
        "app_metadata": user.app_metadata,
        "identities": [{
            "connection": user.connection,
            "user_id": user.id,
            "provider": DATABASE_PROVIDER,
            "isSocial": false
        }],
    });
    if let Some(o) = u.as_object_mut() {
        if let Some(v) = &user.username {
            o.insert("username".into(), json!(v));
        }
        if let Some(v) = &user.given_name {
            o.insert("given_name".into(), json!(v));
        }
        if let Some(v) = &user.family_name {
            o.insert("family_name".into(), json!(v));
        }
        if let Some(v) = user.last_login {
            o.insert("last_login".into(), json!(iso8601_millis(v)));
        }
        if let Some(v) = &user.last_ip {
            o.insert("last_ip".into(), json!(v));
        }
        if user.blocked == Some(true) {
            o.insert("blocked".into(), json!(true));
        }
    }
    u
}

fn event_client(client: &Client) -> Value {
    json!({"client_id": client.client_id, "name": client.name, "metadata": {}})
}

fn event_connection(connection: &Connection) -> Value {
    json!({
        "id": connection.id(),
        "name": connection.name,
        "strategy": DATABASE_PROVIDER,
        "metadata": {},
    })
}

fn event_request(requester: &Requester) -> Value {
    json!({
        "ip": requester.ip,
        "user_agent": requester.user_agent,
        "geoip": {},
        "method": "POST",
        "query": {},
        "body": {},
    })
}

fn event_tenant(tenant: &Tenant) -> Value {
    json!({"id": tenant.config.tenant_name})
}

/// Runs `trigger`'s Actions in binding order; a deny stops the chain.
async fn run_actions(
    tenant: &Tenant,
    scripts: &[Script],
    event: &Value,
) -> Result<ScriptOutcome, (String, String)> {
    let mut outcome = ScriptOutcome::default();
    for script in scripts {
        let mut event = event.clone();
        if let Some(o) = event.as_object_mut() {
            o.insert("secrets".into(), Value::Object(script.secrets.clone()));
        }
        let ran = tenant
            .scripts
            .run(script, event, tenant.config.script_limits)
            .await
            .map_err(|e| (script.name.clone(), e.to_string()))?;
        let denied = ran.deny.is_some();
        outcome.merge(ran);
        if denied {
            break;
        }
    }
    Ok(outcome)
}

async fn record_failure(
    tenant: &Tenant,
    trigger: &str,
    script: &str,
    message: &str,
    user: Option<&UserRecord>,
) {
    let mut event = LogEvent::new(LogType::ActionsExecutionFailed, tenant.clock.now_millis())
        .description(message.to_owned())
        .detail("trigger", trigger)
        .detail("action", script);
    if let Some(user) = user {
        event = event.user(user);
    }
    tenant.record(event).await;
}

/// `pre-user-registration`: may deny the sign-up or set the new user's metadata (on `user`,
/// before it is stored).
pub async fn pre_user_registration(
    tenant: &Tenant,
    client: &Client,
    connection: &Connection,
    user: &mut UserRecord,
    requester: &Requester,
) -> Result<(), Error> {
    let scripts = actions_for(tenant, Trigger::PreUserRegistration).await?;
    if scripts.is_empty() {
        return Ok(());
    }
    let mut event_user = event_user(user);
    if let Some(o) = event_user.as_object_mut() {
        o.remove("user_id");
    }
    let event = json!({
        "user": event_user,
        "client": event_client(client),
        "connection": event_connection(connection),
        "request": event_request(requester),
        "tenant": event_tenant(tenant),
        "transaction": {"protocol": "oidc-basic-profile"},
    });
    let outcome = match run_actions(tenant, &scripts, &event).await {
        Ok(outcome) => outcome,
        Err((script, message)) => {
            record_failure(tenant, "pre-user-registration", &script, &message, None).await;
            return Err(Error::ScriptFailed(message));
        }
    };
    if let Some(deny) = outcome.deny {
        return Err(Error::SignupDenied {
            reason: deny.reason,
            user_message: deny.user_message,
        });
    }
    apply_metadata(user, &outcome);
    Ok(())
}

fn apply_metadata(user: &mut UserRecord, outcome: &ScriptOutcome) {
    for (key, value) in &outcome.user_metadata {
        if value.is_null() {
            user.user_metadata.remove(key);
        } else {
            user.user_metadata.insert(key.clone(), value.clone());
        }
    }
    for (key, value) in &outcome.app_metadata {
        if value.is_null() {
            user.app_metadata.remove(key);
        } else {
            user.app_metadata.insert(key.clone(), value.clone());
        }
    }
}

/// Runs the Actions of a trigger that cannot deny, in the background; failures are logged.
fn notify(tenant: &Tenant, trigger: Trigger, event: Value, user: UserRecord) {
    if tenant.config.actions.is_empty() && !tenant.bound_actions.maybe_any() {
        return;
    }
    let background = tenant.clone();
    tenant.in_background(async move {
        let tenant = background;
        let scripts = match actions_for(&tenant, trigger).await {
            Ok(scripts) => scripts,
            Err(e) => {
                tracing::warn!(error = %e, trigger = trigger.as_str(), "could not load the actions");
                return;
            }
        };
        if let Err((script, message)) = run_actions(&tenant, &scripts, &event).await {
            record_failure(&tenant, trigger.as_str(), &script, &message, Some(&user)).await;
        }
    });
}

/// `post-user-registration`, after the user is stored.
pub fn post_user_registration(
    tenant: &Tenant,
    client: &Client,
    connection: &Connection,
    user: &UserRecord,
    requester: &Requester,
) {
    let event = json!({
        "user": event_user(user),
        "client": event_client(client),
        "connection": event_connection(connection),
        "request": event_request(requester),
        "tenant": event_tenant(tenant),
    });
    notify(tenant, Trigger::PostUserRegistration, event, user.clone());
}

/// `post-change-password`, after a password change or reset.
pub fn post_change_password(tenant: &Tenant, user: &UserRecord, requester: &Requester) {
    let connection = tenant.config.connection(&user.connection);
    let event = json!({
        "user": event_user(user),
        "connection": connection.map(event_connection),
        "request": event_request(requester),
        "tenant": event_tenant(tenant),
    });
    notify(tenant, Trigger::PostChangePassword, event, user.clone());
}

/// After the password: the Rules, then the `post-login` Actions. A deny or a failure stops
/// the login; metadata they set is saved; their claims and MFA request are returned.
pub async fn post_login(
    tenant: &Tenant,
    client: &Client,
    user: &mut UserRecord,
    requester: &Requester,
    protocol: LoginProtocol,
    scope: Option<&str>,
) -> Result<LoginDecision, Error> {
    let scripts = actions_for(tenant, Trigger::PostLogin).await?;
    let has_actions = !scripts.is_empty();
    if tenant.config.rules.is_empty() && !has_actions {
        return Ok(LoginDecision::default());
    }
    let connection = tenant.config.connection(&user.connection);
    let now = tenant.clock.now_millis();
    let scopes: Vec<&str> = scope.unwrap_or("").split_whitespace().collect();
    let protocol = match protocol {
        LoginProtocol::Password => "oauth2-password",
        LoginProtocol::WebLogin => "oidc-basic-profile",
        LoginProtocol::RefreshToken => "oauth2-refresh-token",
    };
    let mut outcome = ScriptOutcome::default();

    // Rules first, as Auth0 runs them before the post-login Actions.
    for rule in &tenant.config.rules {
        let event = json!({
            "user": event_user(user),
            "context": {
                "tenant": tenant.config.tenant_name,
                "clientID": client.client_id,
                "clientName": client.name,
                "clientMetadata": {},
                "connection": user.connection,
                "connectionStrategy": DATABASE_PROVIDER,
                "protocol": protocol,
                "stats": {"loginsCount": user.logins_count + 1},
                "request": {"ip": requester.ip, "userAgent": requester.user_agent, "query": {}, "body": {}, "geoip": {}},
                "authentication": {"methods": [{"name": "pwd", "timestamp": now}]},
                "idToken": {},
                "accessToken": {"scope": scopes},
            },
            "configuration": tenant.config.rules_configs,
        });
        let ran = match tenant
            .scripts
            .run(rule, event, tenant.config.script_limits)
            .await
        {
            Ok(ran) => ran,
            Err(e) => {
                let message = e.to_string();
                record_failure(tenant, "rules", &rule.name, &message, Some(user)).await;
                return Err(Error::ScriptFailed(message));
            }
        };
        if let Some(deny) = &ran.deny {
            return Err(if deny.unauthorized {
                Error::RuleUnauthorized {
                    reason: deny.reason.clone(),
                }
            } else {
                Error::LoginDenied {
                    reason: deny.reason.clone(),
                }
            });
        }
        // `scope` is the access token's own field in a Rule's context, not a claim.
        let mut ran = ran;
        ran.access_token_claims.remove("scope");
        outcome.merge(ran);
    }

    if has_actions {
        let event = json!({
            "user": event_user(user),
            "client": event_client(client),
            "connection": connection.map(event_connection),
            "request": event_request(requester),
            "tenant": event_tenant(tenant),
            "authentication": {"methods": [{"name": "pwd", "timestamp": iso8601_millis(now)}]},
            "transaction": {"protocol": protocol, "requested_scopes": scopes},
            "stats": {"logins_count": user.logins_count + 1},
        });
        match run_actions(tenant, &scripts, &event).await {
            Ok(ran) => {
                if let Some(deny) = ran.deny {
                    return Err(Error::LoginDenied {
                        reason: deny.reason,
                    });
                }
                outcome.merge(ran);
            }
            Err((script, message)) => {
                record_failure(tenant, "post-login", &script, &message, Some(user)).await;
                return Err(Error::ScriptFailed(message));
            }
        }
    }
    if !outcome.user_metadata.is_empty() || !outcome.app_metadata.is_empty() {
        save_metadata(tenant, user, &outcome).await?;
    }
    Ok(LoginDecision {
        claims: CustomClaims {
            id_token: outcome.id_token_claims,
            access_token: outcome.access_token_claims,
        },
        multifactor: outcome.multifactor.is_some(),
        logs: outcome.logs,
    })
}

/// Stores the metadata a login's scripts set, against concurrent changes of the user.
async fn save_metadata(
    tenant: &Tenant,
    user: &mut UserRecord,
    outcome: &ScriptOutcome,
) -> Result<(), Error> {
    for _ in 0..5 {
        let Some(mut current) = tenant.store.user_by_id(&user.id).await? else {
            return Err(Error::UserNotFound);
        };
        let version = current.version;
        apply_metadata(&mut current, outcome);
        current.updated_at = tenant.clock.now_millis();
        current.version = version + 1;
        if tenant
            .store
            .replace_user(&current, version, None, None)
            .await?
        {
            user.user_metadata = current.user_metadata;
            user.app_metadata = current.app_metadata;
            user.version = current.version;
            user.updated_at = current.updated_at;
            return Ok(());
        }
    }
    Err(Error::ContentionExhausted)
}
