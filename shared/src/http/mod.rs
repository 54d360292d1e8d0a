//! The HTTP layer: routing, identity, decoding, problem+json, JSON
//! responses, the `Idempotency-Key` wrapper, and [`serve`], which every
//! HTTP function's handler runs its operations in.

pub mod decode;
pub mod idempotency;
pub mod identity;
pub mod problem;
pub mod request;

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::App;
use crate::error::{Error, Result};
use crate::model;
use identity::Caller;
use request::Route;

/// What an operator filters a request's log line on: `ok`, or the slug of
/// the problem the response carries (set where the response is rendered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome(pub &'static str);

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
pub fn respond(result: Result<Response<Body>>) -> Response<Body> {
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

/// Routing, identity and problem mapping around one function's operations,
/// and one log line per request. The request is lent downward: `dispatch`
/// gets the route and the caller first, and decodes what its operation needs
/// from the request only then (route → caller → decode → use case → render).
pub async fn serve<'r, F, Fut>(app: &App, req: &'r Request, dispatch: F) -> Response<Body>
where
    F: FnOnce(Route, Caller, &'r Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>>>,
{
    let route = request::route(req);
    let (operation, license_id) = match &route {
        // Only ids that could be ours: a path is caller input, not a log line.
        Ok(r) => {
            (r.name(), r.license_id().filter(|id| model::is_license_id(id)).map(str::to_string))
        }
        Err(_) => ("unknown-route", None),
    };
    let mut customer = None;
    let result = async {
        let route = route?;
        if let Route::Preflight(allowed) = route {
            return Ok(preflight(allowed));
        }
        decode::query(req)?;
        let caller = identity::caller(req, app.auth)?;
        customer = caller.customer_id.clone();
        // Boxed: the operation's future is deep (use case, retry loop, store),
        // and one allocation per request keeps the handler's future shallow.
        Box::pin(dispatch(route, caller, req)).await
    }
    .await;
    let mut response = respond(result);
    // Answers are about one caller's data at one moment: never cached, never sniffed.
    let headers = response.headers_mut();
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    let outcome = response.extensions().get::<Outcome>().map_or("ok", |o| o.0);
    // One line per request; never tokens, bodies or e-mail addresses.
    tracing::info!(
        operation,
        license_id = license_id.as_deref(),
        customer_id = customer.as_deref(),
        status = response.status().as_u16(),
        outcome,
        "request handled"
    );
    response
}

/// `OPTIONS`: 204 with the path's methods. Browsers send it without a token
/// before a cross-origin request; API Gateway adds the CORS headers (for the
/// configured origins only) to this answer, so it needs no identity.
fn preflight(allowed: &[&str]) -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header("allow", allowed.join(", "))
        .body(Body::Empty)
        .expect("static headers are valid")
}
