//! `/Users` and `/Users/{id}`: decode the SCIM request, call the directory
//! use case, answer the person (or the list) in SCIM's shape.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use super::attributes::Projection;
use super::filters::{self, Clause};
use super::users;
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
    let params = query(req)?;
    let projection =
        Projection::new(param(&params, "attributes"), param(&params, "excludedAttributes"));
    let shown = |u: &crate::model::DirectoryUser| projection.apply(users::to_scim(u, base));
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
        ScimRoute::Users(_) => list(app, m, Listing::of_query(&params)?, base).await,
        ScimRoute::Search => list(app, m, Listing::of_search(&body(req)?)?, base).await,
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

/// What a list asks for: `GET /Users`'s query, or a search's body (`POST
/// /Users/.search`, RFC 7644 §3.4.3).
struct Listing {
    clauses: Vec<Clause>,
    /// 1-based.
    start: usize,
    /// At most [`MAX_COUNT`].
    count: usize,
    projection: Projection,
}

impl Listing {
    fn new(
        filter: Option<&str>,
        start: Option<usize>,
        count: Option<usize>,
        projection: Projection,
    ) -> Result<Self> {
        Ok(Self {
            clauses: filter.map(filters::filter).transpose()?.unwrap_or_default(),
            start: start.unwrap_or(1).max(1),
            count: count.unwrap_or(MAX_COUNT).min(MAX_COUNT),
            projection,
        })
    }

    fn of_query(params: &[(String, String)]) -> Result<Self> {
        let number = |name: &str| -> Result<Option<usize>> {
            param(params, name)
                .map(|v| v.parse().map_err(|_| Error::field(name, "must be a number")))
                .transpose()
        };
        let projection =
            Projection::new(param(params, "attributes"), param(params, "excludedAttributes"));
        Self::new(param(params, "filter"), number("startIndex")?, number("count")?, projection)
    }

    fn of_search(body: &Value) -> Result<Self> {
        let number = |name: &str| -> Result<Option<usize>> {
            match &body[name] {
                Value::Null => Ok(None),
                v => v
                    .as_u64()
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| Error::field(name, "must be a number")),
            }
        };
        let names = |name: &str| -> Result<Option<String>> {
            match &body[name] {
                Value::Null => Ok(None),
                Value::Array(items) => {
                    let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                    texts
                        .map(|t| Some(t.join(",")))
                        .ok_or_else(|| Error::field(name, "must be strings"))
                }
                _ => Err(Error::field(name, "must be an array of strings")),
            }
        };
        let filter = match &body["filter"] {
            Value::Null => None,
            v => Some(v.as_str().ok_or_else(|| Error::field("filter", "must be a string"))?),
        };
        let (attributes, excluded) = (names("attributes")?, names("excludedAttributes")?);
        let projection = Projection::new(attributes.as_deref(), excluded.as_deref());
        Self::new(filter, number("startIndex")?, number("count")?, projection)
    }
}

/// A page of the customer's people: `totalResults` exact; a `userName eq`
/// alone is one key read.
async fn list(app: &App, m: &Machine, listing: Listing, base: &str) -> Result<Response<Body>> {
    let Listing { clauses, start, count, projection } = listing;
    let found = match clauses.as_slice() {
        [Clause::UserName(name)] => {
            app.store.directory_user_named(&m.customer_id, name).await?.into_iter().collect()
        }
        _ => {
            let all = app.store.directory(&m.customer_id).await?;
            all.into_iter().filter(|u| clauses.iter().all(|c| c.holds(u))).collect::<Vec<_>>()
        }
    };
    let page: Vec<Value> = found
        .iter()
        .skip(start - 1)
        .take(count)
        .map(|u| projection.apply(users::to_scim(u, base)))
        .collect();
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
