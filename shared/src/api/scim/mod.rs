//! The `scim` function: SCIM 2.0 under `/scim/v2` (API.md v3, RFC 7643 and
//! 7644), for a customer's identity provider. No JWT authorizer stands in
//! front of it: every request is authenticated here by a provisioning token
//! with scope `scim`, and the customer is the token's. Answers use
//! `application/scim+json`, errors SCIM's own error schema (never
//! problem+json), unknown routes and methods included.
//!
//! Built: the token check, the errors, discovery (`ServiceProviderConfig`,
//! `ResourceTypes`, `Schemas`), Users (`people.rs` serves them, `users.rs`
//! reads and writes their SCIM shape) and Groups (`groups.rs` their shape,
//! `groups/routes.rs` serves them); `listing.rs` reads a list's request for
//! both, and `attributes.rs` shows what a request asks to see.

mod attributes;
mod discovery;
mod errors;
mod filters;
mod groups;
mod listing;
mod people;
mod search;
mod users;

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

use crate::App;
use crate::error::{Error, Result};
use crate::model::Scope;
use crate::usecase::budget::Budget;
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
    /// `/Users`: list (GET) or create (POST).
    Users(Method),
    /// `/Users/{id}`: GET, PUT, PATCH, DELETE.
    User(Method, String),
    /// `POST /Users/.search`.
    Search,
    /// `POST /.search`: people and groups.
    SearchAll,
    /// `/Groups`: list (GET) or create (POST).
    Groups(Method),
    /// `/Groups/{id}`: GET, PUT, PATCH, DELETE.
    Group(Method, String),
    /// `POST /Groups/.search`.
    GroupSearch,
}

impl ScimRoute {
    /// A route of Users or Groups (not discovery).
    fn is_resource(&self) -> bool {
        matches!(
            self,
            Self::Users(_)
                | Self::User(..)
                | Self::Search
                | Self::SearchAll
                | Self::Groups(_)
                | Self::Group(..)
                | Self::GroupSearch
        )
    }

    fn name(&self) -> &'static str {
        match self {
            Self::ServiceProviderConfig => "scim-service-provider-config",
            Self::ResourceTypes | Self::ResourceType(_) => "scim-resource-types",
            Self::Schemas | Self::Schema(_) => "scim-schemas",
            Self::Users(m) if m == Method::POST => "scim-create-user",
            Self::Users(_) => "scim-list-users",
            Self::Search => "scim-search-users",
            Self::SearchAll => "scim-search",
            Self::User(m, _) if m == Method::PUT => "scim-replace-user",
            Self::User(m, _) if m == Method::PATCH => "scim-patch-user",
            Self::User(m, _) if m == Method::DELETE => "scim-delete-user",
            Self::User(..) => "scim-get-user",
            Self::Groups(m) if m == Method::POST => "scim-create-group",
            Self::Groups(_) => "scim-list-groups",
            Self::GroupSearch => "scim-search-groups",
            Self::Group(m, _) if m == Method::PUT => "scim-replace-group",
            Self::Group(m, _) if m == Method::PATCH => "scim-patch-group",
            Self::Group(m, _) if m == Method::DELETE => "scim-delete-group",
            Self::Group(..) => "scim-get-group",
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
        ["Users"] if [Method::GET, Method::POST].contains(method) => {
            ScimRoute::Users(method.clone())
        }
        ["Users"] => return Err(Error::MethodNotAllowed(&["GET", "POST"])),
        ["Users", ".search"] if method == Method::POST => ScimRoute::Search,
        [".search"] if method == Method::POST => ScimRoute::SearchAll,
        [".search"] | ["Users", ".search"] => return Err(Error::MethodNotAllowed(&["POST"])),
        ["Users", id]
            if [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method) =>
        {
            ScimRoute::User(method.clone(), id.to_string())
        }
        ["Users", _] => return Err(Error::MethodNotAllowed(&["GET", "PUT", "PATCH", "DELETE"])),
        ["Groups"] if [Method::GET, Method::POST].contains(method) => {
            ScimRoute::Groups(method.clone())
        }
        ["Groups"] => return Err(Error::MethodNotAllowed(&["GET", "POST"])),
        ["Groups", ".search"] if method == Method::POST => ScimRoute::GroupSearch,
        ["Groups", ".search"] => return Err(Error::MethodNotAllowed(&["POST"])),
        ["Groups", id]
            if [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method) =>
        {
            ScimRoute::Group(method.clone(), id.to_string())
        }
        ["Groups", _] => return Err(Error::MethodNotAllowed(&["GET", "PUT", "PATCH", "DELETE"])),
        _ => return Err(Error::RouteNotFound),
    };
    if route.is_resource() {
        return Ok(route);
    }
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
        Budget::scim(app, &machine.customer_id, &machine.token_id).charge(app).await?;
        let base = base_url();
        match &route {
            ScimRoute::Users(_) | ScimRoute::User(..) | ScimRoute::Search => {
                people::serve(app, &machine, &route, &req, &base).await
            }
            ScimRoute::Groups(_) | ScimRoute::Group(..) | ScimRoute::GroupSearch => {
                groups::routes::serve(app, &machine, &route, &req, &base).await
            }
            ScimRoute::SearchAll => {
                let listing = listing::Listing::of_search(&listing::body(&req)?)?;
                search::search_all(app, &machine, listing, &base).await
            }
            _ => answer(&route, &base).map(|body| json(StatusCode::OK, &body)),
        }
    }
    .await;
    let mut response = result.unwrap_or_else(|error| errors::response(&error));
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
        _ => Err(Error::RouteNotFound),
    }
}

/// A `201 Created` answer with the new resource and its `Location`.
fn created_answer(value: &Value, location: String) -> Result<Response<Body>> {
    let mut response = json(StatusCode::CREATED, value);
    response.headers_mut().insert("location", location.parse().map_err(Error::unavailable)?);
    Ok(response)
}

/// The answer to a DELETE.
fn no_content() -> Response<Body> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("static")
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
