//! SCIM 2.0 under `/scim/v2` (v3), through the `scim` function's handler:
//! authenticated by a provisioning token with scope `scim` (no JWT), SCIM's
//! media type and error schema for every answer, discovery.

use licensing::App;
use licensing_tests::scim::*;
use licensing_tests::*;
use serde_json::{Value, json};

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
    assert_eq!(types["totalResults"], 2);
    assert_eq!(strings_of(&types["Resources"], "endpoint"), ["/Users", "/Groups"]);
    let group = scim(&app, "GET", "/scim/v2/ResourceTypes/Group", Some(&token)).await;
    assert_eq!(group.body["schema"], "urn:ietf:params:scim:schemas:core:2.0:Group");
    let user = scim(&app, "GET", "/scim/v2/ResourceTypes/User", Some(&token)).await;
    assert_eq!(user.body["schema"], "urn:ietf:params:scim:schemas:core:2.0:User");
    let schemas = scim(&app, "GET", "/scim/v2/Schemas", Some(&token)).await.body;
    let names = strings_of(&schemas["Resources"][0]["attributes"], "name");
    assert_eq!(names, ["userName", "name", "displayName", "emails", "active", "groups"]);
    let names = strings_of(&schemas["Resources"][1]["attributes"], "name");
    assert_eq!(names, ["displayName", "externalId", "members"]);
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
    let long = format!("/scim/v2/Users/{}", "u".repeat(2_000));
    assert_scim_error(&scim(&app, "GET", &long, t).await, 404);
    assert_scim_error(&scim(&app, "DELETE", &long, t).await, 404);
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
    let limited =
        scim_once_with(&app, "GET", "/scim/v2/ServiceProviderConfig", Some(&token), None).await;
    assert_scim_error(&limited, 429);
    assert_eq!(limited.headers["retry-after"], "1");
    // Counted per token: the customer's other token is not held back.
    let other = scim(&app, "GET", "/scim/v2/ServiceProviderConfig", Some(&theirs)).await;
    assert_eq!(other.status, 200);
}

/// The history entries of licence `id` of [`CUSTOMER`], newest first.
async fn entries(app: &App, id: &str) -> Value {
    let path = format!("/licenses/{id}/history");
    Client::admin(app, CUSTOMER).send("GET", &path, None).await.body["entries"].clone()
}

#[tokio::test]
async fn a_rename_moves_each_seat_to_the_new_address_for_the_rest_of_its_period() {
    let Anna { app, token_id, token, licences, path } = anna_in_directory().await;
    // Nina holds a seat on a third licence where Anna holds one too.
    let both = anna_with_seats_of(&app, "anna@example.com").await;
    assert_eq!(Client::admin(&app, CUSTOMER).assign(&both, "nina@example.com").await.status, 201);
    // Ten days later, Entra changes Anna's work address.
    let later = app.later(10 * 86_400);
    let t = Some(token.as_str());
    let free = |id: String| {
        let app = later.clone();
        async move { Client::admin(&app, CUSTOMER).license(&id).await.body["availableSeats"].clone() }
    };
    let before = [free(licences[0].clone()).await, free(both.clone()).await];
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "emails[type eq \"work\"].value",
                        "value": "Nina@Example.com"}]});
    // Nina is no one's seat address in the directory: the rename is allowed.
    let answer = scim_with(&later, "PATCH", &path, t, Some(rename.clone())).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let actor = format!("scim:{token_id}");
    for id in &licences[..2] {
        let old = annas_seat(&later, CUSTOMER, id).await;
        assert_eq!(
            (old["status"].as_str(), old["revokedBy"].as_str()),
            (Some("revoked"), Some(actor.as_str()))
        );
        assert_eq!(old["validFrom"], today().to_string(), "the old seat keeps its used days");
        let new = Client::admin(&later, CUSTOMER).assignment(id, "nina@example.com").await.unwrap();
        assert_eq!(new["status"], "active");
        assert_eq!(new["validFrom"], days_from_today(10).to_string(), "from the day of the rename");
        assert_eq!(new["validUntil"], old["validUntil"], "to the end of the old period");
        assert_eq!(new["invitation"]["status"], "pending", "the new address is invited");
        let history = entries(&later, id).await;
        let newest: Vec<(&str, &str, &str)> = history.as_array().unwrap()[..2]
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap(),
                    e["email"].as_str().unwrap(),
                    e["reason"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            newest,
            [
                ("assignment.created", "nina@example.com", "renamed"),
                ("assignment.revoked", "anna@example.com", "renamed")
            ]
        );
    }
    assert_eq!(free(licences[0].clone()).await, before[0], "no day's seat count changes");
    // Where Nina held a seat already, Anna's is only revoked: one more free.
    assert_eq!(annas_seat(&later, CUSTOMER, &both).await["status"], "revoked");
    assert_eq!(free(both.clone()).await, json!(before[1].as_u64().unwrap() + 1));
    assert_eq!(annas_seat(&later, OTHER_CUSTOMER, &licences[2]).await["status"], "active");
    // The retry changes nothing more.
    let history = entries(&later, &licences[0]).await;
    assert_eq!(scim_with(&later, "PATCH", &path, t, Some(rename)).await.status, 200);
    assert_eq!(entries(&later, &licences[0]).await, history);
    // The old address is free for someone else now.
    let mut someone = okta_user("anna@example.com");
    someone["userName"] = json!("someone-else");
    let taken = scim_with(&later, "POST", "/scim/v2/Users", t, Some(someone)).await;
    assert_eq!(taken.status, 201, "{:?}", taken.body);
}

#[tokio::test]
async fn a_rename_cut_short_is_completed_by_the_retry_and_holds_both_addresses_until_then() {
    let Anna { app, token, licences, path, .. } = anna_in_directory().await;
    let t = Some(token.as_str());
    let id = path.rsplit('/').next().unwrap().to_string();
    // The first step of a rename, as a request cut after it leaves it.
    let anna = app.store.directory_user(CUSTOMER, &id).await.unwrap().unwrap();
    let mut renamed = anna.clone();
    renamed.user_name = "anna.b@example.com".into();
    renamed.emails[0].value = "anna.b@example.com".into();
    renamed.moving_from = Some("anna@example.com".into());
    renamed.version += 1;
    app.store.save_directory_user(Some(&anna), &renamed).await.unwrap();
    assert_eq!(annas_seat(&app, CUSTOMER, &licences[0]).await["status"], "active");
    // Nobody else may take either address meanwhile.
    for address in ["anna@example.com", "anna.b@example.com"] {
        let mut other = okta_user(address);
        other["userName"] = json!(format!("other-{address}"));
        let taken = scim_with(&app, "POST", "/scim/v2/Users", t, Some(other)).await;
        assert_scim_error(&taken, 409);
    }
    // The identity provider's retry completes it.
    let retry = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"userName": "anna.b@example.com"}}]});
    let answer = scim_with(&app, "PATCH", &path, t, Some(retry)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    for id in &licences[..2] {
        assert_eq!(annas_seat(&app, CUSTOMER, id).await["status"], "revoked");
        let moved = Client::admin(&app, CUSTOMER).assignment(id, "anna.b@example.com").await;
        assert_eq!(moved.unwrap()["status"], "active");
    }
    let record = app.store.directory_user(CUSTOMER, &id).await.unwrap().unwrap();
    assert_eq!(record.moving_from, None);
    let mut other = okta_user("anna@example.com");
    other["userName"] = json!("someone-else");
    assert_eq!(scim_with(&app, "POST", "/scim/v2/Users", t, Some(other)).await.status, 201);
}

#[tokio::test]
async fn a_rename_onto_another_active_persons_address_is_refused_and_moves_nothing() {
    let Anna { app, token, licences, path, .. } = anna_in_directory().await;
    let t = Some(token.as_str());
    let bob =
        scim_with(&app, "POST", "/scim/v2/Users", t, Some(okta_user("bob@example.com"))).await;
    assert_eq!(bob.status, 201);
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value",
                        "value": "bob@example.com"}]});
    let refused = scim_with(&app, "PATCH", &path, t, Some(rename)).await;
    assert_scim_error(&refused, 409);
    assert_eq!(refused.body["scimType"], "uniqueness");
    assert_eq!(annas_seat(&app, CUSTOMER, &licences[0]).await["status"], "active");
    assert!(
        Client::admin(&app, CUSTOMER).assignment(&licences[0], "bob@example.com").await.is_none()
    );
}

/// `n` licences of [`CUSTOMER`] of two seats, each with a seat of `email`.
async fn seats_on_licences(app: &App, email: &'static str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n.div_ceil(10) {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..10.min(n - ids.len()) {
            let app = app.clone();
            tasks.spawn(async move {
                let id = licence(&app, CUSTOMER, 2).await;
                assert_eq!(Client::admin(&app, CUSTOMER).assign(&id, email).await.status, 201);
                id
            });
        }
        ids.extend(tasks.join_all().await);
    }
    ids
}

/// Whether `email` still holds its seat on each licence, read through the
/// API: the assignment's status and the licence's count must agree (the
/// buyer holds the other seat), or the licence would be half-done.
async fn still_held(app: &App, ids: &[String], email: &str) -> Vec<bool> {
    let mut held = Vec::with_capacity(ids.len());
    for id in ids {
        let client = Client::admin(app, CUSTOMER);
        let active = client.assignment(id, email).await.unwrap()["status"] == "active";
        let used = client.license(id).await.body["assignedUsers"].as_u64().unwrap();
        assert_eq!(used, 1 + u64::from(active), "licence {id} is half-done");
        held.push(active);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_on_300_licences_go_in_one_request_and_a_cut_one_is_completed_by_its_retry() {
    let (app, _, token) = with_scim_token().await;
    let ids = seats_on_licences(&app, "paula@example.com", 300).await;
    let t = Some(token.as_str());
    let created =
        scim_with(&app, "POST", "/scim/v2/Users", t, Some(okta_user("paula@example.com"))).await;
    let path = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "replace", "value": {"active": false}}]});
    // DynamoDB becomes unreachable after 120 of the 300 commits.
    let proxy = licensing_tests::proxy::Proxy::start(dynamodb_endpoint()).await;
    let via = app_at(&proxy.url, app.store.table());
    proxy.fail_after("TransactWriteItems", 120, licensing_tests::proxy::Fault::Unreachable);
    let cut = scim_with(&via, "PATCH", &path, t, Some(deactivate.clone())).await;
    assert_scim_error(&cut, 503);
    let held = still_held(&app, &ids, "paula@example.com").await;
    let revoked = held.iter().filter(|h| !**h).count();
    assert!((100..=120).contains(&revoked), "{revoked} licences done before the cut");
    let person = scim(&app, "GET", &path, t).await.body;
    assert_eq!(person["active"], true, "the person is written after the seats");
    // The identity provider retries: the rest is done, nothing twice.
    proxy.reset();
    let retried = scim_with(&via, "PATCH", &path, t, Some(deactivate)).await;
    assert_eq!((retried.status, &retried.body["active"]), (200, &json!(false)));
    assert!(still_held(&app, &ids, "paula@example.com").await.iter().all(|h| !h));
    for id in &ids[..20] {
        let revokes = Client::admin(&app, CUSTOMER).all_history(id, "", 100).await;
        let revokes = revokes.iter().filter(|e| e["action"] == "assignment.revoked").count();
        assert_eq!(revokes, 1, "licence {id}");
    }
}

#[tokio::test]
async fn attributes_and_excluded_attributes_shape_every_answer_and_searches_list_too() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let created = scim_with(
        &app,
        "POST",
        "/scim/v2/Users?attributes=userName",
        t,
        Some(okta_user("anna@example.com")),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_string();
    let user_schema = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
    assert_eq!(
        created.body,
        json!({"schemas": user_schema, "id": id, "userName": "anna@example.com"})
    );
    let one = scim(&app, "GET", &format!("/scim/v2/Users/{id}?excludedAttributes=emails,meta"), t)
        .await
        .body;
    assert!(one.get("emails").is_none() && one.get("meta").is_none(), "{one}");
    assert_eq!(one["name"]["givenName"], "Anna");
    let listed = scim(&app, "GET", "/scim/v2/Users?attributes=emails.value", t).await.body;
    assert_eq!(
        listed["Resources"][0],
        json!({"schemas": user_schema, "id": id, "emails": [{"value": "anna@example.com"}]})
    );
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq \"ANNA@example.com\"",
        "attributes": ["displayName"],
        "count": 5
    });
    for path in ["/scim/v2/Users/.search", "/scim/v2/.search"] {
        let found = scim_with(&app, "POST", path, t, Some(search.clone())).await;
        assert_eq!(found.status, 200, "{:?}", found.body);
        assert_eq!(found.body["totalResults"], 1);
        assert_eq!(
            found.body["Resources"][0],
            json!({"schemas": user_schema, "id": id, "displayName": "Anna Schmidt"})
        );
    }
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Users/.search", t).await, 405);
}
