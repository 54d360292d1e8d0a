//! What a SCIM list asks for, for Users and Groups alike: `GET`'s query or
//! a search's body (`filter`, `startIndex`, `count`, `attributes`,
//! `excludedAttributes`), and the ListResponse that answers it.

use lambda_http::Request;
use serde_json::{Value, json};

use super::attributes::Projection;
use crate::error::{Error, Result};
use crate::http::decode::{body_bytes_up_to, param};

/// At most this many resources on a page (`count` above it is served as it).
pub const MAX_COUNT: usize = 100;

/// The largest SCIM request body (API.md v3): a group of 10,000 members
/// fits in it.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The request's JSON body (`application/scim+json` or `application/json`),
/// at most [`MAX_BODY_BYTES`].
pub fn body(req: &Request) -> Result<Value> {
    let bytes = body_bytes_up_to(req, MAX_BODY_BYTES)?;
    serde_json::from_slice(bytes).map_err(|_| Error::field("body", "must be JSON"))
}

/// What a list asks for: `GET /Users`'s query, or a search's body (`POST
/// /Users/.search`, RFC 7644 §3.4.3).
pub struct Listing {
    /// The `filter`, as sent.
    pub filter: Option<String>,
    /// 1-based.
    pub start: usize,
    /// At most [`MAX_COUNT`].
    pub count: usize,
    pub projection: Projection,
}

impl Listing {
    fn new(
        filter: Option<&str>,
        start: Option<usize>,
        count: Option<usize>,
        projection: Projection,
    ) -> Result<Self> {
        Ok(Self {
            filter: filter.map(str::to_string),
            start: start.unwrap_or(1).max(1),
            count: count.unwrap_or(MAX_COUNT).min(MAX_COUNT),
            projection,
        })
    }

    pub fn of_query(params: &[(String, String)]) -> Result<Self> {
        let number = |name: &str| -> Result<Option<usize>> {
            param(params, name)
                .map(|v| v.parse().map_err(|_| Error::field(name, "must be a number")))
                .transpose()
        };
        let projection =
            Projection::new(param(params, "attributes"), param(params, "excludedAttributes"));
        Self::new(param(params, "filter"), number("startIndex")?, number("count")?, projection)
    }

    pub fn of_search(body: &Value) -> Result<Self> {
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

/// A page of a list: `totalResults` exact, `startIndex` 1-based.
pub fn list_response(total: usize, start: usize, page: Vec<Value>) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
        "Resources": page,
    })
}
