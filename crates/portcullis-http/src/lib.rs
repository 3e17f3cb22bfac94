//! Auth0's wire on top of the domain: routers for the Authentication API and the Management
//! API. Handlers parse, call one flow, and render; `wire` alone writes error bodies.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod authentication;
mod cookies;
pub mod extract;
mod management;
pub mod operations;
mod pages;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use portcullis_core::Tenant;
use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::wire::{ApiError, ManagementFailure, OAuthFailure, RequestError};

/// What every handler receives.
#[derive(Clone, Debug)]
pub struct AppState {
    pub tenant: Tenant,
    pub pages: Arc<pages::Pages>,
}

/// The whole HTTP surface of a tenant; fails when a replacement page template is wrong.
pub fn router(tenant: Tenant) -> Result<Router, String> {
    let cors = cors_layer(&tenant);
    let pages = Arc::new(pages::Pages::new(&tenant.config.branding)?);
    // With an operations address, `/metrics` is served there only.
    let public_metrics = tenant.config.operations_listen.is_none();
    let state = AppState { tenant, pages };
    operations::install_metrics();
    Ok(all_routes(public_metrics)
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(operations::track))
        // Outside the routes, so that preflight requests (OPTIONS) reach it before a route
        // answers 405. Only the origins the clients register are allowed, without
        // credentials.
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .with_state(state))
}

/// What the operations address serves (`operations_listen`): metrics and health probes, plain
/// HTTP, for a network the public never reaches.
pub fn operations_router(tenant: Tenant) -> Result<Router, String> {
    let pages = Arc::new(pages::Pages::new(&tenant.config.branding)?);
    operations::install_metrics();
    Ok(Router::new()
        .route("/metrics", get(operations::metrics))
        .route("/health", get(operations::health))
        .route("/health/ready", get(operations::ready))
        .fallback(not_found)
        .with_state(AppState { tenant, pages }))
}

/// Every route of the server, in one table.
fn all_routes(with_metrics: bool) -> Routes {
    let routes = Routes::new()
        .route("/health", get(operations::health))
        .route("/health/ready", get(operations::ready))
        .route("/testall", get(operations::testall));
    let routes = if with_metrics {
        routes.route("/metrics", get(operations::metrics))
    } else {
        routes
    };
    routes
        .route("/openapi.json", get(operations::openapi))
        .merge(authentication::routes())
        .merge(management::routes())
        .merge(pages::routes())
}

/// Every path the server routes, as its pattern (`{name}` for a parameter): what the OpenAPI
/// document must describe, no more and no less.
pub fn routed_paths() -> Vec<&'static str> {
    all_routes(true).paths
}

/// A router that remembers the paths it routes, so that the OpenAPI document can be checked
/// against the router itself rather than against a second list.
pub(crate) struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Self {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    pub(crate) fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, methods);
        self.paths.push(path);
        self
    }

    fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self
    }
}

/// Browsers may call the Authentication API from the origins the clients register.
fn cors_layer(tenant: &Tenant) -> CorsLayer {
    let origins: Vec<HeaderValue> = tenant
        .config
        .clients
        .iter()
        .flat_map(|c| c.web_origins.iter().chain(c.allowed_origins.iter()))
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        // Cross-origin authentication sets its verifier cookie from the application's page.
        .allow_credentials(AllowCredentials::predicate(|_, request| {
            request.uri.path() == "/co/authenticate"
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static("auth0-client"),
        ])
        .max_age(Duration::from_secs(86_400))
}

fn failure_for(uri: &Uri, error: RequestError) -> Response {
    if uri.path().starts_with("/api/") {
        ManagementFailure(ApiError::Request(error)).into_response()
    } else {
        OAuthFailure(ApiError::Request(error)).into_response()
    }
}

async fn not_found(uri: Uri) -> Response {
    failure_for(&uri, RequestError::NotFound)
}

async fn method_not_allowed(uri: Uri) -> Response {
    failure_for(&uri, RequestError::MethodNotAllowed)
}
