//! Authenticating the application on the token endpoint: public clients send only their
//! `client_id`; confidential clients must also prove their secret (in the body or by HTTP Basic),
//! compared in constant time against its digest.

use crate::config::Client;
use crate::{Error, Tenant};

/// What the application presented.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
}

pub fn authenticate<'t>(
    tenant: &'t Tenant,
    presented: &ClientCredentials,
) -> Result<&'t Client, Error> {
    let client = tenant
        .config
        .client(&presented.client_id)
        .ok_or(Error::UnknownClient)?;
    match (&client.secret, &presented.client_secret) {
        (Some(digest), Some(secret)) if digest.matches(secret) => Ok(client),
        (Some(_), _) => Err(Error::ClientAuthenticationFailed),
        // A public client sending a secret it does not have is refused too, as Auth0 refuses
        // a wrong token_endpoint_auth_method.
        (None, Some(_)) => Err(Error::ClientAuthenticationFailed),
        (None, None) => Ok(client),
    }
}
