//! HTTP glue: identity, routing and decoding, problem+json, JSON responses.

pub mod identity;
pub mod problem;
pub mod request;

use lambda_http::{http::StatusCode, Body, Response};
use serde::Serialize;

use crate::error::Error;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::Text(text))
            .expect("static headers are valid"),
        Err(e) => problem::response(&Error::unavailable(e)),
    }
}

/// Turns a handler's result into the response, logging failures once.
pub fn respond(result: Result<Response<Body>, Error>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(error) => {
            if let Error::Unavailable(cause) = &error {
                tracing::error!(%cause, "dependency failed");
            }
            problem::response(&error)
        }
    }
}
