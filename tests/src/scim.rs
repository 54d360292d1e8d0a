//! Requests to the `scim` function's handler, as an identity provider's
//! SCIM client sends them, and what every SCIM answer must be.

use licensing::App;
use serde_json::{Value, json};

use crate::{Answer, CUSTOMER, Client, bare_request, fresh_app};

/// A request to the `scim` function with `token` as its bearer.
pub async fn scim(app: &App, method: &str, path: &str, token: Option<&str>) -> Answer {
    scim_with(app, method, path, token, None).await
}

/// [`scim`] with a JSON body, sent again after a 429's `Retry-After` (at
/// most ten times), as identity providers do.
pub async fn scim_with(
    app: &App,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    for _ in 0..10 {
        let answer = scim_once_with(app, method, path, token, body.clone()).await;
        if answer.status != 429 {
            return answer;
        }
        let wait = answer.headers.get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
        tokio::time::sleep(std::time::Duration::from_secs(wait.unwrap_or(1))).await;
    }
    panic!("{method} {path}: still rate-limited after ten tries")
}

/// One request to the `scim` function, whatever it answers.
pub async fn scim_once_with(
    app: &App,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let body = body.map(|b| b.to_string());
    let req = bare_request(method, path, token, body.as_deref());
    let response = licensing::api::scim::handle(app, req).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type =
        headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = match response.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer { status, content_type, headers, body }
}

/// A fresh app and a SCIM token of [`CUSTOMER`]'s.
pub async fn with_scim_token() -> (App, String, String) {
    let app = fresh_app().await;
    let created = Client::admin(&app, CUSTOMER)
        .send("POST", "/tokens", Some(json!({"name": "Okta", "scopes": ["scim"]})))
        .await;
    assert_eq!(created.status, 201);
    let (id, token) =
        (created.body["tokenId"].as_str().unwrap(), created.body["token"].as_str().unwrap());
    (app, id.to_string(), token.to_string())
}

/// A SCIM error: the schema, the status as a string, the media type.
pub fn assert_scim_error(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.content_type, "application/scim+json");
    assert_eq!(answer.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(answer.body["status"], status.to_string());
    assert!(answer.body["detail"].is_string());
}

/// A filter as a query string value (percent-encoding all but `@.-_` and
/// letters and digits).
pub fn encoded(filter: &str) -> String {
    filter
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_".contains(c) {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32)
            }
        })
        .collect()
}
