//! `/Users` and `/Users/{id}`: decode the SCIM request, call the directory
//! use case, answer the person (or the list) in SCIM's shape.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use super::attributes::Projection;
use super::filters::{self, Clause};
use super::listing::{Listing, body, list_response};
use super::users;
use super::{ScimRoute, created_answer, json, no_content};
use crate::App;
use crate::error::{Error, Result};
use crate::http::decode::{param, query};
use crate::model::DirectoryUser;
use crate::usecase::directory;
use crate::usecase::tokens::Machine;

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
    let shown = |u: &DirectoryUser| projection.apply(users::to_scim(u, base));
    match route {
        ScimRoute::Users(method) if method == Method::POST => {
            let created = directory::create(app, m, users::person(&body(req)?)?).await?;
            created_answer(&shown(&created), format!("{base}/Users/{}", created.id))
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
            Ok(no_content())
        }
        _ => Err(Error::RouteNotFound),
    }
}

/// A page of the customer's people: `totalResults` exact; a `userName eq`
/// alone is one key read.
async fn list(app: &App, m: &Machine, listing: Listing, base: &str) -> Result<Response<Body>> {
    let Listing { filter, start, count, projection } = listing;
    let clauses = filter.as_deref().map(filters::filter).transpose()?.unwrap_or_default();
    let found = matching(app, m, &clauses).await?;
    let page: Vec<Value> = found
        .iter()
        .skip(start - 1)
        .take(count)
        .map(|u| projection.apply(users::to_scim(u, base)))
        .collect();
    Ok(json(StatusCode::OK, &list_response(found.len(), start, page)))
}

/// The customer's people that meet every clause, in id order.
pub(super) async fn matching(
    app: &App,
    m: &Machine,
    clauses: &[Clause],
) -> Result<Vec<DirectoryUser>> {
    Ok(match clauses {
        [Clause::UserName(name)] => {
            app.store.directory_user_named(&m.customer_id, name).await?.into_iter().collect()
        }
        _ => {
            let all = app.store.directory(&m.customer_id).await?;
            all.into_iter().filter(|u| clauses.iter().all(|c| c.holds(u))).collect()
        }
    })
}
