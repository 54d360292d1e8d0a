//! Decoding what a request carries besides its route: query parameters and
//! JSON bodies, each turned into typed values or a `validation-error` naming
//! the field.

use chrono::NaiveDate;
use lambda_http::{Body, Request};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::error::{Error, FieldError, Result};

pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Decoded query parameters, sorted by name (`+` is a space, as in forms).
/// A parameter given twice has no one meaning: `validation-error` (API
/// Gateway would join the values with a comma in `queryStringParameters`;
/// the raw query string, which the request's URI carries, keeps them apart).
pub fn query(req: &Request) -> Result<Vec<(String, String)>> {
    let Some(q) = req.uri().query() else {
        return Ok(Vec::new());
    };
    let mut params: Vec<(String, String)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec =
                |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (dec(k), dec(v))
        })
        .collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = params.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::field(&pair[0].0, "must be given at most once"));
    }
    Ok(params)
}

/// The request body's bytes, at most [`MAX_BODY_BYTES`] of them.
pub fn body_bytes(req: &Request) -> Result<&[u8]> {
    body_bytes_up_to(req, MAX_BODY_BYTES)
}

/// The request body's bytes, at most `limit` of them.
pub fn body_bytes_up_to(req: &Request, limit: usize) -> Result<&[u8]> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > limit {
        return Err(Error::field("body", format!("must be at most {limit} bytes")));
    }
    Ok(bytes)
}

/// Whether a header (`Content-Type`, `Accept`) names `media_type`, whatever
/// its parameters and case.
pub fn names_media_type(req: &Request, header: &str, media_type: &str) -> bool {
    req.headers().get_all(header).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|item| {
            let essence = item.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case(media_type)
        })
    })
}

/// Whether `Accept-Encoding` lets the answer be gzip-compressed (`gzip` or
/// `*`, without `q=0`).
pub fn accepts_gzip(req: &Request) -> bool {
    let values = req.headers().get_all("accept-encoding");
    values.iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// The request body as a JSON object (an empty body is an empty object only
/// where `allow_empty`).
pub fn json_object(req: &Request, allow_empty: bool) -> Result<Map<String, Value>> {
    let bytes = body_bytes(req)?;
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
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Validation(self.errors)) }
    }
}

/// Strict `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The value of query parameter `name`, if given.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-02-28").is_some());
        for bad in
            ["2026-2-28", "2026-02-30", "26-02-28", "2026-02-28T00:00:00Z", "", "２０２６-02-28"]
        {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}
