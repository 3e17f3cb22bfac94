//! The Authentication API: database sign-up, the token endpoint, userinfo and discovery.

mod change_password;
pub(crate) mod cross_origin;
mod discovery;
mod mfa;
mod revoke;
mod signup;
mod token;
mod userinfo;

use axum::routing::{get, post};

use crate::Routes;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .route("/dbconnections/signup", post(signup::sign_up))
        .route(
            "/dbconnections/change_password",
            post(change_password::change_password),
        )
        .route("/co/authenticate", post(cross_origin::authenticate))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(revoke::revoke))
        .route("/mfa/associate", post(mfa::associate))
        .route("/mfa/challenge", post(mfa::challenge))
        .route("/mfa/authenticators", get(mfa::list))
        .route(
            "/mfa/authenticators/{id}",
            axum::routing::delete(mfa::delete),
        )
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
}
