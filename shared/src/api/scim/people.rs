//! `/Users` and `/Users/{id}`: decode the SCIM request, call the directory
//! use case, answer the person (or the list) in SCIM's shape.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use super::users::{self, Clause};
use super::{ScimRoute, json};
use crate::App;
use crate::error::{Error, Result};
use crate::http::decode::{body_bytes, param, query};
use crate::usecase::directory;
use crate::usecase::tokens::Machine;

/// At most this many people on a page (`count` above it is served as it).
const MAX_COUNT: usize = 100;

pub async fn serve(
    app: &App,
    m: &Machine,
    route: &ScimRoute,
    req: &Request,
    base: &str,
) -> Result<Response<Body>> {
    let shown = |u: &crate::model::DirectoryUser| users::to_scim(u, base);
    match route {
        ScimRoute::Users(method) if method == Method::POST => {
            let created = directory::create(app, m, users::person(&body(req)?)?).await?;
            let mut response = json(StatusCode::CREATED, &shown(&created));
            let location = format!("{base}/Users/{}", created.id);
            response
                .headers_mut()
                .insert("location", location.parse().map_err(Error::unavailable)?);
            Ok(response)
        }
        ScimRoute::Users(_) => list(app, m, req, base).await,
        ScimRoute::User(method, id) if method == Method::GET => {
            Ok(json(StatusCode::OK, &shown(&directory::get(app, m, id).await?)))
        }
        ScimRoute::User(method, id) if method == Method::PUT => {
            let replacement = users::person(&body(req)?)?;
            let changed = directory::change(app, m, id, |_| Ok(replacement.clone())).await?;
            Ok(json(StatusCode::OK, &shown(&changed)))
        }
        ScimRoute::User(method, id) if method == Method::PATCH => {
            let ops = body(req)?;
            let changed = directory::change(app, m, id, |old| users::patch(old, &ops)).await?;
            Ok(json(StatusCode::OK, &shown(&changed)))
        }
        ScimRoute::User(_, id) => {
            directory::remove(app, m, id).await?;
            Ok(Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Body::Empty)
                .expect("static"))
        }
        _ => Err(Error::RouteNotFound),
    }
}

/// The request's JSON body (`application/scim+json` or `application/json`).
fn body(req: &Request) -> Result<Value> {
    serde_json::from_slice(body_bytes(req)?).map_err(|_| Error::field("body", "must be JSON"))
}

/// `GET /Users`: `filter`, `startIndex` (1-based), `count` (at most 100);
/// `totalResults` exact. A `userName eq` alone is one key read.
async fn list(app: &App, m: &Machine, req: &Request, base: &str) -> Result<Response<Body>> {
    let params = query(req)?;
    let number = |name: &str, default: usize| -> Result<usize> {
        param(&params, name)
            .map_or(Ok(default), |v| v.parse().map_err(|_| Error::field(name, "must be a number")))
    };
    let start = number("startIndex", 1)?.max(1);
    let count = number("count", MAX_COUNT)?.min(MAX_COUNT);
    let clauses = param(&params, "filter").map(users::filter).transpose()?.unwrap_or_default();
    let found = match clauses.as_slice() {
        [Clause::UserName(name)] => {
            app.store.directory_user_named(&m.customer_id, name).await?.into_iter().collect()
        }
        _ => {
            let all = app.store.directory(&m.customer_id).await?;
            all.into_iter().filter(|u| clauses.iter().all(|c| c.holds(u))).collect::<Vec<_>>()
        }
    };
    let page: Vec<Value> =
        found.iter().skip(start - 1).take(count).map(|u| users::to_scim(u, base)).collect();
    Ok(json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": found.len(),
            "startIndex": start,
            "itemsPerPage": page.len(),
            "Resources": page,
        }),
    ))
}
