//! Cross-origin authentication, Auth0's embedded login for auth0.js and Lock: the
//! application's own page posts the password to `/co/authenticate` (from one of the client's
//! `allowed_origins`), receives a single-use `login_ticket` with a verifier, and the same
//! browser continues at `/authorize?login_ticket=…`, proven by the verifier cookie set with
//! the ticket. A second factor, when required, is asked for on the hosted pages there.

use serde_json::{Map, Value, json};

use crate::config::grant;
use crate::flows::extensibility::CustomClaims;
use crate::flows::login::{PasswordLogin, password_login};
use crate::flows::mfa;
use crate::logs::Requester;
use crate::mfa::PendingLogin;
use crate::secret::{SecretDigest, random_token};
use crate::tickets::{self, TicketKind};
use crate::user::UserRecord;
use crate::{Error, Tenant};

/// How long the application has to go from `/co/authenticate` to `/authorize`.
pub const LOGIN_TICKET_LIFETIME_SECS: i64 = 300;

/// The body of `POST /co/authenticate`.
#[derive(Debug, Clone)]
pub struct CrossOriginLogin {
    pub client_id: String,
    /// The page's `Origin` header; browsers always send it on a cross-origin POST.
    pub origin: Option<String>,
    pub username: String,
    pub password: String,
    pub realm: Option<String>,
    pub credential_type: Option<String>,
    pub requester: Requester,
}

/// What `/co/authenticate` answers: the ticket for `/authorize`, and the verifier the
/// application keeps under `co_id` (the same verifier goes into a cookie).
#[derive(Debug, Clone)]
pub struct LoginTicket {
    pub login_ticket: String,
    pub co_verifier: String,
    pub co_id: String,
}

/// The login a ticket stands for, once redeemed at `/authorize`.
#[derive(Debug, Clone)]
pub struct TicketLogin {
    pub user: UserRecord,
    /// When the password was checked (milliseconds).
    pub authenticated_at: i64,
    /// The `mfa_token` and whether the user is enrolled, when a second factor is still due.
    pub second_factor: Option<(String, bool)>,
    /// Claims the login's Actions and Rules added.
    pub claims: CustomClaims,
}

/// Whether `origin` may use cross-origin authentication for `client`.
fn origin_allowed(client: &crate::config::Client, origin: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return false;
    };
    client.cross_origin_authentication
        && client
            .allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/') == origin.trim_end_matches('/'))
}

/// `POST /co/authenticate`: checks the password under every protection of a login, and
/// returns a ticket. The login itself completes at `/authorize`.
pub async fn authenticate(tenant: &Tenant, login: CrossOriginLogin) -> Result<LoginTicket, Error> {
    let client = tenant
        .config
        .client(&login.client_id)
        .ok_or(Error::UnknownClient)?;
    if !origin_allowed(client, login.origin.as_deref()) {
        return Err(Error::CrossOriginNotAllowed);
    }
    let realm = match login.credential_type.as_deref() {
        Some(grant::PASSWORD_REALM) => login.realm.clone(),
        None | Some(grant::PASSWORD) => None,
        Some(other) => return Err(Error::UnsupportedGrantType(other.to_owned())),
    };
    let password = PasswordLogin {
        realm,
        username: login.username,
        password: login.password,
        requester: login.requester,
        pending: PendingLogin::default(),
        // Like the hosted page, the second factor is asked for by the hosted pages.
        on_login_page: true,
    };
    let (user, claims, second_factor) =
        match password_login(tenant, client, grant::PASSWORD_REALM, &password).await {
            Ok(logged_in) => (logged_in.user, logged_in.claims, None),
            Err(Error::MfaRequired {
                mfa_token,
                enrolled,
            }) => {
                // The claims travel with the mfa_token.
                let (_, user) = mfa::session(tenant, &mfa_token, Some(&client.client_id)).await?;
                (user, CustomClaims::default(), Some((mfa_token, enrolled)))
            }
            Err(e) => return Err(e),
        };
    let co_verifier = random_token(32);
    let co_id = random_token(16);
    let mut payload = Map::new();
    payload.insert("client_id".into(), json!(client.client_id));
    payload.insert("co_id".into(), json!(co_id));
    payload.insert(
        "verifier_hash".into(),
        json!(SecretDigest::of(&co_verifier).to_hex()),
    );
    payload.insert("authenticated_at".into(), json!(tenant.clock.now_millis()));
    if !claims.is_empty() {
        payload.insert("claims".into(), json!(claims));
    }
    if let Some((mfa_token, enrolled)) = &second_factor {
        payload.insert("mfa_token".into(), json!(mfa_token));
        payload.insert("enrolled".into(), json!(enrolled));
    }
    let login_ticket = tickets::issue(
        tenant,
        TicketKind::LoginTicket,
        &user.user_id(),
        payload,
        LOGIN_TICKET_LIFETIME_SECS,
    )
    .await?;
    Ok(LoginTicket {
        login_ticket,
        co_verifier,
        co_id,
    })
}

/// The `co_id` a ticket was issued with, so the caller can find the verifier cookie.
pub async fn ticket_co_id(tenant: &Tenant, login_ticket: &str) -> Result<Option<String>, Error> {
    Ok(tickets::peek(tenant, TicketKind::LoginTicket, login_ticket)
        .await?
        .and_then(|t| t.payload.get("co_id")?.as_str().map(str::to_owned)))
}

/// Redeems a login ticket for `client_id`, presented with the browser's verifier: once, in
/// time, by the client it was issued to, in the browser that received it.
pub async fn redeem(
    tenant: &Tenant,
    login_ticket: &str,
    client_id: &str,
    co_verifier: Option<&str>,
) -> Result<TicketLogin, Error> {
    let ticket = tickets::redeem(tenant, TicketKind::LoginTicket, login_ticket)
        .await?
        .ok_or(Error::InvalidLoginTicket)?;
    let text = |key: &str| ticket.payload.get(key).and_then(Value::as_str);
    let verified = match (co_verifier, text("verifier_hash")) {
        (Some(verifier), Some(expected)) if !verifier.is_empty() && verifier.len() <= 256 => {
            let digest = SecretDigest::of(verifier).to_hex();
            subtle::ConstantTimeEq::ct_eq(digest.as_bytes(), expected.as_bytes()).into()
        }
        _ => false,
    };
    if !verified || text("client_id") != Some(client_id) {
        return Err(Error::InvalidLoginTicket);
    }
    let user = match crate::flows::users::get(tenant, &ticket.user_id).await {
        Ok(user) => user,
        Err(Error::UserNotFound) => return Err(Error::InvalidLoginTicket),
        Err(e) => return Err(e),
    };
    if user.is_blocked() {
        return Err(Error::UserBlocked);
    }
    let second_factor = text("mfa_token").map(|token| {
        let enrolled = ticket
            .payload
            .get("enrolled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        (token.to_owned(), enrolled)
    });
    Ok(TicketLogin {
        user,
        authenticated_at: ticket
            .payload
            .get("authenticated_at")
            .and_then(Value::as_i64)
            .unwrap_or(ticket.created_at),
        second_factor,
        claims: ticket
            .payload
            .get("claims")
            .and_then(|c| serde_json::from_value(c.clone()).ok())
            .unwrap_or_default(),
    })
}
