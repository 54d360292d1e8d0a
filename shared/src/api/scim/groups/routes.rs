//! `/Groups` and `/Groups/{id}`: decode the SCIM request, call the groups
//! use case, answer the group (or the list) in SCIM's shape. A list leaves
//! `members` out unless `attributes` asks for them (then at most
//! [`MAX_COUNT_WITH_MEMBERS`] groups a page); one group has them all
//! unless `excludedAttributes` leaves them out (then only its record is
//! read).

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use super::super::attributes::Projection;
use super::super::listing::{Listing, body, list_response};
use super::super::{ScimRoute, created_answer, json, no_content};
use super::{GroupClause, filter, patch, replacement, to_scim};
use crate::App;
use crate::error::{Error, Result};
use crate::http::decode::{param, query};
use crate::model::{Group, Members};
use crate::usecase::groups;
use crate::usecase::tokens::Machine;

/// At most this many groups on a page that carries their members.
pub const MAX_COUNT_WITH_MEMBERS: usize = 10;

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
    let shown = |(g, members): &(Group, Members)| projection.apply(to_scim(g, Some(members), base));
    match route {
        ScimRoute::Groups(method) if method == Method::POST => {
            let created = groups::create(app, m, &replacement(&body(req)?)?).await?;
            created_answer(&shown(&created), format!("{base}/Groups/{}", created.0.id))
        }
        ScimRoute::Groups(_) => list(app, m, Listing::of_query(&params)?, base).await,
        ScimRoute::GroupSearch => list(app, m, Listing::of_search(&body(req)?)?, base).await,
        ScimRoute::Group(method, id) if method == Method::GET => {
            if projection.leaves_out("members") {
                let group =
                    app.store.group(&m.customer_id, id).await?.ok_or(Error::GroupNotFound)?;
                return Ok(json(StatusCode::OK, &projection.apply(to_scim(&group, None, base))));
            }
            Ok(json(StatusCode::OK, &shown(&groups::get(app, m, id).await?)))
        }
        ScimRoute::Group(method, id) if method == Method::PUT => {
            let changed = groups::change(app, m, id, &replacement(&body(req)?)?).await?;
            Ok(json(StatusCode::OK, &shown(&changed)))
        }
        ScimRoute::Group(method, id) if method == Method::PATCH => {
            let changed = groups::change(app, m, id, &patch(&body(req)?)?).await?;
            Ok(json(StatusCode::OK, &shown(&changed)))
        }
        ScimRoute::Group(_, id) => {
            groups::remove(app, m, id).await?;
            Ok(no_content())
        }
        _ => Err(Error::RouteNotFound),
    }
}

/// A page of the customer's groups: `totalResults` exact.
async fn list(app: &App, m: &Machine, listing: Listing, base: &str) -> Result<Response<Body>> {
    let Listing { filter: text, start, count, projection } = listing;
    let clauses = text.as_deref().map(filter).transpose()?.unwrap_or_default();
    let found = matching(app, m, &clauses).await?;
    let count = page_size(&projection, count);
    let page: Vec<&Group> = found.iter().skip(start - 1).take(count).collect();
    let shown = shown(app, m, &page, &projection, base).await?;
    Ok(json(StatusCode::OK, &list_response(found.len(), start, shown)))
}

/// The customer's groups that meet every clause, in id order: a
/// `displayName eq` is one key read; members are read only for a
/// `members[value eq]` condition.
pub(in super::super) async fn matching(
    app: &App,
    m: &Machine,
    clauses: &[GroupClause],
) -> Result<Vec<Group>> {
    let named = clauses.iter().find_map(|c| match c {
        GroupClause::DisplayName(name) => Some(name),
        _ => None,
    });
    let candidates = match named {
        Some(name) => app.store.group_named(&m.customer_id, name).await?.into_iter().collect(),
        None => app.store.groups(&m.customer_id).await?,
    };
    let (by_member, plain): (Vec<&GroupClause>, Vec<&GroupClause>) =
        clauses.iter().partition(|c| matches!(c, GroupClause::Member(_)));
    let found: Vec<Group> =
        candidates.into_iter().filter(|g| plain.iter().all(|c| c.holds(g, None))).collect();
    if by_member.is_empty() {
        return Ok(found);
    }
    let ids: Vec<String> = found.iter().map(|g| g.id.clone()).collect();
    let read = app.store.groups_with_members(&m.customer_id, &ids).await?;
    Ok(read
        .into_iter()
        .filter(|(g, members)| by_member.iter().all(|c| c.holds(g, Some(members))))
        .map(|(g, _)| g)
        .collect())
}

/// How many groups a page may carry: at most [`MAX_COUNT_WITH_MEMBERS`]
/// when `attributes` asks for their members.
pub(in super::super) fn page_size(projection: &Projection, count: usize) -> usize {
    if projection.asks_for("members") { count.min(MAX_COUNT_WITH_MEMBERS) } else { count }
}

/// A page's groups as SCIM shows them, their members read (all the page's
/// at once) only when `attributes` asks for them.
pub(in super::super) async fn shown(
    app: &App,
    m: &Machine,
    page: &[&Group],
    projection: &Projection,
    base: &str,
) -> Result<Vec<Value>> {
    if !projection.asks_for("members") {
        return Ok(page.iter().map(|g| projection.apply(to_scim(g, None, base))).collect());
    }
    let ids: Vec<String> = page.iter().map(|g| g.id.clone()).collect();
    let read = app.store.groups_with_members(&m.customer_id, &ids).await?;
    Ok(read.iter().map(|(g, members)| projection.apply(to_scim(g, Some(members), base))).collect())
}
