//! Who is calling: the claims of API Gateway's JWT authorizer, or (local mode
//! only) the unverified payload of the bearer token.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use crate::emails;
use crate::error::{Error, Result};
pub use crate::model::Admin;

/// The licence admins' group unless the deployment names another
/// (`ADMIN_GROUP`, the template's `AdminGroupName`).
pub const DEFAULT_ADMIN_GROUP: &str = "license-admin";

/// The admin group's exact name, read once.
pub fn admin_group() -> &'static str {
    static GROUP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    GROUP.get_or_init(|| {
        let named = std::env::var("ADMIN_GROUP").ok().filter(|g| !g.is_empty());
        named.unwrap_or_else(|| DEFAULT_ADMIN_GROUP.into())
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Only the authorizer's verified claims count (every deployment).
    Verified,
    /// `AUTH_MODE=local-unverified`: without an authorizer context, decode the
    /// bearer token without verifying it. Exists only in builds with the
    /// `local` feature (`make dev`, the tests), never in a release for Lambda.
    #[cfg(feature = "local")]
    LocalUnverified,
}

impl AuthMode {
    pub fn from_env() -> Self {
        #[cfg(feature = "local")]
        if std::env::var("AUTH_MODE").as_deref() == Ok("local-unverified") {
            return Self::LocalUnverified;
        }
        Self::Verified
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub sub: Option<String>,
    /// The e-mail claim, only when the identity provider verified it and it
    /// is a valid address: trimmed and ASCII lower-cased, nothing else.
    pub email: Option<String>,
    /// The tenant, only when the claim has the contract's shape (it becomes
    /// a key prefix).
    pub customer_id: Option<String>,
    pub groups: Vec<String>,
}

impl Caller {
    pub fn admin(&self) -> Result<Admin> {
        let customer_id = self.customer_id.clone().ok_or(Error::Forbidden)?;
        if !self.groups.iter().any(|g| g == admin_group()) {
            return Err(Error::Forbidden);
        }
        let name = self
            .email
            .clone()
            .or_else(|| self.sub.as_ref().map(|sub| format!("sub:{sub}")))
            .ok_or(Error::Unauthorized)?;
        Ok(Admin { customer_id, name })
    }

    /// The caller's own verified address (what `GET /me/licenses` matches on).
    pub fn verified_email(&self) -> Result<&str> {
        self.email.as_deref().ok_or(Error::EmailNotVerified)
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
    let caller = match (from_authorizer, mode) {
        (Some(claims), _) => {
            // API Gateway flattens the groups array into "[a b]", where a
            // group named "former license-admin" reads as two: the groups
            // come from the verified token's own JSON payload instead.
            let groups = bearer_payload(req)
                .filter(|payload| same_token(payload, &claims))
                .map(|payload| groups(&payload))
                .unwrap_or_default();
            Caller { groups, ..from_claims(&claims) }
        }
        #[cfg(feature = "local")]
        (None, AuthMode::LocalUnverified) => {
            let payload = bearer_payload(req).ok_or(Error::Unauthorized)?;
            Caller { groups: groups(&payload), ..from_claims(&payload) }
        }
        (None, AuthMode::Verified) => return Err(Error::Unauthorized),
    };
    if caller.sub.is_none() && caller.email.is_none() {
        return Err(Error::Unauthorized);
    }
    Ok(caller)
}

/// The JSON payload of the request's bearer token, read without checking
/// its signature: only for the token API Gateway's authorizer has just
/// verified (see [`same_token`]), or in local mode. `None` unless the
/// request carries exactly one `Authorization` header with one bearer token.
fn bearer_payload(req: &Request) -> Option<serde_json::Map<String, Value>> {
    use base64::Engine;
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
    let mut headers = req.headers().get_all("authorization").iter();
    let header = headers.next()?.to_str().ok()?;
    if headers.next().is_some() {
        return None;
    }
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer "))?.trim();
    if token.contains(' ') || token.split('.').count() != 3 {
        return None;
    }
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

/// Whether `payload` is the token the authorizer verified: its `sub` and
/// `iat` equal the authorizer's claims (which hands every value over as a
/// string).
fn same_token(
    payload: &serde_json::Map<String, Value>,
    claims: &serde_json::Map<String, Value>,
) -> bool {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    ["sub", "iat"].iter().all(|name| {
        let (mine, verified) = (text(payload.get(*name)), text(claims.get(*name)));
        mine.is_some() && mine == verified
    })
}

fn string_claim(claims: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `email_verified` as identity providers send it: a JSON boolean, or the
/// string API Gateway makes of it.
fn verified(claims: &serde_json::Map<String, Value>) -> bool {
    match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

pub fn from_claims(claims: &serde_json::Map<String, Value>) -> Caller {
    let email = string_claim(claims, "email")
        .filter(|_| verified(claims))
        .and_then(|e| emails::normalize_exact(&e));
    Caller {
        sub: string_claim(claims, "sub"),
        email,
        customer_id: claims
            .get("custom:customer_id")
            .and_then(Value::as_str)
            .filter(|id| crate::model::is_customer_id(id))
            .map(str::to_string),
        // Set by [`caller`] from the token itself, never from flattened claims.
        groups: Vec::new(),
    }
}

/// The token's `cognito:groups`: a JSON array of names, each taken exactly
/// as written (no trimming, no splitting). Anything else is no group.
pub fn groups(payload: &serde_json::Map<String, Value>) -> Vec<String> {
    match payload.get("cognito:groups") {
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_count_only_as_a_json_array_of_exact_names() {
        let of = |v: serde_json::Value| groups(json!({"cognito:groups": v}).as_object().unwrap());
        let expected = vec!["license-admin".to_string(), "portal-user".to_string()];
        assert_eq!(of(json!(["license-admin", "portal-user"])), expected);
        assert_eq!(of(json!(["former license-admin"])), ["former license-admin"]);
        // API Gateway's flattened forms are not a token's groups.
        for flattened in ["[license-admin portal-user]", "[x,license-admin]", "license-admin"] {
            assert_eq!(of(json!(flattened)), Vec::<String>::new(), "{flattened}");
        }
        assert_eq!(of(json!(42)), Vec::<String>::new());
    }

    #[test]
    fn admin_needs_group_and_customer() {
        let caller = claims(
            json!({"sub": "u1", "email": " Buyer@Example.com ", "email_verified": true,
                                   "custom:customer_id": "c1", "cognito:groups": ["license-admin"]}),
        );
        assert_eq!(caller.email.as_deref(), Some("buyer@example.com"));
        assert_eq!(
            caller.admin().unwrap(),
            Admin { customer_id: "c1".into(), name: "buyer@example.com".into() }
        );
        let user = claims(
            json!({"sub": "u2", "custom:customer_id": "c1", "cognito:groups": ["portal-user"]}),
        );
        assert!(matches!(user.admin(), Err(Error::Forbidden)));
        let no_tenant = claims(json!({"sub": "u3", "cognito:groups": ["license-admin"]}));
        assert!(matches!(no_tenant.admin(), Err(Error::Forbidden)));
    }

    /// A caller of these claims, its groups read as from its token.
    fn claims(v: serde_json::Value) -> Caller {
        let map = v.as_object().unwrap();
        Caller { groups: groups(map), ..from_claims(map) }
    }

    #[test]
    fn only_a_verified_email_counts_and_it_is_never_folded() {
        let base =
            json!({"sub": "s1", "custom:customer_id": "c1", "cognito:groups": ["license-admin"]});
        let with = |extra: serde_json::Value| {
            let mut v = base.clone();
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            claims(v)
        };
        for verified in [json!(true), json!("true")] {
            let c = with(json!({"email": "Kate@Example.com", "email_verified": verified}));
            assert_eq!(c.email.as_deref(), Some("kate@example.com"));
        }
        for unverified in [json!(false), json!("false"), json!("TRUE"), json!(1), json!(null)] {
            let c = with(json!({"email": "kate@example.com", "email_verified": unverified}));
            assert_eq!(c.email, None, "{unverified}");
            assert_eq!(c.verified_email(), Err(Error::EmailNotVerified));
            // Admin actions still work, recorded under the subject.
            assert_eq!(c.admin().unwrap().name, "sub:s1");
        }
        assert_eq!(with(json!({"email": "kate@example.com"})).email, None);
        // KELVIN SIGN, fullwidth and other look-alikes are not folded into ASCII.
        for lookalike in [
            "\u{212A}ate@example.com",
            "kate@\u{212A}example.com",
            "kate@EXAMPLE.\u{FF43}om",
            "kate@M\u{DC}LLER.de",
            "not-an-address",
        ] {
            let c = with(json!({"email": lookalike, "email_verified": true}));
            assert_eq!(c.email, None, "{lookalike}");
        }
        // A valid IDN domain in its canonical form is kept (as punycode).
        let idn = with(json!({"email": "kate@m\u{fc}ller.de", "email_verified": "true"}));
        assert_eq!(idn.email.as_deref(), Some("kate@xn--mller-kva.de"));
    }

    #[test]
    fn a_customer_claim_must_have_the_contracts_shape() {
        for good in ["cust-1001", "A", "a.b_c-d", &"x".repeat(128)] {
            let c = claims(json!({"sub": "s", "custom:customer_id": good}));
            assert_eq!(c.customer_id.as_deref(), Some(good));
        }
        for bad in [
            "cust#1",
            "c1#IDEMPOTENCY#k",
            "-c",
            ".c",
            "",
            " c1",
            "c1 ",
            "c/1",
            "c\u{e9}",
            &"x".repeat(129),
        ] {
            let c = claims(json!({"sub": "s", "custom:customer_id": bad,
                                  "cognito:groups": ["license-admin"]}));
            assert_eq!(c.customer_id, None, "{bad}");
            assert_eq!(c.admin(), Err(Error::Forbidden), "{bad}");
        }
    }
}
