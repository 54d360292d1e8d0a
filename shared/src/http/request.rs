//! Routing and request decoding: paths, query strings and JSON bodies, each
//! turned into typed values or a `validation-error` naming the field.

use chrono::NaiveDate;
use lambda_http::{http::Method, Body, Request, RequestExt};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::error::{Error, FieldError, Result};

pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    ListLicenses,
    GetLicense(String),
    ListAssignments(String),
    MyLicenses,
    Assign(String),
    Change(String, String),
    Revoke(String, String),
    ResendInvitation(String, String),
    /// `OPTIONS` on a known path: 204 with `Allow`, no identity needed.
    Preflight(&'static [&'static str]),
}

impl Route {
    /// The operation's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Route::ListLicenses => "list-licenses",
            Route::GetLicense(_) => "get-license",
            Route::ListAssignments(_) => "list-assignments",
            Route::MyLicenses => "my-licenses",
            Route::Assign(_) => "assign",
            Route::Change(..) => "change",
            Route::Revoke(..) => "revoke",
            Route::ResendInvitation(..) => "resend-invitation",
            Route::Preflight(_) => "preflight",
        }
    }

    pub fn license_id(&self) -> Option<&str> {
        match self {
            Route::ListLicenses | Route::MyLicenses | Route::Preflight(_) => None,
            Route::GetLicense(id)
            | Route::ListAssignments(id)
            | Route::Assign(id)
            | Route::Change(id, _)
            | Route::Revoke(id, _)
            | Route::ResendInvitation(id, _) => Some(id),
        }
    }
}

/// The request path as the client sent it (without an API Gateway stage).
fn path(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        req.uri().path().to_string()
    } else {
        raw.to_string()
    }
}

fn decode_segment(segment: &str) -> Result<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::RouteNotFound)
}

pub fn route(req: &Request) -> Result<Route> {
    route_of(req.method(), &path(req))
}

pub fn route_of(method: &Method, path: &str) -> Result<Route> {
    let trimmed = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let m = method.clone();
    // Each path: the methods it has, and the route for this request's method.
    let (allowed, route): (&'static [&'static str], Option<Route>) = match segments.as_slice() {
        ["licenses"] => (
            &["GET", "OPTIONS"],
            (m == Method::GET).then_some(Route::ListLicenses),
        ),
        ["me", "licenses"] => (
            &["GET", "OPTIONS"],
            (m == Method::GET).then_some(Route::MyLicenses),
        ),
        ["licenses", id] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (
                &["GET", "OPTIONS"],
                (m == Method::GET).then_some(Route::GetLicense(id)),
            )
        }
        ["licenses", id, "assignments"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            let route = match m {
                Method::GET => Some(Route::ListAssignments(id)),
                Method::POST => Some(Route::Assign(id)),
                _ => None,
            };
            (&["GET", "POST", "OPTIONS"], route)
        }
        ["licenses", id, "assignments", email] if !id.is_empty() && !email.is_empty() => {
            let (id, email) = (decode_segment(id)?, decode_segment(email)?);
            let route = match m {
                Method::PATCH => Some(Route::Change(id, email)),
                Method::DELETE => Some(Route::Revoke(id, email)),
                _ => None,
            };
            (&["PATCH", "DELETE", "OPTIONS"], route)
        }
        ["licenses", id, "assignments", email, "invitation"]
            if !id.is_empty() && !email.is_empty() =>
        {
            let (id, email) = (decode_segment(id)?, decode_segment(email)?);
            let route = (m == Method::POST).then_some(Route::ResendInvitation(id, email));
            (&["POST", "OPTIONS"], route)
        }
        _ => return Err(Error::RouteNotFound),
    };
    match route {
        Some(route) => Ok(route),
        // A browser's CORS preflight (or any OPTIONS): answered without a
        // token; API Gateway adds the CORS headers for the portal's origins.
        None if m == Method::OPTIONS => Ok(Route::Preflight(allowed)),
        None => Err(Error::MethodNotAllowed(allowed)),
    }
}

/// Decoded query parameters, in order (`+` is a space, as in forms).
pub fn query(req: &Request) -> Vec<(String, String)> {
    let Some(q) = req.uri().query() else {
        return Vec::new();
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// The request body as a JSON object (an empty body is an empty object only
/// where `allow_empty`).
pub fn json_object(req: &Request, allow_empty: bool) -> Result<Map<String, Value>> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::field(
            "body",
            format!("must be at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if allow_empty {
            Ok(Map::new())
        } else {
            Err(Error::field("body", "a JSON object is required"))
        };
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::field("body", "must be UTF-8"))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::field("body", "must be a JSON object")),
        Err(e) => Err(Error::field(
            "body",
            format!("malformed JSON at line {} column {}", e.line(), e.column()),
        )),
    }
}

/// Collects field errors while reading a JSON object, so that one answer
/// names every problem of a request.
pub struct Fields {
    map: Map<String, Value>,
    pub errors: Vec<FieldError>,
}

impl Fields {
    /// Rejects every field not in `allowed` (unknown fields, and fields a
    /// client may not set such as `quantity` or `status`).
    pub fn new(map: Map<String, Value>, allowed: &[&str]) -> Self {
        let errors = map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| FieldError::new(k.clone(), "unknown field or not settable by clients"))
            .collect();
        Self { map, errors }
    }

    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    pub fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(name, message));
    }

    pub fn date(&mut self, name: &str) -> Option<NaiveDate> {
        let value = self.take(name)?;
        match value.as_str().and_then(parse_date) {
            Some(d) => Some(d),
            None => {
                self.fail(name, "must be a calendar date YYYY-MM-DD");
                None
            }
        }
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        match self.take(name)? {
            Value::Bool(b) => Some(b),
            _ => {
                self.fail(name, "must be true or false");
                None
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}

/// Strict `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_methods() {
        assert_eq!(route_of(&Method::GET, "/licenses"), Ok(Route::ListLicenses));
        assert_eq!(
            route_of(&Method::GET, "/licenses/"),
            Ok(Route::ListLicenses)
        );
        assert_eq!(
            route_of(
                &Method::PATCH,
                "/licenses/lic_1/assignments/anna%40example.com"
            ),
            Ok(Route::Change("lic_1".into(), "anna@example.com".into()))
        );
        assert!(matches!(
            route_of(&Method::PUT, "/licenses"),
            Err(Error::MethodNotAllowed(_))
        ));
        assert!(matches!(
            route_of(&Method::GET, "/nope"),
            Err(Error::RouteNotFound)
        ));
        assert_eq!(
            route_of(&Method::OPTIONS, "/licenses/lic_1/assignments"),
            Ok(Route::Preflight(&["GET", "POST", "OPTIONS"]))
        );
        assert!(matches!(
            route_of(&Method::OPTIONS, "/nope"),
            Err(Error::RouteNotFound)
        ));
        assert!(matches!(
            route_of(&Method::GET, "/licenses//assignments"),
            Err(Error::RouteNotFound)
        ));
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-02-28").is_some());
        for bad in [
            "2026-2-28",
            "2026-02-30",
            "26-02-28",
            "2026-02-28T00:00:00Z",
            "",
            "２０２６-02-28",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}
