//! SCIM 2.0 under `/scim/v2` (v3), through the `scim` function's handler:
//! authenticated by a provisioning token with scope `scim` (no JWT), SCIM's
//! media type and error schema for every answer, discovery.

use licensing::App;
use licensing_tests::*;
use serde_json::{Value, json};

/// A request to the `scim` function with `token` as its bearer.
async fn scim(app: &App, method: &str, path: &str, token: Option<&str>) -> Answer {
    let req = bare_request(method, path, token, None);
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
async fn with_scim_token() -> (App, String, String) {
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
fn assert_scim_error(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.content_type, "application/scim+json");
    assert_eq!(answer.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(answer.body["status"], status.to_string());
    assert!(answer.body["detail"].is_string());
}

#[tokio::test]
async fn discovery_says_what_is_supported() {
    let (app, _, token) = with_scim_token().await;
    let config = scim(&app, "GET", "/scim/v2/ServiceProviderConfig", Some(&token)).await;
    assert_eq!((config.status, config.content_type.as_str()), (200, "application/scim+json"));
    let c = &config.body;
    assert_eq!((&c["patch"]["supported"], &c["bulk"]["supported"]), (&json!(true), &json!(false)));
    assert_eq!(
        (&c["filter"]["supported"], &c["filter"]["maxResults"]),
        (&json!(true), &json!(100))
    );
    for unsupported in ["sort", "etag", "changePassword"] {
        assert_eq!(c[unsupported]["supported"], json!(false), "{unsupported}");
    }
    assert_eq!(c["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let location = c["meta"]["location"].as_str().unwrap();
    assert!(location.ends_with("/scim/v2/ServiceProviderConfig"), "{location}");
    assert!(
        !location.contains("api.example.com"),
        "built from the configured base URL, never the Host: {location}"
    );

    let types = scim(&app, "GET", "/scim/v2/ResourceTypes", Some(&token)).await.body;
    assert_eq!(types["totalResults"], 1);
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    let user = scim(&app, "GET", "/scim/v2/ResourceTypes/User", Some(&token)).await;
    assert_eq!(user.body["schema"], "urn:ietf:params:scim:schemas:core:2.0:User");
    let schemas = scim(&app, "GET", "/scim/v2/Schemas", Some(&token)).await.body;
    let names = strings_of(&schemas["Resources"][0]["attributes"], "name");
    assert_eq!(names, ["userName", "name", "displayName", "emails", "active", "groups"]);
    let path = "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User";
    assert_eq!(scim(&app, "GET", path, Some(&token)).await.body["name"], "User");
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Schemas/urn:nope", Some(&token)).await, 404);
}

#[tokio::test]
async fn only_a_usable_scim_token_gets_in() {
    let (app, id, token) = with_scim_token().await;
    let path = "/scim/v2/ServiceProviderConfig";
    for bad in [None, Some("lmt_nope"), Some(admin(CUSTOMER).as_str())] {
        let answer = scim(&app, "GET", path, bad).await;
        assert_scim_error(&answer, 401);
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
    }
    let revoked =
        Client::admin(&app, CUSTOMER).send("DELETE", &format!("/tokens/{id}"), None).await;
    assert_eq!(revoked.status, 200);
    assert_scim_error(&scim(&app, "GET", path, Some(&token)).await, 401);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_scim_errors() {
    let (app, _, token) = with_scim_token().await;
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Nope", Some(&token)).await, 404);
    let post = scim(&app, "POST", "/scim/v2/ServiceProviderConfig", Some(&token)).await;
    assert_scim_error(&post, 405);
    assert_eq!(post.headers["allow"], "GET");
    assert_eq!(post.headers["cache-control"], "no-store");
}
