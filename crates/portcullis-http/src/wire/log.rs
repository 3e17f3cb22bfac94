//! The log object of Auth0's Management API (management-api.md §4.3).

use portcullis_core::clock::iso8601_millis;
use portcullis_core::logs::LogEvent;
use serde_json::{Map, Value};

pub fn management_log(event: &LogEvent, hostname: &str) -> Value {
    let mut m = Map::new();
    m.insert("date".into(), iso8601_millis(event.date).into());
    m.insert("type".into(), event.log_type.clone().into());
    let optional = [
        ("description", &event.description),
        ("client_id", &event.client_id),
        ("client_name", &event.client_name),
        ("ip", &event.ip),
        ("user_agent", &event.user_agent),
        ("user_id", &event.user_id),
        ("user_name", &event.user_name),
        ("connection", &event.connection),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            m.insert(key.into(), v.clone().into());
        }
    }
    if event.connection.is_some() {
        m.insert("strategy".into(), "auth0".into());
        m.insert("strategy_type".into(), "database".into());
    }
    m.insert("details".into(), Value::Object(event.details.clone()));
    m.insert("hostname".into(), hostname.into());
    m.insert("isMobile".into(), false.into());
    m.insert("log_id".into(), event.log_id.clone().into());
    Value::Object(m)
}
