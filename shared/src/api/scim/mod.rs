//! The `scim` function: SCIM 2.0 under `/scim/v2` (API.md v3, RFC 7643 and
//! 7644), for a customer's identity provider. No JWT authorizer stands in
//! front of it: every request is authenticated here by a provisioning token
//! with scope `scim`, and the customer is the token's. Answers use
//! `application/scim+json`, errors SCIM's own error schema (never
//! problem+json), unknown routes and methods included.
//!
//! Built so far: the token check, the errors and discovery
//! (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`). Users come next.

mod discovery;
mod errors;

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

use crate::App;
use crate::error::{Error, Result};
use crate::model::Scope;
use crate::usecase::tokens::{Machine, authenticate};

pub use errors::SCIM_MEDIA_TYPE;

/// Where SCIM lives, below the API's base URL.
pub const PREFIX: &str = "/scim/v2";

/// What a SCIM request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ScimRoute {
    ServiceProviderConfig,
    ResourceTypes,
    ResourceType(String),
    Schemas,
    Schema(String),
}

impl ScimRoute {
    fn name(&self) -> &'static str {
        match self {
            Self::ServiceProviderConfig => "scim-service-provider-config",
            Self::ResourceTypes | Self::ResourceType(_) => "scim-resource-types",
            Self::Schemas | Self::Schema(_) => "scim-schemas",
        }
    }
}

/// The route of `method` on `path` (below [`PREFIX`]).
fn route_of(method: &Method, path: &str) -> Result<ScimRoute> {
    let rest = path.strip_prefix(PREFIX).ok_or(Error::RouteNotFound)?;
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
    let route = match segments.as_slice() {
        ["ServiceProviderConfig"] => ScimRoute::ServiceProviderConfig,
        ["ResourceTypes"] => ScimRoute::ResourceTypes,
        ["ResourceTypes", name] => ScimRoute::ResourceType(name.to_string()),
        ["Schemas"] => ScimRoute::Schemas,
        ["Schemas", id] => ScimRoute::Schema(id.to_string()),
        _ => return Err(Error::RouteNotFound),
    };
    if method != Method::GET {
        return Err(Error::MethodNotAllowed(&["GET"]));
    }
    Ok(route)
}

/// The provisioning token of `Authorization: Bearer <token>` (one header,
/// the scheme in any case).
fn bearer(req: &Request) -> Result<&str> {
    let mut values = req.headers().get_all("authorization").iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(Error::Unauthorized);
    };
    let value = value.to_str().map_err(|_| Error::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(Error::Unauthorized)?;
    if scheme.eq_ignore_ascii_case("bearer") { Ok(token.trim()) } else { Err(Error::Unauthorized) }
}

/// The base URL of this deployment's SCIM endpoints (`SCIM_BASE_URL`),
/// which `meta.location` is built from; never the request's `Host`.
fn base_url() -> String {
    crate::app::env("SCIM_BASE_URL").unwrap_or_else(|| format!("http://127.0.0.1:9000{PREFIX}"))
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let path = req.raw_http_path();
    let path = if path.is_empty() { req.uri().path().to_string() } else { path.to_string() };
    let route = route_of(req.method(), &path);
    let operation = route.as_ref().map_or("scim-unknown-route", ScimRoute::name);
    let mut customer = None;
    let result = async {
        let route = route?;
        let machine: Machine = authenticate(app, bearer(&req)?, Scope::Scim).await?;
        customer = Some(machine.customer_id.clone());
        answer(&route, &base_url())
    }
    .await;
    let mut response = match result {
        Ok(body) => json(StatusCode::OK, &body),
        Err(error) => errors::response(&error),
    };
    let headers = response.headers_mut();
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    // One line per request; never the token.
    tracing::info!(
        operation,
        customer_id = customer.as_deref(),
        status = response.status().as_u16(),
        "scim request handled"
    );
    response
}

fn answer(route: &ScimRoute, base: &str) -> Result<Value> {
    match route {
        ScimRoute::ServiceProviderConfig => Ok(discovery::service_provider_config(base)),
        ScimRoute::ResourceTypes => Ok(discovery::list(discovery::resource_types(base))),
        ScimRoute::ResourceType(name) => discovery::resource_types(base)
            .into_iter()
            .find(|r| r["name"] == **name)
            .ok_or(Error::RouteNotFound),
        ScimRoute::Schemas => Ok(discovery::list(discovery::schemas(base))),
        ScimRoute::Schema(id) => discovery::schemas(base)
            .into_iter()
            .find(|s| s["id"] == **id)
            .ok_or(Error::RouteNotFound),
    }
}

/// A SCIM answer.
pub fn json(status: StatusCode, value: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", SCIM_MEDIA_TYPE)
        .body(Body::Text(value.to_string()))
        .expect("static headers are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_below_the_prefix() {
        let get = Method::GET;
        assert_eq!(
            route_of(&get, "/scim/v2/ServiceProviderConfig"),
            Ok(ScimRoute::ServiceProviderConfig)
        );
        assert_eq!(route_of(&get, "/scim/v2/Schemas/"), Ok(ScimRoute::Schemas));
        assert_eq!(
            route_of(&get, "/scim/v2/ResourceTypes/User"),
            Ok(ScimRoute::ResourceType("User".into()))
        );
        assert_eq!(route_of(&get, "/scim/v2/Nope"), Err(Error::RouteNotFound));
        assert_eq!(route_of(&get, "/licenses"), Err(Error::RouteNotFound));
        assert_eq!(
            route_of(&Method::POST, "/scim/v2/Schemas"),
            Err(Error::MethodNotAllowed(&["GET"]))
        );
    }
}
