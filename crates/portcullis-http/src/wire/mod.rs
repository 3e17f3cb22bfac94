//! The only place that knows Auth0's error bodies. A failure is rendered for the surface it
//! happened on: the database endpoints (`name/code/description/statusCode`), the OAuth endpoints
//! (`error/error_description`), `/userinfo` (a bearer challenge), or the Management API
//! (`statusCode/error/message/errorCode`). Every `match` is exhaustive with no catch-all arm, so
//! a new domain variant does not compile until its wire shape is decided here.

mod database;
pub mod log;
mod management;
mod oauth;
pub mod page;
pub mod page_text;
pub mod user;

use axum::http::StatusCode;
use portcullis_core::Error;
use portcullis_core::store::StoreError;

pub use database::DatabaseFailure;
pub use management::ManagementFailure;
pub use oauth::{
    CrossOriginFailure, OAuthFailure, RevocationFailure, UserinfoFailure, redirect_error,
};

/// What is wrong with a field; its words are the wire's ([`FieldProblem`]'s `Display`), the
/// payload-validation texts Auth0's APIs answer with where they have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    /// The JSON type `expected`, found `found` (as `json_type` names them).
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    NegativeInteger,
    TooManyProperties {
        maximum: usize,
    },
    /// A value not among the field's allowed ones.
    NotInEnum(String),
    NotAnIpAddress(String),
    /// A Guardian factor this server does not offer.
    FactorUnavailable(String),
    /// Guardian policies other than `[]` and `["all-applications"]`.
    UnsupportedPolicies,
    /// `all-applications` without the one-time-code factor.
    PolicyWithoutOtp,
    /// Action secrets not shaped `[{name, value}]`.
    SecretsShape,
    /// `supported_triggers` not shaped `[{id, version}]`.
    TriggersShape,
    /// A binding without `ref: {type, value}`.
    BindingShape,
    /// Client credentials both in the body and in the `Authorization` header.
    TwoClientAuthentications,
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldProblem::WrongType { expected, found } => {
                write!(f, "Expected type {expected} but found type {found}")
            }
            FieldProblem::NegativeInteger => f.write_str("Expected a non-negative integer"),
            FieldProblem::TooManyProperties { maximum } => {
                write!(f, "Too many properties defined (maximum {maximum})")
            }
            FieldProblem::NotInEnum(value) => write!(f, "No enum match for: {value}"),
            FieldProblem::NotAnIpAddress(value) => write!(
                f,
                "Object didn't pass validation for format ipv4 or ipv6: {value}"
            ),
            FieldProblem::FactorUnavailable(name) => {
                write!(f, "the {name} factor is not available on this server")
            }
            FieldProblem::UnsupportedPolicies => {
                f.write_str("only [] and [\"all-applications\"] are supported")
            }
            FieldProblem::PolicyWithoutOtp => {
                f.write_str("all-applications needs the otp factor enabled")
            }
            FieldProblem::SecretsShape => {
                f.write_str("each secret needs a name and a string value")
            }
            FieldProblem::TriggersShape => {
                f.write_str("expected [{\"id\": \"<trigger>\", \"version\": \"…\"}]")
            }
            FieldProblem::BindingShape => {
                f.write_str("each binding needs ref: {type: action_id|action_name, value}")
            }
            FieldProblem::TwoClientAuthentications => {
                f.write_str("client authentication must use one method only")
            }
        }
    }
}

/// A request the HTTP layer refused before any flow ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The body is not valid JSON / form data, or not an object.
    MalformedBody(String),
    UnsupportedMediaType,
    PayloadTooLarge,
    MissingField(&'static str),
    /// A field has the wrong type or shape.
    InvalidField {
        field: String,
        problem: FieldProblem,
    },
    UnknownFields(Vec<String>),
    InvalidQuery(String),
    NotFound,
    MethodNotAllowed,
}

/// Any failure a handler can return.
#[derive(Debug)]
pub enum ApiError {
    Domain(Error),
    Request(RequestError),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self::Domain(e)
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        Self::Request(e)
    }
}

/// A failure that is not the client's: logged with a short id that the client also sees.
pub(crate) struct Internal {
    pub status: StatusCode,
    pub id: String,
}

pub(crate) fn internal(error: &Error) -> Internal {
    let id = portcullis_core::secret::random_token(6);
    let unavailable = matches!(error, Error::Store(StoreError::Unavailable(_)));
    tracing::error!(error_id = %id, %error, "request failed");
    Internal {
        status: if unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        },
        id,
    }
}

/// `PayloadTooLarge` and friends share their texts across surfaces.
pub(crate) fn request_text(e: &RequestError) -> String {
    match e {
        RequestError::MalformedBody(why) => format!("Invalid request body: {why}"),
        RequestError::UnsupportedMediaType => {
            "Unsupported content type: use application/json or application/x-www-form-urlencoded"
                .to_owned()
        }
        RequestError::PayloadTooLarge => "Request body is too large".to_owned(),
        RequestError::MissingField(f) => format!("Missing required parameter: {f}"),
        RequestError::InvalidField { field, problem } => {
            format!("Invalid parameter {field}: {problem}")
        }
        RequestError::UnknownFields(fields) => {
            format!(
                "the following properties are not allowed: {}",
                fields.join(",")
            )
        }
        RequestError::InvalidQuery(why) => why.clone(),
        RequestError::NotFound => "Not Found".to_owned(),
        RequestError::MethodNotAllowed => "Method Not Allowed".to_owned(),
    }
}

pub(crate) fn request_status(e: &RequestError) -> StatusCode {
    match e {
        RequestError::MalformedBody(_)
        | RequestError::MissingField(_)
        | RequestError::InvalidField { .. }
        | RequestError::UnknownFields(_)
        | RequestError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
        RequestError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        RequestError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        RequestError::NotFound => StatusCode::NOT_FOUND,
        RequestError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
    }
}

/// A request refused because too many password hashes are waiting: how long to wait before
/// retrying (a hash queue drains in about a second), as `Retry-After`.
pub(crate) fn retry_after_when_busy(error: &ApiError, response: &mut axum::response::Response) {
    if matches!(
        error,
        ApiError::Domain(Error::Hash(
            portcullis_core::password::hasher::HashError::Busy
        ))
    ) {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
    }
}
