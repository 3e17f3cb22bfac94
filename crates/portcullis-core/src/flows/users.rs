//! Managing users (Management API and the operator's command line).

use serde_json::{Map, Value};

use crate::attack::breach::BreachStage;
use crate::flows::screening::screen_password;
use crate::flows::signup::{NewUser, check_password, create_user, parse_username};
use crate::identity::{Email, parse_user_id};
use crate::logs::{Actor, LogEvent, LogType};
use crate::password::rules::PersonalInfo;
use crate::store::{RetiredPassword, StoreError, UniqueField, UserQuery};
use crate::user::UserRecord;
use crate::{Error, Tenant};

pub async fn create(
    tenant: &Tenant,
    connection: &str,
    new: NewUser,
    verify_email: bool,
    actor: &Actor,
) -> Result<UserRecord, Error> {
    let connection = tenant
        .config
        .connection(connection)
        .ok_or(Error::UnknownConnection)?;
    let user = create_user(tenant, connection, new, None).await?;
    if actor.client_id.is_some() {
        let event = LogEvent::new(LogType::SuccessApiOperation, tenant.clock.now_millis())
            .description("Create a User")
            .actor(actor)
            .user(&user);
        tenant.record(event).await;
    }
    // Auth0 mails the verification link unless the address is verified or `verify_email` is false.
    if verify_email && !user.email_verified {
        crate::flows::verify::send_verification_email(tenant, &user).await?;
    }
    Ok(user)
}

/// Finds a user by its `auth0|<id>` user id.
pub async fn get(tenant: &Tenant, user_id: &str) -> Result<UserRecord, Error> {
    let id = parse_user_id(user_id).ok_or(Error::UserNotFound)?;
    tenant
        .store
        .user_by_id(id)
        .await?
        .ok_or(Error::UserNotFound)
}

pub async fn list(
    tenant: &Tenant,
    query: &UserQuery,
) -> Result<(Vec<UserRecord>, Option<u64>), Error> {
    Ok(tenant.store.list_users(query).await?)
}

/// Users with this e-mail in any connection (exact, case-insensitive).
pub async fn by_email(tenant: &Tenant, email: &str) -> Result<Vec<UserRecord>, Error> {
    let email = Email::parse(email).ok_or_else(|| Error::InvalidEmail(email.to_owned()))?;
    let query = UserQuery {
        email: Some(email.as_str().to_owned()),
        connection: None,
        offset: 0,
        limit: 1000,
        with_total: false,
    };
    Ok(tenant.store.list_users(&query).await?.0)
}

pub async fn delete(tenant: &Tenant, user_id: &str, actor: &Actor) -> Result<(), Error> {
    let id = parse_user_id(user_id).ok_or(Error::UserNotFound)?;
    // Auth0 answers 204 for a user that is already gone.
    if tenant.store.delete_user(id).await? {
        let now = tenant.clock.now_millis();
        let deleted = |kind, description| {
            let mut event = LogEvent::new(kind, now)
                .description(description)
                .actor(actor);
            event.user_id = Some(user_id.to_owned());
            event
        };
        tenant
            .record(deleted(LogType::SuccessUserDeletion, "User was deleted"))
            .await;
        tenant
            .record(deleted(LogType::SuccessApiOperation, "Delete a User"))
            .await;
    }
    Ok(())
}

/// A field that can be left alone, set, or (with JSON `null`) removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Change<T> {
    #[default]
    Keep,
    Set(T),
    Remove,
}

/// Auth0's `PATCH /api/v2/users/{id}`: metadata merged one level deep (a `null` value deletes
/// the key), other fields replaced.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub blocked: Option<bool>,
    pub given_name: Change<String>,
    pub family_name: Change<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub user_metadata: Option<Map<String, Value>>,
    pub app_metadata: Option<Map<String, Value>>,
    /// Applies only while the user is still as a ticket found them: checked against the
    /// version being replaced, so a change that came first refuses the patch (`InvalidTicket`).
    pub precondition: Option<TicketBinding>,
}

/// What a mailed ticket was issued for: the address it went to and, for a password reset, a
/// digest of the password it replaces. The ticket is refused once either differs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketBinding {
    pub email: String,
    pub credential: Option<String>,
}

impl TicketBinding {
    /// The binding of a ticket for `user` now (`with_credential` for a password reset).
    pub fn of(user: &UserRecord, with_credential: bool) -> Self {
        Self {
            email: user.email.clone(),
            credential: with_credential.then(|| credential_digest(user)),
        }
    }

    /// Whether `user` is still what the ticket was issued for.
    pub fn holds_for(&self, user: &UserRecord) -> bool {
        let email: bool =
            subtle::ConstantTimeEq::ct_eq(self.email.as_bytes(), user.email.as_bytes()).into();
        let credential = match &self.credential {
            None => true,
            Some(expected) => subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                credential_digest(user).as_bytes(),
            )
            .into(),
        };
        email && credential
    }
}

/// A digest of the user's current password hash: it changes with every new password.
fn credential_digest(user: &UserRecord) -> String {
    crate::secret::SecretDigest::of(&user.password_hash).to_hex()
}

impl UserPatch {
    /// The fields the patch changes beyond `app_metadata` and `user_metadata`, by Auth0's
    /// names: what Auth0's `update:users_app_metadata` scope does not allow without
    /// `update:users`.
    pub fn fields_beyond_metadata(&self) -> Vec<&'static str> {
        let Self {
            email,
            email_verified,
            username,
            password,
            blocked,
            given_name,
            family_name,
            name,
            nickname,
            picture,
            user_metadata: _,
            app_metadata: _,
            precondition: _,
        } = self;
        [
            ("email", email.is_some()),
            ("email_verified", email_verified.is_some()),
            ("username", username.is_some()),
            ("password", password.is_some()),
            ("blocked", blocked.is_some()),
            ("given_name", *given_name != Change::Keep),
            ("family_name", *family_name != Change::Keep),
            ("name", name.is_some()),
            ("nickname", nickname.is_some()),
            ("picture", picture.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
    }
}

/// How many times a patch is re-applied when another writer changed the user meanwhile.
const MAX_ATTEMPTS: usize = 8;

pub async fn update(
    tenant: &Tenant,
    user_id: &str,
    patch: UserPatch,
    actor: &Actor,
) -> Result<UserRecord, Error> {
    let changes_password = patch.password.is_some();
    let result = update_checked(tenant, user_id, patch).await;
    let now = tenant.clock.now_millis();
    let event = |kind| {
        let mut event = LogEvent::new(kind, now).actor(actor);
        event.user_id = Some(user_id.to_owned());
        event
    };
    match &result {
        Ok(user) => {
            if changes_password {
                tenant
                    .record(event(LogType::SuccessChangePassword).user(user))
                    .await;
            }
            // `sapi` is the Management API's; resets and the command line do not emit it.
            if actor.client_id.is_some() {
                tenant
                    .record(
                        event(LogType::SuccessApiOperation)
                            .description("Update a User")
                            .user(user),
                    )
                    .await;
            }
        }
        Err(e) if changes_password => {
            if matches!(e, Error::PasswordLeaked) {
                tenant.record(event(LogType::BreachedPasswordReset)).await;
            }
            tenant
                .record(event(LogType::FailedChangePassword).description(e.to_string()))
                .await;
        }
        Err(_) => {}
    }
    result
}

async fn update_checked(
    tenant: &Tenant,
    user_id: &str,
    patch: UserPatch,
) -> Result<UserRecord, Error> {
    let id = parse_user_id(user_id).ok_or(Error::UserNotFound)?;
    // Validate and hash once, outside the retry loop.
    let email = match &patch.email {
        Some(raw) => Some(Email::parse(raw).ok_or_else(|| Error::InvalidEmail(raw.clone()))?),
        None => None,
    };
    let mut new_hash = None;
    for _ in 0..MAX_ATTEMPTS {
        let current = tenant
            .store
            .user_by_id(id)
            .await?
            .ok_or(Error::UserNotFound)?;
        if patch
            .precondition
            .as_ref()
            .is_some_and(|binding| !binding.holds_for(&current))
        {
            return Err(Error::InvalidTicket);
        }
        let connection = tenant
            .config
            .connection(&current.connection)
            .ok_or(Error::UnknownConnection)?;
        let username = match &patch.username {
            Some(raw) => parse_username(connection, Some(raw))?,
            None => None,
        };
        let now = tenant.clock.now_millis();
        let mut next = current.clone();
        if let Some(email) = &email
            && next.email != email.as_str()
        {
            next.email = email.as_str().to_owned();
            next.email_verified = false;
        }
        if let Some(v) = patch.email_verified {
            next.email_verified = v;
        }
        if let Some(u) = username {
            next.username = Some(u.as_str().to_owned());
        }
        if let Some(b) = patch.blocked {
            next.blocked = Some(b);
        }
        apply(&mut next.given_name, &patch.given_name);
        apply(&mut next.family_name, &patch.family_name);
        if let Some(v) = &patch.name {
            next.name = v.clone();
        }
        if let Some(v) = &patch.nickname {
            next.nickname = v.clone();
        }
        if let Some(v) = &patch.picture {
            next.picture = v.clone();
        }
        if let Some(m) = &patch.user_metadata {
            merge_metadata(&mut next.user_metadata, m);
        }
        if let Some(m) = &patch.app_metadata {
            merge_metadata(&mut next.app_metadata, m);
        }
        let mut retired = None;
        if let Some(password) = &patch.password {
            if new_hash.is_none() {
                let info = PersonalInfo {
                    email: Some(&next.email),
                    username: next.username.as_deref(),
                    name: Some(&next.name),
                    nickname: Some(&next.nickname),
                    user_metadata: Some(&next.user_metadata),
                };
                check_password(connection, password, &info)?;
                if let Some(size) = connection.password_rules.history_size {
                    check_history(tenant, &current, password, size).await?;
                }
                screen_password(tenant, password, BreachStage::PasswordChange).await?;
                new_hash = Some(tenant.hasher.hash(password).await?);
            }
            if let Some(hash) = &new_hash {
                next.password_hash = hash.clone();
                next.last_password_reset = Some(now);
            }
            retired = connection
                .password_rules
                .history_size
                .map(|keep| RetiredPassword {
                    hash: current.password_hash.clone(),
                    retired_at: now,
                    keep,
                });
        }
        // A changed password ends every session and refresh token where the connection asks.
        let end_sessions_at = (patch.password.is_some()
            && connection.revoke_sessions_on_password_change)
            .then_some(now);
        next.updated_at = now;
        next.version = current.version + 1;
        match tenant
            .store
            .replace_user(&next, current.version, retired.as_ref(), end_sessions_at)
            .await
        {
            Ok(true) => return Ok(next),
            Ok(false) => continue,
            Err(StoreError::Conflict(UniqueField::Username)) => return Err(Error::UsernameExists),
            Err(StoreError::Conflict(_)) => return Err(Error::UserExists),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::ContentionExhausted)
}

/// Auth0's `password_history`: the new password may be none of the last `size` passwords,
/// the current one included. One hash comparison per remembered password.
async fn check_history(
    tenant: &Tenant,
    user: &UserRecord,
    password: &str,
    size: u32,
) -> Result<(), Error> {
    let mut remembered = vec![user.password_hash.clone()];
    remembered.extend(
        tenant
            .store
            .password_history(&user.id, size.saturating_sub(1))
            .await?,
    );
    for hash in &remembered {
        if tenant.hasher.verify(password, Some(hash)).await? {
            return Err(Error::PasswordInHistory { size });
        }
    }
    Ok(())
}

fn apply(field: &mut Option<String>, change: &Change<String>) {
    match change {
        Change::Keep => {}
        Change::Set(v) => *field = Some(v.clone()),
        Change::Remove => *field = None,
    }
}

/// First-level merge; a `null` value removes the key.
pub fn merge_metadata(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            target.remove(k);
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_merge_is_one_level_and_null_deletes() {
        let mut target = json!({"a": 1, "b": {"x": 1}, "c": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let patch = json!({"b": {"y": 2}, "c": null, "d": 4})
            .as_object()
            .cloned()
            .unwrap_or_default();
        merge_metadata(&mut target, &patch);
        assert_eq!(
            Value::Object(target),
            json!({"a": 1, "b": {"y": 2}, "d": 4})
        );
    }
}
