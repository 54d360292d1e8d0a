//! `POST /.search` (RFC 7644 §3.4.3): a search across every resource type,
//! people first, then groups, paged as one list. A filter is applied to each
//! type that can read it (`userName eq` only to people, `displayName eq`
//! only to groups); one that neither can read is an `invalidFilter`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::Value;

use super::groups::{self, routes as group_routes};
use super::listing::{Listing, list_response};
use super::{filters, json, people, users};
use crate::App;
use crate::error::Result;
use crate::usecase::tokens::Machine;

pub async fn search_all(
    app: &App,
    m: &Machine,
    listing: Listing,
    base: &str,
) -> Result<Response<Body>> {
    let Listing { filter, start, count, projection } = listing;
    let (found_people, found_groups) = match filter.as_deref() {
        None => (people::matching(app, m, &[]).await?, group_routes::matching(app, m, &[]).await?),
        Some(text) => match (filters::filter(text), groups::filter(text)) {
            (Err(error), Err(_)) => return Err(error),
            (for_people, for_groups) => {
                let found_people = match for_people {
                    Ok(clauses) => people::matching(app, m, &clauses).await?,
                    Err(_) => Vec::new(),
                };
                let found_groups = match for_groups {
                    Ok(clauses) => group_routes::matching(app, m, &clauses).await?,
                    Err(_) => Vec::new(),
                };
                (found_people, found_groups)
            }
        },
    };
    let total = found_people.len() + found_groups.len();
    let count = group_routes::page_size(&projection, count);
    let skip = start - 1;
    let mut page: Vec<Value> = found_people
        .iter()
        .skip(skip)
        .take(count)
        .map(|u| projection.apply(users::to_scim(u, base)))
        .collect();
    let groups_page: Vec<_> = found_groups
        .iter()
        .skip(skip.saturating_sub(found_people.len()))
        .take(count - page.len())
        .collect();
    page.extend(group_routes::shown(app, m, &groups_page, &projection, base).await?);
    Ok(json(StatusCode::OK, &list_response(total, start, page)))
}
