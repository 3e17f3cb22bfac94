//! The user object as Auth0's Management API returns it (management-api.md §3.1): absent
//! fields omitted, `blocked` only once set, login fields only after a first login.

use portcullis_core::clock::iso8601_millis;
use portcullis_core::identity::DATABASE_PROVIDER;
use portcullis_core::user::UserRecord;
use serde_json::{Map, Value, json};

pub fn management_user(u: &UserRecord) -> Value {
    let mut m = Map::new();
    m.insert("created_at".into(), iso8601_millis(u.created_at).into());
    m.insert("email".into(), u.email.clone().into());
    m.insert("email_verified".into(), u.email_verified.into());
    if let Some(v) = &u.family_name {
        m.insert("family_name".into(), v.clone().into());
    }
    if let Some(v) = &u.given_name {
        m.insert("given_name".into(), v.clone().into());
    }
    m.insert(
        "identities".into(),
        json!([{
            "connection": u.connection,
            "user_id": u.id,
            "provider": DATABASE_PROVIDER,
            "isSocial": false
        }]),
    );
    m.insert("name".into(), u.name.clone().into());
    m.insert("nickname".into(), u.nickname.clone().into());
    m.insert("picture".into(), u.picture.clone().into());
    m.insert("updated_at".into(), iso8601_millis(u.updated_at).into());
    m.insert("user_id".into(), u.user_id().into());
    if let Some(v) = &u.username {
        m.insert("username".into(), v.clone().into());
    }
    m.insert(
        "user_metadata".into(),
        Value::Object(u.user_metadata.clone()),
    );
    m.insert("app_metadata".into(), Value::Object(u.app_metadata.clone()));
    if let Some(b) = u.blocked {
        m.insert("blocked".into(), b.into());
    }
    if let Some(at) = u.last_login {
        m.insert("last_login".into(), iso8601_millis(at).into());
        m.insert("logins_count".into(), u.logins_count.into());
    }
    if let Some(ip) = &u.last_ip {
        m.insert("last_ip".into(), ip.clone().into());
    }
    if let Some(at) = u.last_password_reset {
        m.insert("last_password_reset".into(), iso8601_millis(at).into());
    }
    Value::Object(m)
}

/// Applies Auth0's `fields` / `include_fields` projection to a user object.
pub fn project(mut user: Value, fields: Option<&str>, include: bool) -> Value {
    let Some(fields) = fields.filter(|f| !f.trim().is_empty()) else {
        return user;
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    if let Value::Object(map) = &mut user {
        map.retain(|k, _| wanted.contains(&k.as_str()) == include);
    }
    user
}

/// `POST /dbconnections/signup`'s answer: `_id`, `email`, `email_verified` and the profile
/// fields the caller gave.
pub fn signup_user(u: &UserRecord, given: &SignupEcho) -> Value {
    let mut m = Map::new();
    m.insert("_id".into(), u.id.clone().into());
    m.insert("email".into(), u.email.clone().into());
    m.insert("email_verified".into(), u.email_verified.into());
    if let Some(v) = &u.username {
        m.insert("username".into(), v.clone().into());
    }
    let echo = [
        ("given_name", given.given_name),
        ("family_name", given.family_name),
        ("name", given.name),
        ("nickname", given.nickname),
        ("picture", given.picture),
    ];
    for (key, present) in echo {
        if present {
            let value = match key {
                "given_name" => u.given_name.clone().map(Value::from),
                "family_name" => u.family_name.clone().map(Value::from),
                "name" => Some(u.name.clone().into()),
                "nickname" => Some(u.nickname.clone().into()),
                _ => Some(u.picture.clone().into()),
            };
            if let Some(v) = value {
                m.insert(key.into(), v);
            }
        }
    }
    if given.user_metadata {
        m.insert(
            "user_metadata".into(),
            Value::Object(u.user_metadata.clone()),
        );
    }
    Value::Object(m)
}

/// Which optional profile fields the sign-up request carried.
#[derive(Debug, Default, Clone, Copy)]
pub struct SignupEcho {
    pub given_name: bool,
    pub family_name: bool,
    pub name: bool,
    pub nickname: bool,
    pub picture: bool,
    pub user_metadata: bool,
}
