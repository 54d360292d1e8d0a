//! SCIM 2.0 under `/scim/v2` (v3), through the `scim` function's handler:
//! authenticated by a provisioning token with scope `scim` (no JWT), SCIM's
//! media type and error schema for every answer, discovery.

use licensing::App;
use licensing_tests::*;
use serde_json::{Value, json};

/// A request to the `scim` function with `token` as its bearer.
async fn scim(app: &App, method: &str, path: &str, token: Option<&str>) -> Answer {
    scim_with(app, method, path, token, None).await
}

/// [`scim`] with a JSON body.
async fn scim_with(
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

/// An Okta-style user, as Okta creates it.
fn okta_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Anna", "familyName": "Schmidt"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Anna Schmidt",
        "locale": "en-US",
        "externalId": "00u1abcd",
        "groups": [],
        "password": "never-kept",
        "active": true
    })
}

#[tokio::test]
async fn users_are_created_found_by_filter_and_unique() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let created =
        scim_with(&app, "POST", "/scim/v2/Users", t, Some(okta_user("Anna@Example.com"))).await;
    assert_eq!(
        (created.status, created.content_type.as_str()),
        (201, "application/scim+json"),
        "{:?}",
        created.body
    );
    let id = created.body["id"].as_str().unwrap();
    assert!(id.starts_with("usr_"));
    assert_eq!(created.body["userName"], "anna@example.com", "an address is kept normalised");
    assert!(created.body.get("password").is_none());
    assert_eq!(created.headers["location"], created.body["meta"]["location"].as_str().unwrap());
    let got = scim(&app, "GET", &format!("/scim/v2/Users/{id}"), t).await;
    assert_eq!(got.body, created.body);
    let encoded = |f: &str| {
        f.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "@.-_".contains(c) {
                    c.to_string()
                } else {
                    format!("%{:02X}", c as u32)
                }
            })
            .collect::<String>()
    };
    let filter = |f: &str| format!("/scim/v2/Users?filter={}", encoded(f));
    let found = scim(&app, "GET", &filter(r#"userName eq "ANNA@example.com""#), t).await.body;
    assert_eq!(
        (found["totalResults"].as_u64(), &found["Resources"][0]["id"]),
        (Some(1), &json!(id))
    );
    // Entra's probe: a random userName finds nobody.
    let probe =
        scim(&app, "GET", &filter(r#"userName eq "0c4e5c2f-6b52-4c9a-8c1c-probe""#), t).await.body;
    assert_eq!(probe["totalResults"], 0);
    let work =
        scim(&app, "GET", &filter(r#"emails[type eq "work"].value eq "anna@example.com""#), t)
            .await
            .body;
    assert_eq!(work["totalResults"], 1);
    assert_scim_error(&scim(&app, "GET", &filter(r#"title eq "x""#), t).await, 400);
    let again =
        scim_with(&app, "POST", "/scim/v2/Users", t, Some(okta_user("anna@EXAMPLE.com"))).await;
    assert_scim_error(&again, 409);
    assert_eq!(again.body["scimType"], "uniqueness");
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Users/usr_nope", t).await, 404);
}

/// Anna holds a seat on two of [`CUSTOMER`]'s licences and on one of
/// [`OTHER_CUSTOMER`]'s; the ids of the three licences.
async fn anna_with_seats(app: &App) -> [String; 3] {
    let ours = [licence(app, CUSTOMER, 3).await, licence(app, CUSTOMER, 3).await];
    let theirs = licence(app, OTHER_CUSTOMER, 3).await;
    for (customer, id) in [(CUSTOMER, &ours[0]), (CUSTOMER, &ours[1]), (OTHER_CUSTOMER, &theirs)] {
        assert_eq!(Client::admin(app, customer).assign(id, "anna@example.com").await.status, 201);
    }
    [ours[0].clone(), ours[1].clone(), theirs]
}

/// Anna's assignment on licence `id` of `customer`.
async fn annas_seat(app: &App, customer: &str, id: &str) -> Value {
    Client::admin(app, customer).assignment(id, "anna@example.com").await.expect("assigned")
}

/// Anna's seats at [`CUSTOMER`] are revoked by the token, for
/// `deprovisioned`; the other customer's seat is untouched.
async fn deprovisioned(app: &App, [a, b, theirs]: &[String; 3], token_id: &str) {
    for id in [a, b] {
        let seat = annas_seat(app, CUSTOMER, id).await;
        assert_eq!(
            (seat["status"].as_str(), seat["revokedBy"].as_str()),
            (Some("revoked"), Some(format!("scim:{token_id}").as_str()))
        );
        let history = Client::admin(app, CUSTOMER)
            .send("GET", &format!("/licenses/{id}/history?limit=1"), None)
            .await;
        let entry = &history.body["entries"][0];
        assert_eq!(
            (entry["action"].as_str(), entry["reason"].as_str()),
            (Some("assignment.revoked"), Some("deprovisioned"))
        );
        assert_eq!(entry["actor"], format!("scim:{token_id}"));
    }
    assert_eq!(
        annas_seat(app, OTHER_CUSTOMER, theirs).await["status"],
        "active",
        "another customer's seat"
    );
}

/// Anna with her seats ([`anna_with_seats`]) and in the directory: the app,
/// the token's id and secret, her licences and her SCIM path.
struct Anna {
    app: App,
    token_id: String,
    token: String,
    licences: [String; 3],
    path: String,
}

async fn anna_in_directory() -> Anna {
    let (app, token_id, token) = with_scim_token().await;
    let licences = anna_with_seats(&app).await;
    let user = Some(okta_user("anna@example.com"));
    let created = scim_with(&app, "POST", "/scim/v2/Users", Some(&token), user).await;
    let path = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());
    Anna { app, token_id, token, licences, path }
}

#[tokio::test]
async fn oktas_deactivation_frees_every_seat_of_the_person_here_and_a_retry_changes_nothing() {
    let Anna { app, token_id, token, licences, path } = anna_in_directory().await;
    let t = Some(token.as_str());
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "value": {"active": false}}]});
    let answer = scim_with(&app, "PATCH", &path, t, Some(body.clone())).await;
    assert_eq!((answer.status, &answer.body["active"]), (200, &json!(false)), "{:?}", answer.body);
    deprovisioned(&app, &licences, &token_id).await;
    let before = Client::admin(&app, CUSTOMER)
        .send("GET", &format!("/licenses/{}/history", licences[0]), None)
        .await
        .body;
    let retried = scim_with(&app, "PATCH", &path, t, Some(body)).await;
    assert_eq!(retried.status, 200);
    let after = Client::admin(&app, CUSTOMER)
        .send("GET", &format!("/licenses/{}/history", licences[0]), None)
        .await
        .body;
    assert_eq!(after["entries"], before["entries"], "a retried request changes nothing more");
    let free = Client::admin(&app, CUSTOMER).license(&licences[0]).await.body;
    assert_eq!(free["assignedUsers"], 1, "only the buyer is left: the seat is free");
}

#[tokio::test]
async fn entras_string_false_and_a_full_put_deactivate_too() {
    let Anna { app, token_id, token, licences, path } = anna_in_directory().await;
    let t = Some(token.as_str());
    let entra = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(scim_with(&app, "PATCH", &path, t, Some(entra)).await.body["active"], false);
    deprovisioned(&app, &licences, &token_id).await;
    // Okta's full PUT with active false, for another person.
    let bob = anna_with_seats_of(&app, "bob@example.com").await;
    let mut user = okta_user("bob@example.com");
    let put_path = format!(
        "/scim/v2/Users/{}",
        scim_with(&app, "POST", "/scim/v2/Users", t, Some(user.clone())).await.body["id"]
            .as_str()
            .unwrap()
    );
    user["active"] = json!(false);
    assert_eq!(scim_with(&app, "PUT", &put_path, t, Some(user)).await.body["active"], false);
    let seat = Client::admin(&app, CUSTOMER).assignment(&bob, "bob@example.com").await.unwrap();
    assert_eq!(seat["status"], "revoked");
}

/// A licence of [`CUSTOMER`] on which `email` holds a seat.
async fn anna_with_seats_of(app: &App, email: &str) -> String {
    let id = licence(app, CUSTOMER, 3).await;
    assert_eq!(Client::admin(app, CUSTOMER).assign(&id, email).await.status, 201);
    id
}

#[tokio::test]
async fn a_deleted_person_loses_their_seats_and_is_gone() {
    let Anna { app, token_id, token, licences, path } = anna_in_directory().await;
    let t = Some(token.as_str());
    let deleted = scim(&app, "DELETE", &path, t).await;
    assert_eq!(deleted.status, 204);
    deprovisioned(&app, &licences, &token_id).await;
    assert_scim_error(&scim(&app, "GET", &path, t).await, 404);
    assert_scim_error(&scim(&app, "DELETE", &path, t).await, 404);
    // Another customer's token does not see this directory.
    let other = Client::admin(&app, OTHER_CUSTOMER)
        .send("POST", "/tokens", Some(json!({"name": "theirs", "scopes": ["scim"]})))
        .await;
    let theirs = other.body["token"].as_str().unwrap();
    let users = scim(&app, "GET", "/scim/v2/Users", Some(theirs)).await.body;
    assert_eq!(users["totalResults"], 0);
}

#[tokio::test]
async fn a_token_gets_twenty_requests_a_second() {
    let (app, id, token) = with_scim_token().await;
    let (_, theirs) = {
        let other = Client::admin(&app, CUSTOMER)
            .send("POST", "/tokens", Some(json!({"name": "Entra", "scopes": ["scim"]})))
            .await;
        (other.body["tokenId"].clone(), other.body["token"].as_str().unwrap().to_string())
    };
    // This second's and the next second's twenty, spent: the request lands in one of them.
    let kind = licensing::store::keys::scim_budget(&id);
    let now = app.now().timestamp();
    for window in [now, now + 1] {
        assert!(app.store.charge_budget(CUSTOMER, &kind, window, 20, 20).await.unwrap());
        assert!(
            !app.store.charge_budget(CUSTOMER, &kind, window, 1, 20).await.unwrap(),
            "the 21st"
        );
    }
    let limited = scim(&app, "GET", "/scim/v2/ServiceProviderConfig", Some(&token)).await;
    assert_scim_error(&limited, 429);
    assert_eq!(limited.headers["retry-after"], "1");
    // Counted per token: the customer's other token is not held back.
    let other = scim(&app, "GET", "/scim/v2/ServiceProviderConfig", Some(&theirs)).await;
    assert_eq!(other.status, 200);
}
