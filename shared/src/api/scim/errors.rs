//! SCIM's error schema (RFC 7644 §3.12) for the one error type: the same
//! statuses as problem+json (`http::problem::describe`), as SCIM says them.

use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::problem;

pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// RFC 7644's `scimType`, where it names one for the error.
fn scim_type(error: &Error) -> Option<&'static str> {
    match error {
        Error::Validation(_) => Some("invalidValue"),
        Error::Uniqueness(_) => Some("uniqueness"),
        Error::InvalidFilter(_) => Some("invalidFilter"),
        _ => None,
    }
}

/// The error document: `schemas`, `status` as a string, `detail`, and
/// `scimType` where RFC 7644 names one.
pub fn body(error: &Error) -> Value {
    let (_, status, title) = problem::describe(error);
    let detail = match error {
        Error::Unauthorized => "A provisioning token with scope scim is required.".to_string(),
        Error::RouteNotFound => "No such SCIM resource.".to_string(),
        _ => problem::body(error)["detail"].as_str().unwrap_or(title).to_string(),
    };
    let mut doc =
        json!({"schemas": [ERROR_SCHEMA], "status": status.as_u16().to_string(), "detail": detail});
    if let Some(kind) = scim_type(error) {
        doc["scimType"] = json!(kind);
    }
    doc
}

pub fn response(error: &Error) -> Response<Body> {
    let (slug, status, _) = problem::describe(error);
    if let Error::Unavailable(cause) = error {
        tracing::error!(%cause, "dependency failed");
    }
    let mut builder = Response::builder().status(status).header("content-type", SCIM_MEDIA_TYPE);
    match error {
        Error::Unauthorized => builder = builder.header("www-authenticate", "Bearer"),
        Error::Unavailable(_) => {
            builder = builder.header("retry-after", problem::RETRY_AFTER_SECONDS.to_string())
        }
        Error::RateLimited { retry_after } => {
            builder = builder.header("retry-after", retry_after.to_string())
        }
        Error::MethodNotAllowed(allowed) => builder = builder.header("allow", allowed.join(", ")),
        _ => {}
    }
    let mut response =
        builder.body(Body::Text(body(error).to_string())).expect("static headers are valid");
    response.extensions_mut().insert(crate::http::Outcome(slug));
    response
}
