//! Who is calling: the claims of API Gateway's JWT authorizer, or (local mode
//! only) the unverified payload of the bearer token.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use crate::emails;
use crate::error::{Error, Result};

pub const ADMIN_GROUP: &str = "license-admin";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Only the authorizer's verified claims count (every deployment).
    Verified,
    /// `AUTH_MODE=local-unverified`: without an authorizer context, decode the
    /// bearer token without verifying it. For `cargo lambda watch` only.
    LocalUnverified,
}

impl AuthMode {
    pub fn from_env() -> Self {
        match std::env::var("AUTH_MODE").as_deref() {
            Ok("local-unverified") => Self::LocalUnverified,
            _ => Self::Verified,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub sub: Option<String>,
    /// Normalised (trimmed, lower-cased) e-mail claim.
    pub email: Option<String>,
    pub customer_id: Option<String>,
    pub groups: Vec<String>,
}

/// A licence admin, scoped to their own customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub customer_id: String,
    /// What `assignedBy` / `revokedBy` record: the e-mail, else the subject.
    pub name: String,
}

impl Caller {
    pub fn admin(&self) -> Result<Admin> {
        let customer_id = self.customer_id.clone().ok_or(Error::Forbidden)?;
        if !self.groups.iter().any(|g| g == ADMIN_GROUP) {
            return Err(Error::Forbidden);
        }
        let name = self
            .email
            .clone()
            .or_else(|| self.sub.clone())
            .ok_or(Error::Unauthorized)?;
        Ok(Admin { customer_id, name })
    }
}

pub fn caller(req: &Request, mode: AuthMode) -> Result<Caller> {
    let from_authorizer = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .filter(|jwt| !jwt.claims.is_empty())
            .map(|jwt| {
                jwt.claims
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect::<serde_json::Map<_, _>>()
            }),
        _ => None,
    };
    let claims = match (from_authorizer, mode) {
        (Some(claims), _) => claims,
        (None, AuthMode::LocalUnverified) => unverified_claims(req).ok_or(Error::Unauthorized)?,
        (None, AuthMode::Verified) => return Err(Error::Unauthorized),
    };
    let caller = from_claims(&claims);
    if caller.sub.is_none() && caller.email.is_none() {
        return Err(Error::Unauthorized);
    }
    Ok(caller)
}

fn unverified_claims(req: &Request) -> Option<serde_json::Map<String, Value>> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))?
        .trim();
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(payload))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn string_claim(claims: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn from_claims(claims: &serde_json::Map<String, Value>) -> Caller {
    let email = string_claim(claims, "email")
        .map(|e| emails::normalize(&e).unwrap_or_else(|| e.to_lowercase()));
    Caller {
        sub: string_claim(claims, "sub"),
        email,
        customer_id: string_claim(claims, "custom:customer_id"),
        groups: claims.get("cognito:groups").map(groups).unwrap_or_default(),
    }
}

/// `cognito:groups` as a JSON array, API Gateway's `[a b]` rendering, a JSON
/// array inside a string, or a comma/space separated string.
pub fn groups(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        Value::String(s) => {
            if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(s) {
                return groups(&Value::Array(items));
            }
            s.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(|c: char| c == ',' || c.is_whitespace())
                .map(|g| g.trim_matches('"'))
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_group_renderings_are_understood() {
        let expected = vec!["license-admin".to_string(), "portal-user".to_string()];
        assert_eq!(groups(&json!("[license-admin portal-user]")), expected);
        assert_eq!(groups(&json!(["license-admin", "portal-user"])), expected);
        assert_eq!(
            groups(&json!("[\"license-admin\",\"portal-user\"]")),
            expected
        );
        assert_eq!(groups(&json!("license-admin, portal-user")), expected);
        assert_eq!(groups(&json!("license-admin portal-user")), expected);
        assert_eq!(groups(&json!(42)), Vec::<String>::new());
    }

    #[test]
    fn admin_needs_group_and_customer() {
        let claims = json!({"sub": "u1", "email": " Buyer@Example.com ", "custom:customer_id": "c1",
                            "cognito:groups": "[license-admin]"});
        let caller = from_claims(claims.as_object().unwrap());
        assert_eq!(caller.email.as_deref(), Some("buyer@example.com"));
        assert_eq!(
            caller.admin().unwrap(),
            Admin {
                customer_id: "c1".into(),
                name: "buyer@example.com".into()
            }
        );
        let user = from_claims(
            json!({"sub": "u2", "custom:customer_id": "c1", "cognito:groups": "portal-user"})
                .as_object()
                .unwrap(),
        );
        assert!(matches!(user.admin(), Err(Error::Forbidden)));
        let no_tenant = from_claims(
            json!({"sub": "u3", "cognito:groups": ["license-admin"]})
                .as_object()
                .unwrap(),
        );
        assert!(matches!(no_tenant.admin(), Err(Error::Forbidden)));
    }
}
