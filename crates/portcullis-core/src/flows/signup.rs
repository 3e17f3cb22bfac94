//! Creating database users: public sign-up (`/dbconnections/signup`) and the Management API
//! share [`create_user`]; sign-up adds the client and connection checks Auth0 makes first.

use serde_json::{Map, Value};

use crate::attack::breach::BreachStage;
use crate::attack::throttle::ThrottleStage;
use crate::config::Connection;
use crate::flows::extensibility;
use crate::flows::screening::screen_password;
use crate::flows::throttle;
use crate::identity::{Email, Username, new_user_id};
use crate::logs::{LogEvent, LogType, Requester};
use crate::password::hasher::HashError;
use crate::password::rules::{PasswordRejection, PersonalInfo};
use crate::store::{StoreError, UniqueField};
use crate::user::{UserRecord, default_picture};
use crate::{Error, Tenant};

/// The profile of a new user, as given by the caller.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub username: Option<String>,
    pub email_verified: bool,
    pub blocked: Option<bool>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub user_metadata: Map<String, Value>,
    pub app_metadata: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct SignUp {
    pub client_id: String,
    pub connection: String,
    pub user: NewUser,
}

/// `POST /dbconnections/signup`.
pub async fn sign_up(
    tenant: &Tenant,
    request: SignUp,
    requester: &Requester,
) -> Result<UserRecord, Error> {
    let client_id = request.client_id.clone();
    let connection = request.connection.clone();
    let email = request.user.email.clone();
    let result = match throttle::admit(tenant, ThrottleStage::PreUserRegistration, requester).await
    {
        Ok(taken) => {
            let result = sign_up_checked(tenant, request, requester).await;
            // Refused because the hashing threads were full, the sign-up was never tried: the
            // address's token goes back.
            if taken && matches!(result, Err(Error::Hash(HashError::Busy))) {
                throttle::give_back(tenant, ThrottleStage::PreUserRegistration, requester).await?;
            }
            result
        }
        Err(e) => Err(e),
    };
    let now = tenant.clock.now_millis();
    let event = |kind| {
        let event = LogEvent::new(kind, now)
            .requester(requester)
            .connection(&connection);
        match tenant.config.client(&client_id) {
            Some(client) => event.client(client),
            None => event.client_id(&client_id),
        }
    };
    match &result {
        Ok(user) => {
            tenant
                .record(event(LogType::SuccessSignup).user(user))
                .await;
            // Auth0 mails the verification link after a sign-up. After the answer, so that a
            // new e-mail costs no more time than a taken one (no enumeration by timing).
            let (background, user) = (tenant.clone(), user.clone());
            tenant.in_background(async move {
                let tenant = background;
                if let Err(e) = crate::flows::verify::send_verification_email(&tenant, &user).await
                {
                    tracing::warn!(error = %e, "could not send the verification e-mail");
                }
            });
        }
        Err(e) => {
            if matches!(e, Error::PasswordLeaked) {
                tenant
                    .record(event(LogType::BreachedPasswordSignup).user_name(&email))
                    .await;
            }
            tenant
                .record(
                    event(LogType::FailedSignup)
                        .user_name(&email)
                        .description(e.to_string()),
                )
                .await;
        }
    }
    result
}

async fn sign_up_checked(
    tenant: &Tenant,
    request: SignUp,
    requester: &Requester,
) -> Result<UserRecord, Error> {
    let client = tenant
        .config
        .client(&request.client_id)
        .ok_or(Error::UnknownClient)?;
    let connection = tenant
        .config
        .connection(&request.connection)
        .ok_or(Error::UnknownConnection)?;
    if !connection.is_enabled_for(&request.client_id) {
        return Err(Error::ConnectionDisabledForClient {
            client_id: request.client_id,
            connection: request.connection,
        });
    }
    if connection.disable_signup {
        return Err(Error::SignupDisabled);
    }
    let mut user =
        prepare_user(tenant, connection, request.user, Some(BreachStage::SignUp)).await?;
    // The tenant's pre-user-registration Actions may refuse, or set metadata.
    extensibility::pre_user_registration(tenant, client, connection, &mut user, requester).await?;
    let user = insert_user(tenant, user).await?;
    extensibility::post_user_registration(tenant, client, connection, &user, requester);
    Ok(user)
}

/// Validates identifiers, checks the password policy, hashes, and inserts; the unique indexes
/// decide between concurrent sign-ups of the same e-mail or username.
pub async fn create_user(
    tenant: &Tenant,
    connection: &Connection,
    new: NewUser,
    breach_stage: Option<BreachStage>,
) -> Result<UserRecord, Error> {
    let user = prepare_user(tenant, connection, new, breach_stage).await?;
    insert_user(tenant, user).await
}

/// A new user checked under every rule of `connection` and with the password hashed, not
/// stored yet.
async fn prepare_user(
    tenant: &Tenant,
    connection: &Connection,
    new: NewUser,
    breach_stage: Option<BreachStage>,
) -> Result<UserRecord, Error> {
    let email = Email::parse(&new.email).ok_or_else(|| Error::InvalidEmail(new.email.clone()))?;
    let username = parse_username(connection, new.username.as_deref())?;
    let info = PersonalInfo {
        email: Some(email.as_str()),
        username: new.username.as_deref(),
        name: new.name.as_deref(),
        nickname: new.nickname.as_deref(),
        user_metadata: Some(&new.user_metadata),
    };
    check_password(connection, &new.password, &info)?;
    if let Some(stage) = breach_stage {
        screen_password(tenant, &new.password, stage).await?;
    }

    let password_hash = tenant.hasher.hash(&new.password).await?;
    let now = tenant.clock.now_millis();
    let name = new.name.unwrap_or_else(|| email.as_str().to_owned());
    let nickname = new
        .nickname
        .unwrap_or_else(|| email.local_part().to_owned());
    let picture = new
        .picture
        .unwrap_or_else(|| default_picture(email.as_str(), &name));
    let user = UserRecord {
        id: new_user_id(now.div_euclid(1000)),
        connection: connection.name.clone(),
        email: email.as_str().to_owned(),
        email_verified: new.email_verified,
        username: username.map(|u| u.as_str().to_owned()),
        password_hash,
        given_name: new.given_name,
        family_name: new.family_name,
        name,
        nickname,
        picture,
        user_metadata: new.user_metadata,
        app_metadata: new.app_metadata,
        blocked: new.blocked,
        created_at: now,
        updated_at: now,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        last_password_reset: None,
        version: 1,
    };
    Ok(user)
}

/// Stores a new user; the unique indexes refuse a taken e-mail or username.
async fn insert_user(tenant: &Tenant, user: UserRecord) -> Result<UserRecord, Error> {
    match tenant.store.insert_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(UniqueField::Username)) => Err(Error::UsernameExists),
        Err(StoreError::Conflict(_)) => Err(Error::UserExists),
        Err(e) => Err(e.into()),
    }
}

pub fn parse_username(
    connection: &Connection,
    raw: Option<&str>,
) -> Result<Option<Username>, Error> {
    match (connection.requires_username, raw) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(Error::UsernameNotAllowed),
        (true, None) => Err(Error::UsernameRequired),
        (true, Some(raw)) => Username::parse(raw, connection.username_min, connection.username_max)
            .map(Some)
            .map_err(Error::InvalidUsername),
    }
}

/// The connection's stateless password checks (strength, dictionary, personal info).
pub fn check_password(
    connection: &Connection,
    password: &str,
    info: &PersonalInfo<'_>,
) -> Result<(), Error> {
    connection
        .password_rules
        .check(password, info)
        .map_err(|rejection| match rejection {
            PasswordRejection::TooWeak { report, policy } => Error::WeakPassword { report, policy },
            PasswordRejection::TooCommon => Error::PasswordTooCommon,
            PasswordRejection::ContainsUserInfo => Error::PasswordContainsUserInfo,
        })
}

/// What [`seed_users`] creates.
#[derive(Debug, Clone)]
pub struct Seed {
    pub connection: String,
    /// An e-mail address with `{n}` where each user's number goes.
    pub email_template: String,
    pub password: String,
    /// Numbers `first..first + count`.
    pub first: u64,
    pub count: u64,
    /// Users per transaction.
    pub batch: usize,
}

/// Many users for load tests and benchmarks: every rule of the connection is checked and the
/// password hashed once, for the first user; the others share that hash (the same password),
/// so a million users take seconds, not hours. Each batch is stored whole or not at all.
/// `progress` hears the number stored so far after each batch.
pub async fn seed_users(
    tenant: &Tenant,
    seed: &Seed,
    mut progress: impl FnMut(u64),
) -> Result<u64, Error> {
    if !seed.email_template.contains("{n}") {
        return Err(Error::InvalidEmail(seed.email_template.clone()));
    }
    let connection = tenant
        .config
        .connection(&seed.connection)
        .ok_or(Error::UnknownConnection)?;
    let email_of = |n: u64| seed.email_template.replace("{n}", &n.to_string());
    let prototype = prepare_user(
        tenant,
        connection,
        NewUser {
            email: email_of(seed.first),
            password: seed.password.clone(),
            ..NewUser::default()
        },
        None,
    )
    .await?;
    let mut stored = 0;
    let mut batch = Vec::with_capacity(seed.batch.max(1));
    for n in seed.first..seed.first.saturating_add(seed.count) {
        let email = Email::parse(&email_of(n)).ok_or_else(|| Error::InvalidEmail(email_of(n)))?;
        let mut user = prototype.clone();
        user.id = new_user_id(user.created_at.div_euclid(1000));
        user.name = email.as_str().to_owned();
        user.nickname = email.local_part().to_owned();
        user.picture = default_picture(email.as_str(), &user.name);
        user.email = email.as_str().to_owned();
        batch.push(user);
        if batch.len() >= seed.batch.max(1) {
            stored += store_batch(tenant, &mut batch).await?;
            progress(stored);
        }
    }
    if !batch.is_empty() {
        stored += store_batch(tenant, &mut batch).await?;
        progress(stored);
    }
    Ok(stored)
}

async fn store_batch(tenant: &Tenant, batch: &mut Vec<UserRecord>) -> Result<u64, Error> {
    match tenant.store.insert_users(batch).await {
        Ok(()) => {}
        Err(StoreError::Conflict(UniqueField::Username)) => return Err(Error::UsernameExists),
        Err(StoreError::Conflict(_)) => return Err(Error::UserExists),
        Err(e) => return Err(e.into()),
    }
    let stored = batch.len() as u64;
    batch.clear();
    Ok(stored)
}
