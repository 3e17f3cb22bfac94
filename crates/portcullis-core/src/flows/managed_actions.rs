//! Actions deployed through the Management API: drafts, deployed versions and trigger
//! bindings, kept in the store so every node runs the same ones. Each node keeps the bound,
//! deployed scripts in memory and reloads them at most every few seconds (at once after a
//! change it made itself).

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::actions::{ActionRecord, BindingRecord, Script, ScriptKind, Trigger};
use crate::secret::random_token;
use crate::store::{StoreError, UniqueField};
use crate::{Error, Tenant};

/// How long a node runs the bound Actions it loaded before looking for changes.
const RELOAD_AFTER_MILLIS: i64 = 2_000;

/// The bound, deployed Actions of every trigger, as last loaded from the store.
#[derive(Debug, Default)]
pub struct BoundActions {
    loaded: Mutex<Option<(i64, Arc<Vec<Script>>)>>,
}

impl BoundActions {
    /// Forgets what was loaded, so the next login sees a change made here.
    pub fn invalidate(&self) {
        if let Ok(mut loaded) = self.loaded.lock() {
            *loaded = None;
        }
    }

    /// Whether bound Actions may exist (cheap: what was last loaded, or unknown).
    pub fn maybe_any(&self) -> bool {
        self.loaded
            .lock()
            .map(|l| l.as_ref().is_none_or(|(_, s)| !s.is_empty()))
            .unwrap_or(true)
    }

    /// The store's bound Actions (deployed code), in trigger order.
    pub async fn scripts(&self, tenant: &Tenant) -> Result<Arc<Vec<Script>>, Error> {
        let now = tenant.clock.now_millis();
        if let Ok(loaded) = self.loaded.lock()
            && let Some((at, scripts)) = loaded.as_ref()
            && now - at < RELOAD_AFTER_MILLIS
        {
            return Ok(scripts.clone());
        }
        let actions = tenant.store.list_actions().await?;
        let mut scripts = Vec::new();
        for binding in tenant.store.bindings().await? {
            let Some(trigger) = Trigger::parse(&binding.trigger) else {
                continue;
            };
            let Some(action) = actions.iter().find(|a| a.id == binding.action_id) else {
                continue;
            };
            let Some(code) = &action.deployed_code else {
                continue;
            };
            scripts.push(Script {
                name: format!("{}#{}", action.name, action.version),
                kind: ScriptKind::Action(trigger),
                code: Arc::from(code.as_str()),
                secrets: action.deployed_secrets.clone(),
            });
        }
        let scripts = Arc::new(scripts);
        if let Ok(mut loaded) = self.loaded.lock() {
            *loaded = Some((now, scripts.clone()));
        }
        Ok(scripts)
    }
}

/// A new Action's draft.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub name: String,
    pub trigger: String,
    pub code: String,
    pub secrets: Map<String, Value>,
}

/// A change to an Action's draft.
#[derive(Debug, Clone, Default)]
pub struct ActionPatch {
    pub name: Option<String>,
    pub code: Option<String>,
    pub secrets: Option<Map<String, Value>>,
}

fn check_name(tenant: &Tenant, name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.len() > 256 {
        return Err(Error::InvalidAction(
            "name must be between 1 and 256 characters".into(),
        ));
    }
    if tenant.config.actions.iter().any(|a| a.name == name) {
        return Err(Error::ActionNameTaken(name.to_owned()));
    }
    Ok(())
}

fn taken(name: &str) -> impl Fn(StoreError) -> Error + '_ {
    move |e| match e {
        StoreError::Conflict(UniqueField::Other | UniqueField::Email | UniqueField::Username) => {
            Error::ActionNameTaken(name.to_owned())
        }
        e => e.into(),
    }
}

pub async fn create(tenant: &Tenant, new: NewAction) -> Result<ActionRecord, Error> {
    check_name(tenant, &new.name)?;
    if Trigger::parse(&new.trigger).is_none() {
        return Err(Error::InvalidAction(format!(
            "unknown trigger {}",
            new.trigger
        )));
    }
    let now = tenant.clock.now_millis();
    let action = ActionRecord {
        id: uuid_like(),
        name: new.name,
        trigger: new.trigger,
        code: new.code,
        secrets: new.secrets,
        deployed_code: None,
        deployed_secrets: Map::new(),
        version: 0,
        created_at: now,
        updated_at: now,
    };
    tenant
        .store
        .insert_action(&action)
        .await
        .map_err(taken(&action.name))?;
    Ok(action)
}

/// Auth0's action ids are UUIDs.
fn uuid_like() -> String {
    let hex = hex::encode(random_token(16).as_bytes());
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

pub async fn get(tenant: &Tenant, id: &str) -> Result<ActionRecord, Error> {
    tenant.store.action(id).await?.ok_or(Error::ActionNotFound)
}

pub async fn list(tenant: &Tenant) -> Result<Vec<ActionRecord>, Error> {
    Ok(tenant.store.list_actions().await?)
}

pub async fn update(tenant: &Tenant, id: &str, patch: ActionPatch) -> Result<ActionRecord, Error> {
    let mut action = get(tenant, id).await?;
    if let Some(name) = patch.name.filter(|n| *n != action.name) {
        check_name(tenant, &name)?;
        action.name = name;
    }
    if let Some(code) = patch.code {
        action.code = code;
    }
    if let Some(secrets) = patch.secrets {
        action.secrets = secrets;
    }
    action.updated_at = tenant.clock.now_millis();
    if !tenant
        .store
        .replace_action(&action)
        .await
        .map_err(taken(&action.name))?
    {
        return Err(Error::ActionNotFound);
    }
    Ok(action)
}

pub async fn delete(tenant: &Tenant, id: &str) -> Result<(), Error> {
    if !tenant.store.delete_action(id).await? {
        return Err(Error::ActionNotFound);
    }
    tenant.bound_actions.invalidate();
    Ok(())
}

/// Deploys the draft: it becomes the version that runs wherever the Action is bound.
pub async fn deploy(tenant: &Tenant, id: &str) -> Result<ActionRecord, Error> {
    let mut action = get(tenant, id).await?;
    action.deployed_code = Some(action.code.clone());
    action.deployed_secrets = action.secrets.clone();
    action.version += 1;
    action.updated_at = tenant.clock.now_millis();
    if !tenant.store.replace_action(&action).await? {
        return Err(Error::ActionNotFound);
    }
    tenant.bound_actions.invalidate();
    Ok(action)
}

/// A binding asked for: an Action by id or by name.
#[derive(Debug, Clone)]
pub enum ActionRef {
    Id(String),
    Name(String),
}

/// A trigger's bindings with their Actions, in order.
pub async fn bindings(
    tenant: &Tenant,
    trigger: &str,
) -> Result<Vec<(BindingRecord, ActionRecord)>, Error> {
    Trigger::parse(trigger)
        .ok_or_else(|| Error::InvalidAction(format!("unknown trigger {trigger}")))?;
    let actions = tenant.store.list_actions().await?;
    Ok(tenant
        .store
        .bindings()
        .await?
        .into_iter()
        .filter(|b| b.trigger == trigger)
        .filter_map(|b| {
            let action = actions.iter().find(|a| a.id == b.action_id)?.clone();
            Some((b, action))
        })
        .collect())
}

/// Replaces a trigger's bindings: each Action must exist, be deployed and support the
/// trigger.
pub async fn set_bindings(
    tenant: &Tenant,
    trigger: &str,
    wanted: Vec<(ActionRef, Option<String>)>,
) -> Result<Vec<(BindingRecord, ActionRecord)>, Error> {
    Trigger::parse(trigger)
        .ok_or_else(|| Error::InvalidAction(format!("unknown trigger {trigger}")))?;
    let actions = tenant.store.list_actions().await?;
    let now = tenant.clock.now_millis();
    let mut records = Vec::with_capacity(wanted.len());
    let mut bound = Vec::with_capacity(wanted.len());
    for (reference, display_name) in wanted {
        let action = actions
            .iter()
            .find(|a| match &reference {
                ActionRef::Id(id) => &a.id == id,
                ActionRef::Name(name) => &a.name == name,
            })
            .ok_or(Error::ActionNotFound)?;
        if action.trigger != trigger {
            return Err(Error::InvalidAction(format!(
                "the action {} does not support the trigger {trigger}",
                action.name
            )));
        }
        if action.deployed_code.is_none() {
            return Err(Error::InvalidAction(format!(
                "the action {} has not been deployed",
                action.name
            )));
        }
        let record = BindingRecord {
            id: uuid_like(),
            trigger: trigger.to_owned(),
            action_id: action.id.clone(),
            display_name: display_name.unwrap_or_else(|| action.name.clone()),
            created_at: now,
        };
        records.push(record.clone());
        bound.push((record, action.clone()));
    }
    tenant.store.replace_bindings(trigger, &records).await?;
    tenant.bound_actions.invalidate();
    Ok(bound)
}
