//! SCIM Groups under `/scim/v2/Groups` (v3, "Group-based assignment"),
//! through the `scim` function's handler on DynamoDB Local: created, found
//! by name (one key read) and by member, changed by the PATCH dialects of
//! Okta and Entra ID, replaced, removed; a name taken once per customer, a
//! member that is not one of the customer's people refused, and every
//! change, a thousand members at once included, whole or not at all.

use aws_sdk_dynamodb::types::AttributeValue;
use licensing::App;
use licensing::model::{DirectoryUser, MAX_MEMBERS};
use licensing_tests::scim::*;
use licensing_tests::*;
use serde_json::{Value, json};

const GROUPS: &str = "/scim/v2/Groups";

/// A person of [`CUSTOMER`]'s directory, created through SCIM: their id.
async fn person(app: &App, token: &str, user_name: &str, display: Option<&str>) -> String {
    let mut body =
        json!({"userName": user_name, "emails": [{"value": user_name, "primary": true}]});
    if let Some(display) = display {
        body["displayName"] = json!(display);
    }
    let created = scim_with(app, "POST", "/scim/v2/Users", Some(token), Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["id"].as_str().unwrap().to_string()
}

/// `n` people of `customer`'s directory, their records written straight
/// to the table 25 at a time (a SCIM client gets 20 requests a second, and
/// a thousand transactions would crowd DynamoDB Local): their ids.
async fn people(app: &App, customer: &str, tag: &str, n: usize) -> Vec<String> {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use licensing::store::items::to_item;
    use licensing::store::keys;
    let at = chrono::Utc::now();
    let ids: Vec<String> = (0..n).map(|i| format!("usr_{tag}{i:05}")).collect();
    let client = dynamodb_client();
    for chunk in ids.chunks(25) {
        let writes = chunk.iter().map(|id| {
            let u = DirectoryUser {
                id: id.clone(),
                customer_id: customer.into(),
                user_name: format!("{id}@example.com"),
                created: at,
                last_modified: at,
                version: 1,
                ..DirectoryUser::default()
            };
            let mut item = to_item(&u).unwrap();
            item.insert(keys::PK.into(), AttributeValue::S(keys::customer(customer)));
            item.insert(keys::SK.into(), AttributeValue::S(keys::directory_user(id)));
            item.insert(keys::TYPE.into(), AttributeValue::S(keys::kind::DIRECTORY_USER.into()));
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        });
        let out = client
            .batch_write_item()
            .request_items(app.store.table(), writes.collect())
            .send()
            .await
            .unwrap();
        assert!(
            out.unprocessed_items.is_none_or(|u| u.is_empty()),
            "DynamoDB Local takes every write"
        );
    }
    ids
}

fn members(ids: &[String]) -> Value {
    ids.iter().map(|id| json!({"value": id})).collect()
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        strings_of(&group["members"], "value").into_iter().map(String::from).collect();
    ids.sort();
    ids
}

fn patch(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

#[tokio::test]
async fn a_group_is_created_found_by_its_name_in_any_case_and_its_name_is_taken_once() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let anna = person(&app, &token, "anna@example.com", Some("Anna Schmidt")).await;
    let bob = person(&app, &token, "bob@example.com", None).await;
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Sales EU", "externalId": "00g1", "members": [{"value": anna}, {"value": bob}]});
    let created = scim_with(&app, "POST", GROUPS, t, Some(body)).await;
    assert_eq!((created.status, created.content_type.as_str()), (201, "application/scim+json"));
    let g = &created.body;
    let id = g["id"].as_str().unwrap();
    assert!(id.starts_with("grp_"), "{id}");
    assert_eq!(created.headers["location"], g["meta"]["location"].as_str().unwrap());
    assert_eq!((&g["displayName"], &g["externalId"]), (&json!("Sales EU"), &json!("00g1")));
    assert_eq!(g["meta"]["resourceType"], "Group");
    let shown: Vec<(&str, &str)> = g["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["value"].as_str().unwrap(), m["display"].as_str().unwrap()))
        .collect();
    let mut expected = vec![(anna.as_str(), "Anna Schmidt"), (bob.as_str(), "bob@example.com")];
    expected.sort();
    assert_eq!(shown, expected, "a member without a display is shown by their name");
    assert!(
        g["members"][0]["$ref"].as_str().unwrap().ends_with(&format!("/Users/{}", expected[0].0))
    );

    let got = scim(&app, "GET", &format!("{GROUPS}/{id}"), t).await;
    assert_eq!(got.body, created.body);
    let bare = scim(&app, "GET", &format!("{GROUPS}/{id}?excludedAttributes=members"), t).await;
    assert!(bare.body.get("members").is_none() && bare.body["displayName"] == "Sales EU");

    let by_name = format!("{GROUPS}?filter={}", encoded(r#"displayName eq "sales eu""#));
    let found = scim(&app, "GET", &by_name, t).await.body;
    assert_eq!(
        (found["totalResults"].as_u64(), &found["Resources"][0]["id"]),
        (Some(1), &json!(id))
    );
    assert!(found["Resources"][0].get("members").is_none(), "a list leaves members out");
    let probe = format!(
        "{GROUPS}?filter={}&excludedAttributes=members",
        encoded(r#"displayName eq "0c4e-probe""#)
    );
    assert_eq!(scim(&app, "GET", &probe, t).await.body["totalResults"], 0);

    let again =
        scim_with(&app, "POST", GROUPS, t, Some(json!({"displayName": " SALES eu "}))).await;
    assert_scim_error(&again, 409);
    assert_eq!(again.body["scimType"], "uniqueness");
    assert_scim_error(&scim(&app, "GET", &format!("{GROUPS}/grp_nope"), t).await, 404);
    let long = format!("{GROUPS}/{}", "g".repeat(2_000));
    assert_scim_error(&scim(&app, "GET", &long, t).await, 404);
    assert_scim_error(&scim(&app, "DELETE", &long, t).await, 404);
    let nameless = scim_with(&app, "POST", GROUPS, t, Some(json!({"members": []}))).await;
    assert_scim_error(&nameless, 400);
    assert_eq!(nameless.body["scimType"], "invalidValue");
}

#[tokio::test]
async fn only_the_customers_own_people_can_be_members_and_groups_are_the_customers_own() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let anna = person(&app, &token, "anna@example.com", None).await;
    let theirs = people(&app, OTHER_CUSTOMER, "theirs", 1).await;
    for stranger in [theirs[0].as_str(), "usr_nobody"] {
        let body =
            json!({"displayName": "Sales", "members": [{"value": anna}, {"value": stranger}]});
        let refused = scim_with(&app, "POST", GROUPS, t, Some(body)).await;
        assert_scim_error(&refused, 400);
        assert_eq!(refused.body["scimType"], "invalidValue");
        assert!(refused.body["detail"].as_str().unwrap().contains(stranger), "{:?}", refused.body);
    }
    let listed = scim(&app, "GET", GROUPS, t).await.body;
    assert_eq!(listed["totalResults"], 0, "nothing of a refused group is written");

    // Another customer's group is not found.
    let created = scim_with(&app, "POST", GROUPS, t, Some(json!({"displayName": "Sales"}))).await;
    let id = created.body["id"].as_str().unwrap();
    let other = Client::admin(&app, OTHER_CUSTOMER)
        .send("POST", "/tokens", Some(json!({"name": "Entra", "scopes": ["scim"]})))
        .await;
    let other_token = other.body["token"].as_str().unwrap();
    assert_scim_error(&scim(&app, "GET", &format!("{GROUPS}/{id}"), Some(other_token)).await, 404);
    let patch_theirs =
        patch(json!([{"op": "add", "path": "members", "value": [{"value": theirs[0]}]}]));
    let answer =
        scim_with(&app, "PATCH", &format!("{GROUPS}/{id}"), Some(other_token), Some(patch_theirs))
            .await;
    assert_scim_error(&answer, 404);
    assert_eq!(scim(&app, "GET", GROUPS, Some(other_token)).await.body["totalResults"], 0);
}

#[tokio::test]
async fn okta_and_entra_add_remove_rename_and_replace_members() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let ids = people(&app, CUSTOMER, "p", 5).await;
    let created =
        scim_with(&app, "POST", GROUPS, t, Some(json!({"displayName": "Okta push"}))).await;
    let path = format!("{GROUPS}/{}", created.body["id"].as_str().unwrap());
    let send = |body: Value| {
        let (app, path, token) = (&app, path.clone(), token.clone());
        async move { scim_with(app, "PATCH", &path, Some(&token), Some(body)).await }
    };
    // Okta: a path-less replace of the name (with the id), then members added with display.
    let renamed =
        send(patch(json!([{"op": "replace", "value": {"id": "ignored", "displayName": "Sales"}}])))
            .await;
    assert_eq!((renamed.status, &renamed.body["displayName"]), (200, &json!("Sales")));
    let added = send(patch(json!([{"op": "add", "path": "members",
        "value": [{"value": ids[0], "display": "Anna"}, {"value": ids[1]}, {"value": ids[2]}]}])))
    .await;
    assert_eq!(member_ids(&added.body), ids[..3]);
    assert_eq!(
        added.body["members"].as_array().unwrap().iter().find(|m| m["value"] == ids[0]).unwrap()["display"],
        "Anna"
    );
    // Okta's remove by value path; Entra's, in its own case, with a list of values.
    let removed =
        send(patch(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])}])))
            .await;
    assert_eq!(member_ids(&removed.body), ids[1..3]);
    let removed = send(patch(json!([{"op": "Remove", "path": "members", "value": [{"value": ids[1]}, {"value": ids[4]}]}]))).await;
    assert_eq!(member_ids(&removed.body), ids[2..3], "removing a non-member is no error");
    let entra = send(patch(json!([
        {"op": "Add", "path": "members", "value": [{"value": ids[3]}]},
        {"op": "Replace", "path": "displayName", "value": "Sales DE"},
    ])))
    .await;
    assert_eq!(
        (member_ids(&entra.body), &entra.body["displayName"]),
        (ids[2..4].to_vec(), &json!("Sales DE"))
    );
    assert_ne!(entra.body["meta"]["version"], added.body["meta"]["version"]);
    // Entra asks whether someone is a member with a filter.
    let id = entra.body["id"].as_str().unwrap();
    let asks = |who: &str| {
        format!(
            "{GROUPS}?filter={}&excludedAttributes=members",
            encoded(&format!(r#"id eq "{id}" and members[value eq "{who}"]"#))
        )
    };
    assert_eq!(scim(&app, "GET", &asks(&ids[3]), t).await.body["totalResults"], 1);
    assert_eq!(scim(&app, "GET", &asks(&ids[0]), t).await.body["totalResults"], 0);
    // A PUT is the whole group.
    let put = scim_with(
        &app,
        "PUT",
        &path,
        t,
        Some(json!({"displayName": "Sales", "members": [{"value": ids[0]}]})),
    )
    .await;
    assert_eq!(
        (put.status, member_ids(&put.body), put.body.get("externalId")),
        (200, ids[..1].to_vec(), None)
    );
    let all_gone = send(patch(json!([{"op": "remove", "path": "members"}]))).await;
    assert_eq!(all_gone.body["members"], json!([]));
    let bad = send(patch(json!([{"op": "remove", "path": "displayName"}]))).await;
    assert_scim_error(&bad, 400);
    // The old names are free again; a deleted group is gone, and so is its name.
    let deleted = scim(&app, "DELETE", &path, t).await;
    assert_eq!(deleted.status, 204);
    assert_scim_error(&scim(&app, "GET", &path, t).await, 404);
    assert_scim_error(&scim(&app, "DELETE", &path, t).await, 404);
    let again = scim_with(&app, "POST", GROUPS, t, Some(json!({"displayName": "Sales"}))).await;
    assert_eq!(again.status, 201);
}

#[tokio::test]
async fn a_thousand_members_join_in_one_commit_or_none_do() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let ids = people(&app, CUSTOMER, "k", 1000).await;
    let created =
        scim_with(&app, "POST", GROUPS, t, Some(json!({"displayName": "Everyone"}))).await;
    let path = format!("{GROUPS}/{}", created.body["id"].as_str().unwrap());
    // One stranger at the very end: nobody joins.
    let mut with_stranger = members(&ids);
    with_stranger.as_array_mut().unwrap().push(json!({"value": "usr_stranger"}));
    let add = |value: Value| patch(json!([{"op": "add", "path": "members", "value": value}]));
    let refused = scim_with(&app, "PATCH", &path, t, Some(add(with_stranger))).await;
    assert_scim_error(&refused, 400);
    assert_eq!(scim(&app, "GET", &path, t).await.body["members"], json!([]), "all or nothing");
    let joined = scim_with(&app, "PATCH", &path, t, Some(add(members(&ids)))).await;
    assert_eq!(joined.status, 200);
    assert_eq!(member_ids(&scim(&app, "GET", &path, t).await.body), ids);
    // A list asked for members carries at most 10 groups a page.
    for (n, id) in ids.iter().enumerate().take(11) {
        scim_with(
            &app,
            "POST",
            GROUPS,
            t,
            Some(json!({"displayName": format!("Team {n}"), "members": [{"value": id}]})),
        )
        .await;
    }
    let page = scim(&app, "GET", &format!("{GROUPS}?attributes=members,displayName"), t).await.body;
    assert_eq!(
        (page["totalResults"].as_u64(), page["itemsPerPage"].as_u64()),
        (Some(12), Some(10))
    );
    let everyone = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == "Everyone")
        .unwrap();
    assert_eq!(everyone["members"].as_array().unwrap().len(), 1000);
    let plain = scim(&app, "GET", GROUPS, t).await.body;
    assert_eq!(plain["itemsPerPage"], 12);
}

#[tokio::test]
async fn more_than_ten_thousand_members_are_refused_before_anything_is_read() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let created =
        scim_with(&app, "POST", GROUPS, t, Some(json!({"displayName": "Too many"}))).await;
    let path = format!("{GROUPS}/{}", created.body["id"].as_str().unwrap());
    let ids: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("usr_none{i:05}")).collect();
    let body = patch(json!([{"op": "add", "path": "members", "value": members(&ids)}]));
    let refused = scim_with(&app, "PATCH", &path, t, Some(body)).await;
    assert_scim_error(&refused, 400);
    assert!(refused.body["detail"].as_str().unwrap().contains("10000"), "{:?}", refused.body);
    // SCIM bodies may be up to 2 MiB (that one was about 330 KB); beyond, refused unread.
    let padding = "x".repeat(2 * 1024 * 1024);
    let huge =
        scim_with(&app, "PATCH", &path, t, Some(json!({"Operations": [], "pad": padding}))).await;
    assert_scim_error(&huge, 400);
    assert!(huge.body["detail"].as_str().unwrap().contains("2097152"), "{:?}", huge.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_each_land_whole() {
    let (app, _, token) = with_scim_token().await;
    let ids = people(&app, CUSTOMER, "c", 40).await;
    let created =
        scim_with(&app, "POST", GROUPS, Some(&token), Some(json!({"displayName": "Busy"}))).await;
    let path = format!("{GROUPS}/{}", created.body["id"].as_str().unwrap());
    let sends = ids.chunks(4).map(|chunk| {
        let body = patch(json!([{"op": "add", "path": "members", "value": members(chunk)}]));
        let (app, path, token) = (&app, &path, &token);
        async move { scim_with(app, "PATCH", path, Some(token), Some(body)).await.status }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(sends).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let got = member_ids(&scim(&app, "GET", &path, Some(&token)).await.body);
    assert_eq!(got, ids, "every change is there whole: none overwrote another");
}

// ---- Links from groups to licences (`/groups`, `/licenses/{id}/groups`) ----

/// A group of [`CUSTOMER`]'s directory with these members, created over SCIM: its id.
async fn group(app: &App, token: &str, name: &str, members_of: &[String]) -> String {
    let body = json!({"displayName": name, "members": members(members_of)});
    let created = scim_with(app, "POST", GROUPS, Some(token), Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["id"].as_str().unwrap().to_string()
}

async fn link(admin: &Client<'_>, license: &str, group: &str, body: Option<Value>) -> Answer {
    admin.send("PUT", &format!("/licenses/{license}/groups/{group}"), body).await
}

async fn unlink(admin: &Client<'_>, license: &str, group: &str) -> Answer {
    admin.send("DELETE", &format!("/licenses/{license}/groups/{group}"), None).await
}

/// The history entries of a licence about its links, oldest first.
async fn link_entries(admin: &Client<'_>, license: &str) -> Vec<Value> {
    let mut entries: Vec<Value> = admin
        .all_history(license, "", 100)
        .await
        .into_iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("license.group-")))
        .collect();
    entries.reverse();
    entries
}

#[tokio::test]
async fn a_group_is_linked_shown_given_another_language_and_unlinked_with_its_history() {
    let (app, _, token) = with_scim_token().await;
    let license = licence(&app, CUSTOMER, 5).await;
    let admin = Client::admin(&app, CUSTOMER);
    let ids = people(&app, CUSTOMER, "l", 3).await;
    let sales = group(&app, &token, "Sales", &ids[..2]).await;
    let listed = admin.send("GET", "/groups", None).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(
        listed.body,
        json!({"groups": [{"groupId": sales, "displayName": "Sales", "members": 2}]})
    );
    assert_eq!(
        admin.send("GET", &format!("/licenses/{license}/groups"), None).await.body,
        json!({"groups": []})
    );

    let linked = link(&admin, &license, &sales, None).await;
    assert_eq!(linked.status, 200, "{:?}", linked.body);
    let shown = &linked.body["groups"][0];
    assert_eq!(
        (&shown["groupId"], &shown["displayName"], &shown["members"], &shown["language"]),
        (&json!(sales), &json!("Sales"), &json!(2), &json!("en"))
    );
    // 5 seats, the buyer's and 4 free: both members hold one.
    assert_eq!((&shown["assigned"], &shown["waiting"]), (&json!(2), &json!(0)));
    let linked_at = shown["linkedAt"].clone();
    assert!(linked_at.is_string());
    let read = admin.send("GET", &format!("/licenses/{license}/groups"), None).await;
    assert_eq!(read.body, linked.body);
    // The same link again writes nothing; another language replaces the old one.
    assert_eq!(link(&admin, &license, &sales, Some(json!({}))).await.body, linked.body);
    assert_eq!(link_entries(&admin, &license).await.len(), 1);
    let german = link(&admin, &license, &sales, Some(json!({"language": "de"}))).await;
    assert_eq!(german.body["groups"][0]["language"], "de");
    assert_eq!(german.body["groups"][0]["linkedAt"], linked_at, "linked since the first time");
    let entries = link_entries(&admin, &license).await;
    let actor = format!("admin@{CUSTOMER}.example.com");
    let state =
        |language: &str| json!({"groupId": sales, "displayName": "Sales", "language": language});
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (&entries[0]["action"], &entries[0]["actor"], &entries[0]["before"], &entries[0]["after"]),
        (&json!("license.group-linked"), &json!(actor), &Value::Null, &state("en"))
    );
    assert_eq!((&entries[1]["before"], &entries[1]["after"]), (&state("en"), &state("de")));

    // The group goes on changing over SCIM, and the link shows it as it is.
    let t = Some(token.as_str());
    let path = format!("{GROUPS}/{sales}");
    let changed = scim_with(
        &app,
        "PATCH",
        &path,
        t,
        Some(patch(json!([
        {"op": "replace", "path": "displayName", "value": "Sales EU"},
        {"op": "add", "path": "members", "value": [{"value": ids[2]}]}]))),
    )
    .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let read = admin.send("GET", &format!("/licenses/{license}/groups"), None).await.body;
    assert_eq!(
        (&read["groups"][0]["displayName"], &read["groups"][0]["members"]),
        (&json!("Sales EU"), &json!(3))
    );

    let gone = unlink(&admin, &license, &sales).await;
    assert_eq!((gone.status, &gone.body), (200, &json!({"groups": []})));
    let entries = link_entries(&admin, &license).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(
        (&entries[2]["action"], &entries[2]["after"]),
        (&json!("license.group-unlinked"), &Value::Null)
    );
    assert_eq!(
        entries[2]["before"],
        json!({"groupId": sales, "displayName": "Sales EU", "language": "de"})
    );
    let again = unlink(&admin, &license, &sales).await;
    assert_eq!((again.status, again.slug()), (404, "group-not-found"));
    let stored = app.store.group(CUSTOMER, &sales).await.unwrap().unwrap();
    assert!(stored.licenses.is_empty(), "the group's side of the link is gone too");
}

#[tokio::test]
async fn links_to_unknown_or_foreign_groups_and_licences_and_past_their_limits_are_refused() {
    let (app, _, token) = with_scim_token().await;
    let license = licence(&app, CUSTOMER, 5).await;
    let theirs = licence(&app, OTHER_CUSTOMER, 5).await;
    let admin = Client::admin(&app, CUSTOMER);
    let sales = group(&app, &token, "Sales", &[]).await;
    for unknown in ["grp_nope".to_string(), "g".repeat(2_000), "grp%23x".to_string()] {
        let refused = link(&admin, &license, &unknown, None).await;
        assert_eq!((refused.status, refused.slug()), (404, "group-not-found"), "{unknown}");
    }
    let refused = link(&admin, &theirs, &sales, None).await;
    assert_eq!((refused.status, refused.slug()), (404, "license-not-found"));
    let other = Client::admin(&app, OTHER_CUSTOMER);
    let refused = link(&other, &theirs, &sales, None).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (404, "group-not-found"),
        "another customer's group"
    );
    for body in [json!({"language": "fr"}), json!({"language": "de", "quantity": 3})] {
        let refused = link(&admin, &license, &sales, Some(body.clone())).await;
        assert_eq!((refused.status, refused.slug()), (400, "validation-error"), "{body}");
    }
    let user = Client::user(&app, "anna@example.com", CUSTOMER);
    assert_eq!(link(&user, &license, &sales, None).await.status, 403);
    assert_eq!(user.send("GET", "/groups", None).await.status, 403);
    assert_eq!(
        admin.send("GET", &format!("/licenses/{license}/groups"), None).await.body,
        json!({"groups": []})
    );

    // At most ten groups a licence.
    for i in 0..10 {
        let g = group(&app, &token, &format!("Team {i}"), &[]).await;
        assert_eq!(link(&admin, &license, &g, None).await.status, 200);
    }
    let refused = link(&admin, &license, &sales, None).await;
    assert_eq!((refused.status, refused.slug()), (400, "validation-error"));
    assert_eq!(refused.body["errors"][0]["field"], "groupId");
    let shown = admin.send("GET", &format!("/licenses/{license}/groups"), None).await.body;
    let names: Vec<&str> = strings_of(&shown["groups"], "displayName");
    assert_eq!(
        names,
        (0..10).map(|i| format!("Team {i}")).collect::<Vec<_>>(),
        "in the order linked"
    );
}

#[tokio::test]
async fn removing_a_linked_group_over_scim_ends_each_of_its_links_in_the_same_transaction() {
    let (app, token_id, token) = with_scim_token().await;
    let admin = Client::admin(&app, CUSTOMER);
    let first = licence(&app, CUSTOMER, 5).await;
    let second = licence(&app, CUSTOMER, 5).await;
    let sales = group(&app, &token, "Sales", &[]).await;
    for license in [&first, &second] {
        assert_eq!(
            link(&admin, license, &sales, Some(json!({"language": "de"}))).await.status,
            200
        );
    }
    let mut stored = app.store.group(CUSTOMER, &sales).await.unwrap().unwrap().licenses;
    stored.sort();
    let mut both = vec![first.clone(), second.clone()];
    both.sort();
    assert_eq!(stored, both);
    let removed = scim(&app, "DELETE", &format!("{GROUPS}/{sales}"), Some(&token)).await;
    assert_eq!(removed.status, 204);
    for license in [&first, &second] {
        let l = app.store.license(CUSTOMER, license).await.unwrap().unwrap();
        assert!(l.groups.is_empty(), "the licence's side of the link is gone");
        let entries = link_entries(&admin, license).await;
        let last = entries.last().unwrap();
        assert_eq!(
            (&last["action"], &last["actor"]),
            (&json!("license.group-unlinked"), &json!(format!("scim:{token_id}")))
        );
        assert_eq!(
            last["before"],
            json!({"groupId": sales, "displayName": "Sales", "language": "de"})
        );
    }
    assert_eq!(admin.send("GET", "/groups", None).await.body, json!({"groups": []}));
}

#[tokio::test]
async fn a_link_made_while_the_identity_provider_changes_the_group_is_kept_on_both_sides() {
    let (app, _, token) = with_scim_token().await;
    let admin = Client::admin(&app, CUSTOMER);
    let license = licence(&app, CUSTOMER, 5).await;
    let ids = people(&app, CUSTOMER, "c", 8).await;
    let sales = group(&app, &token, "Sales", &[]).await;
    let path = format!("{GROUPS}/{sales}");
    let adds = ids.iter().map(|id| {
        let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": id}]}]));
        let (app, path, token) = (&app, path.clone(), token.clone());
        async move { scim_with(app, "PATCH", &path, Some(&token), Some(body)).await.status }
    });
    let linking = async { link(&admin, &license, &sales, None).await.status };
    let (statuses, linked) = tokio::join!(futures_util::future::join_all(adds), linking);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(linked, 200);
    let g = app.store.group(CUSTOMER, &sales).await.unwrap().unwrap();
    assert_eq!((g.licenses, g.member_count), (vec![license.clone()], ids.len()));
    let l = app.store.license(CUSTOMER, &license).await.unwrap().unwrap();
    assert_eq!(l.groups.iter().map(|g| g.group_id.as_str()).collect::<Vec<_>>(), [sales.as_str()]);
}

// ---- The group rule: seats, the waiting list, exclusions (v3) ----

/// What `notify` does for a licence's stream record (and the minute's run):
/// its rule's run written, free seats given to those who wait.
async fn settle(app: &App, license: &str) {
    licensing::usecase::rule::settle(app, CUSTOMER, license).await.unwrap();
}

/// The addresses of a licence's current seats a group's rule gave, and who
/// gave the others (`hand`), as listed.
async fn rule_seats(admin: &Client<'_>, license: &str) -> Vec<(String, String)> {
    let mut seats: Vec<(String, String)> = admin
        .all_assignments(license)
        .await
        .into_iter()
        .filter(|a| a["status"] != "revoked")
        .map(|a| {
            let by = a["assignedBy"].as_str().unwrap();
            let by = if by.starts_with("group:") { by.to_string() } else { "hand".into() };
            (a["email"].as_str().unwrap().to_string(), by)
        })
        .collect();
    seats.sort();
    seats
}

async fn waiting_list(admin: &Client<'_>, license: &str) -> Vec<String> {
    let answer = admin.send("GET", &format!("/licenses/{license}/waiting"), None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    strings_of(&answer.body["waiting"], "email").into_iter().map(String::from).collect()
}

fn address(id: &str) -> String {
    format!("{id}@example.com")
}

#[tokio::test]
async fn members_hold_seats_who_does_not_fit_waits_and_a_freed_seat_goes_to_the_first() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    // 4 seats: the buyer holds one, 3 are free.
    let license = licence(&app, CUSTOMER, 4).await;
    let admin = Client::admin(&app, CUSTOMER);
    let ids = people(&app, CUSTOMER, "r", 6).await;
    let team = group(&app, &token, "Team", &ids[..2]).await;
    let by = format!("group:{team}");

    let linked = link(&admin, &license, &team, Some(json!({"language": "de"}))).await;
    assert_eq!(linked.status, 200, "{:?}", linked.body);
    assert_eq!(
        (&linked.body["groups"][0]["assigned"], &linked.body["groups"][0]["waiting"]),
        (&json!(2), &json!(0))
    );
    let a = admin.assignment(&license, &address(&ids[0])).await.unwrap();
    assert_eq!((&a["assignedBy"], &a["invitation"]["status"]), (&json!(by), &json!("pending")));
    let stored = app.store.license_and_assignments(CUSTOMER, &license, &[address(&ids[0])]).await;
    let language = stored.unwrap().1[&address(&ids[0])].language;
    assert_eq!(language, licensing::model::Language::De, "the link's language");

    // Three join, in this order; one seat is free: the other two wait, in order.
    let path = format!("{GROUPS}/{team}");
    let add =
        |who: &[String]| patch(json!([{"op": "add", "path": "members", "value": members(who)}]));
    let order = [ids[4].clone(), ids[2].clone(), ids[3].clone()];
    let added = scim_with(&app, "PATCH", &path, t, Some(add(&order))).await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    settle(&app, &license).await;
    assert_eq!(waiting_list(&admin, &license).await, [address(&ids[2]), address(&ids[3])]);
    let seats = rule_seats(&admin, &license).await;
    assert_eq!(seats.iter().filter(|(_, b)| *b == by).count(), 3);
    assert!(seats.contains(&(address(&ids[4]), by.clone())), "the first to join got the seat");
    let shown = admin.send("GET", &format!("/licenses/{license}/groups"), None).await.body;
    assert_eq!(
        (&shown["groups"][0]["assigned"], &shown["groups"][0]["waiting"]),
        (&json!(3), &json!(2))
    );
    let counts = admin.license(&license).await.body;
    assert_eq!(counts["availableSeats"], 0);
    let history = admin.all_history(&license, &format!("email={}", address(&ids[2])), 100).await;
    assert_eq!(history[0]["action"], "waiting.added");
    assert_eq!(history[0]["actor"], json!(by));

    // A member leaves: the seat the rule gave is revoked, and the first who waits gets it.
    let leave =
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])}]));
    assert_eq!(scim_with(&app, "PATCH", &path, t, Some(leave)).await.status, 200);
    settle(&app, &license).await;
    let gone = admin.assignment(&license, &address(&ids[0])).await.unwrap();
    assert_eq!(gone["status"], "revoked");
    let entries = admin.all_history(&license, &format!("email={}", address(&ids[0])), 100).await;
    assert_eq!(
        (&entries[0]["action"], &entries[0]["reason"]),
        (&json!("assignment.revoked"), &json!("group-left"))
    );
    assert_eq!(waiting_list(&admin, &license).await, [address(&ids[3])]);
    assert_eq!(
        admin.assignment(&license, &address(&ids[2])).await.unwrap()["assignedBy"],
        json!(by)
    );

    // An admin revokes a rule's seat: the person is out of the rules, the seat goes to the next.
    assert_eq!(admin.revoke(&license, &address(&ids[1])).await.status, 200);
    settle(&app, &license).await;
    assert!(waiting_list(&admin, &license).await.is_empty());
    assert_eq!(admin.assignment(&license, &address(&ids[3])).await.unwrap()["status"], "active");
    assert_eq!(admin.assignment(&license, &address(&ids[1])).await.unwrap()["status"], "revoked");

    // A seat given by hand is left alone when its person leaves.
    assert_eq!(admin.revoke(&license, &address(&ids[4])).await.status, 200);
    settle(&app, &license).await;
    assert_eq!(admin.assign(&license, address(&ids[5])).await.status, 201);
    let join5 = scim_with(&app, "PATCH", &path, t, Some(add(&ids[5..6]))).await;
    assert_eq!(join5.status, 200);
    let leave5 =
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[5])}]));
    assert_eq!(scim_with(&app, "PATCH", &path, t, Some(leave5)).await.status, 200);
    settle(&app, &license).await;
    let hand = admin.assignment(&license, &address(&ids[5])).await.unwrap();
    assert_eq!(
        (&hand["status"], &hand["assignedBy"]),
        (&json!("active"), &json!(format!("admin@{CUSTOMER}.example.com")))
    );

    // Unlinking ends every seat the rule gave, and the waiting list.
    assert_eq!(unlink(&admin, &license, &team).await.status, 200);
    settle(&app, &license).await;
    let seats = rule_seats(&admin, &license).await;
    assert!(seats.iter().all(|(_, b)| b == "hand"), "{seats:?}");
}

#[tokio::test]
async fn an_excluded_person_stays_out_until_they_leave_and_join_again() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let license = licence(&app, CUSTOMER, 10).await;
    let admin = Client::admin(&app, CUSTOMER);
    let ids = people(&app, CUSTOMER, "x", 1).await;
    let team = group(&app, &token, "Team", &ids).await;
    assert_eq!(link(&admin, &license, &team, None).await.status, 200);
    let who = address(&ids[0]);
    assert_eq!(admin.revoke(&license, &who).await.status, 200);
    // Another member's join runs the rule: the excluded person is not seated again.
    let more = people(&app, CUSTOMER, "y", 1).await;
    let path = format!("{GROUPS}/{team}");
    let add =
        |who: &[String]| patch(json!([{"op": "add", "path": "members", "value": members(who)}]));
    assert_eq!(scim_with(&app, "PATCH", &path, t, Some(add(&more))).await.status, 200);
    settle(&app, &license).await;
    assert_eq!(admin.assignment(&license, &who).await.unwrap()["status"], "revoked");
    // They leave and join again: back in the rules, with a seat.
    let leave =
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])}]));
    assert_eq!(scim_with(&app, "PATCH", &path, t, Some(leave)).await.status, 200);
    assert_eq!(scim_with(&app, "PATCH", &path, t, Some(add(&ids))).await.status, 200);
    settle(&app, &license).await;
    let back = admin.assignment(&license, &who).await.unwrap();
    assert_eq!(
        (&back["status"], &back["assignedBy"]),
        (&json!("active"), &json!(format!("group:{team}")))
    );
}

#[tokio::test]
async fn a_thousand_members_joining_three_licences_end_as_one_by_one() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    // 501 seats each: the buyer's and 500 free.
    let mut licenses = Vec::new();
    for _ in 0..3 {
        licenses.push(licence(&app, CUSTOMER, 501).await);
    }
    let admin = Client::admin(&app, CUSTOMER);
    let team = group(&app, &token, "Everyone", &[]).await;
    for license in &licenses {
        assert_eq!(link(&admin, license, &team, None).await.status, 200);
    }
    let mut ids = people(&app, CUSTOMER, "k", 1000).await;
    // Not in id order: the order given is the order they join in.
    ids.reverse();
    let path = format!("{GROUPS}/{team}");
    let add = patch(json!([{"op": "add", "path": "members", "value": members(&ids)}]));
    let added = scim_with(&app, "PATCH", &path, t, Some(add)).await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    for license in &licenses {
        settle(&app, license).await;
        let counts = admin.license(license).await.body;
        assert_eq!((&counts["assignedSeats"], &counts["availableSeats"]), (&json!(501), &json!(0)));
        let seated: std::collections::BTreeSet<String> = rule_seats(&admin, license)
            .await
            .into_iter()
            .filter(|(_, b)| b.starts_with("group:"))
            .map(|(e, _)| e)
            .collect();
        let first: std::collections::BTreeSet<String> =
            ids[..500].iter().map(|i| address(i)).collect();
        assert_eq!(seated, first, "the first 500 given hold the seats");
        let expected: Vec<String> = ids[500..].iter().map(|i| address(i)).collect();
        assert_eq!(
            waiting_list(&admin, license).await,
            expected,
            "the other 500 wait, in the order given"
        );
    }
}

#[tokio::test]
async fn a_deactivated_member_stops_waiting_and_waits_again_when_active() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    // 2 seats: the buyer's and one free.
    let license = licence(&app, CUSTOMER, 2).await;
    let admin = Client::admin(&app, CUSTOMER);
    let ids = people(&app, CUSTOMER, "d", 3).await;
    let team = group(&app, &token, "Team", &ids).await;
    assert_eq!(link(&admin, &license, &team, None).await.status, 200);
    settle(&app, &license).await;
    assert_eq!(waiting_list(&admin, &license).await, [address(&ids[1]), address(&ids[2])]);
    let active = |on: bool| patch(json!([{"op": "replace", "path": "active", "value": on}]));
    let user = format!("/scim/v2/Users/{}", ids[1]);
    assert_eq!(scim_with(&app, "PATCH", &user, t, Some(active(false))).await.status, 200);
    settle(&app, &license).await;
    assert_eq!(waiting_list(&admin, &license).await, [address(&ids[2])]);
    // The seat holder is deactivated: their seat goes to the one still waiting.
    let holder = format!("/scim/v2/Users/{}", ids[0]);
    assert_eq!(scim_with(&app, "PATCH", &holder, t, Some(active(false))).await.status, 200);
    settle(&app, &license).await;
    assert!(waiting_list(&admin, &license).await.is_empty());
    assert_eq!(admin.assignment(&license, &address(&ids[2])).await.unwrap()["status"], "active");
    // Active again: they wait again, last.
    assert_eq!(scim_with(&app, "PATCH", &user, t, Some(active(true))).await.status, 200);
    settle(&app, &license).await;
    assert_eq!(waiting_list(&admin, &license).await, [address(&ids[1])]);
}

#[tokio::test]
async fn seats_a_lifecycle_event_frees_go_to_the_waiting_within_the_minutes_run_and_the_buyer_hears_once_a_day()
 {
    let (app, _, token) = with_scim_token().await;
    let buyer = unique("buyer");
    let order = format!("ORD-{}", ulid::Ulid::new());
    let event = purchase(&order, CUSTOMER, &buyer, 2, days_from_today(-30), days_from_today(300));
    let license = provision(&app, event).await.expect("provision").license_id;
    let admin = Client::admin(&app, CUSTOMER);
    let ids = people(&app, CUSTOMER, "q", 3).await;
    let team = group(&app, &token, "Team", &ids).await;
    assert_eq!(link(&admin, &license, &team, None).await.status, 200);
    assert_eq!(waiting_list(&admin, &license).await, [address(&ids[1]), address(&ids[2])]);

    // Two people started waiting: the buyer hears once that day.
    let entries = admin.all_history(&license, "", 100).await;
    let records: Vec<Value> = entries
        .iter()
        .filter(|e| e["action"] == "waiting.added")
        .enumerate()
        .map(|(i, e)| {
            let image = json!({"type": {"S": "HistoryEntry"}, "customerId": {"S": CUSTOMER},
                "licenseId": {"S": license}, "id": {"S": format!("e{i}")},
                "action": {"S": "waiting.added"}, "at": {"S": e["at"]}, "email": {"S": e["email"]}});
            json!({"eventID": format!("w{i}"), "eventName": "INSERT",
                   "dynamodb": {"SequenceNumber": format!("{i}"), "NewImage": image}})
        })
        .collect();
    assert_eq!(records.len(), 2);
    let n = notifier(&app, ses_endpoint());
    assert_eq!(n.handle(&json!({"Records": records})).await, json!({"batchItemFailures": []}));
    let told: Vec<Value> = mails_to(&buyer)
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap().starts_with("People are waiting for a seat"))
        .collect();
    assert_eq!(told.len(), 1, "one mail a licence a day");
    assert!(told[0]["body"]["text"].as_str().unwrap().contains("2 people are waiting"));

    // A higher quantity frees a seat; the minute's run gives it to the first who waits.
    deliver(&app, quantity_change(&order, "CHG-1", 3)).await.expect("applied");
    let swept = n.every_minute(chrono::Utc::now()).await.unwrap();
    assert_eq!(swept.settled, 1, "{swept:?}");
    assert_eq!(waiting_list(&admin, &license).await, [address(&ids[2])]);
    let seated = admin.assignment(&license, &address(&ids[1])).await.unwrap();
    assert_eq!(seated["assignedBy"], json!(format!("group:{team}")));
}

#[tokio::test]
async fn a_rule_seat_that_does_not_follow_a_renewal_puts_its_person_on_the_waiting_list_when_it_ends()
 {
    let (app, _, token) = with_scim_token().await;
    // 3 seats until the end of the term: the buyer's and two for the group; the renewal has 2.
    let order = format!("ORD-{}", ulid::Ulid::new());
    let end = days_from_today(30);
    let event = purchase(&order, CUSTOMER, &unique("buyer"), 3, days_from_today(-30), end);
    let license = provision(&app, event).await.expect("provision").license_id;
    let admin = Client::admin(&app, CUSTOMER);
    let ids = people(&app, CUSTOMER, "n", 2).await;
    let team = group(&app, &token, "Team", &ids).await;
    assert_eq!(link(&admin, &license, &team, None).await.status, 200);
    let next = end.succ_opt().unwrap();
    let renewed = renewal(&order, "REN-1", next, next + chrono::Duration::days(364), Some(2));
    deliver(&app, renewed).await.expect("renewed");
    settle(&app, &license).await;
    // Until the old term ends, both hold their seats and nobody waits.
    assert!(waiting_list(&admin, &license).await.is_empty());
    let stays: Vec<String> = admin
        .all_assignments(&license)
        .await
        .into_iter()
        .filter(|a| a["validUntil"] != json!(end.to_string()) && a["status"] != "revoked")
        .filter_map(|a| a["email"].as_str().map(String::from))
        .collect();
    let left = if stays.contains(&address(&ids[0])) { address(&ids[1]) } else { address(&ids[0]) };
    assert!(!stays.contains(&left), "one of the two rule seats ends with the old term: {stays:?}");

    // The day after: the minute's run puts that person on the waiting list.
    let later = app.later(86_400 * 31);
    let swept = notifier(&later, ses_endpoint()).every_minute(later.now()).await.unwrap();
    assert_eq!(swept.settled, 1, "{swept:?}");
    let later_admin = Client::admin(&later, CUSTOMER);
    assert_eq!(waiting_list(&later_admin, &license).await, std::slice::from_ref(&left));
    // Once: the licence is no longer on the minute's list.
    let again = notifier(&later, ses_endpoint()).every_minute(later.now()).await.unwrap();
    assert_eq!(again.settled, 1, "it still has someone waiting: {again:?}");
    assert_eq!(waiting_list(&later_admin, &license).await, [left]);
}

#[tokio::test]
async fn two_groups_cover_a_person_and_a_reclaimed_rule_seat_takes_its_person_out_of_the_rules() {
    let (app, _, token) = with_scim_token().await;
    let t = Some(token.as_str());
    let license = licence(&app, CUSTOMER, 10).await;
    let admin = Client::admin(&app, CUSTOMER);
    let ids = people(&app, CUSTOMER, "t", 2).await;
    let first = group(&app, &token, "First", &ids[..1]).await;
    let second = group(&app, &token, "Second", &ids).await;
    assert_eq!(link(&admin, &license, &first, None).await.status, 200);
    assert_eq!(link(&admin, &license, &second, None).await.status, 200);
    let shared = address(&ids[0]);
    let seat = admin.assignment(&license, &shared).await.unwrap();
    assert_eq!(
        seat["assignedBy"],
        json!(format!("group:{first}")),
        "the one linked first is named"
    );
    // Leaving the first keeps the seat: the second still covers them.
    let leave =
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])}]));
    assert_eq!(
        scim_with(&app, "PATCH", &format!("{GROUPS}/{first}"), t, Some(leave)).await.status,
        200
    );
    settle(&app, &license).await;
    assert_eq!(admin.assignment(&license, &shared).await.unwrap()["status"], "active");

    // The daily run reclaims the idle rule seat of the other: out of the rules, though
    // the second group covers them and seats are free.
    let other = address(&ids[1]);
    let body = json!({"enabled": true, "inactiveDays": 14, "graceDays": 7});
    let set = admin.send("PUT", &format!("/licenses/{license}/reclaim"), Some(body)).await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let n = notifier(&app, ses_endpoint());
    assert!(n.remind(days_from_today(14)).await.unwrap().reclaim.warned >= 1);
    assert!(n.remind(days_from_today(21)).await.unwrap().reclaim.revoked >= 1);
    assert_eq!(admin.assignment(&license, &other).await.unwrap()["status"], "revoked");
    let join = patch(json!([{"op": "add", "path": "members", "value": members(&ids[..1])}]));
    assert_eq!(
        scim_with(&app, "PATCH", &format!("{GROUPS}/{first}"), t, Some(join)).await.status,
        200
    );
    settle(&app, &license).await;
    assert_eq!(admin.assignment(&license, &other).await.unwrap()["status"], "revoked", "still out");
    assert!(waiting_list(&admin, &license).await.is_empty());
}
