//! The reclaim policy of a licence and an assignment's exemption (v3):
//! `PUT /licenses/{id}/reclaim` with its bounds, shown on the licence and in
//! its history; `PATCH …/assignments/{email}` with `reclaimExempt`.

use licensing_tests::*;
use serde_json::{Value, json};

async fn put(client: &Client<'_>, id: &str, body: Value) -> Answer {
    client.send("PUT", &format!("/licenses/{id}/reclaim"), Some(body)).await
}

/// The newest history entries' actions of licence `id`.
async fn actions(client: &Client<'_>, id: &str) -> Vec<String> {
    let history = client.history(id, "").await.body;
    strings_of(&history["entries"], "action").into_iter().map(str::to_string).collect()
}

#[tokio::test]
async fn a_policy_is_set_shown_and_recorded_and_asking_again_writes_nothing() {
    let (app, id) = licensed(5).await;
    let admin = Client::admin(&app, CUSTOMER);
    assert_eq!(admin.license(&id).await.body["reclaim"], json!({"enabled": false}));
    let on = put(&admin, &id, json!({"enabled": true})).await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    let policy =
        json!({"enabled": true, "inactiveDays": 60, "graceDays": 14, "enabledOn": today()});
    assert_eq!(on.body["reclaim"], policy);
    assert_eq!(admin.license(&id).await.body["reclaim"], policy);
    let history = admin.history(&id, "limit=1").await.body;
    let entry = &history["entries"][0];
    assert_eq!(entry["action"], "license.reclaim-changed");
    assert_eq!((&entry["before"], &entry["after"]), (&json!({"enabled": false}), &policy));
    assert_eq!(entry["actor"], format!("admin@{CUSTOMER}.example.com"));
    let before = actions(&admin, &id).await;
    assert_eq!(put(&admin, &id, json!({"enabled": true, "inactiveDays": 60})).await.status, 200);
    assert_eq!(actions(&admin, &id).await, before, "the policy in force: nothing written");
    // New numbers keep the day it was enabled (a day later); disabling forgets it.
    let later = app.later(86_400);
    let admin_later = Client::admin(&later, CUSTOMER);
    let changed =
        put(&admin_later, &id, json!({"enabled": true, "inactiveDays": 30.0, "graceDays": 7}))
            .await;
    assert_eq!(
        changed.body["reclaim"],
        json!({"enabled": true, "inactiveDays": 30, "graceDays": 7, "enabledOn": today()})
    );
    let off =
        put(&admin_later, &id, json!({"enabled": false, "inactiveDays": 30, "graceDays": null}))
            .await;
    assert_eq!(off.body["reclaim"], json!({"enabled": false}));
    assert_eq!(actions(&admin, &id).await.len(), before.len() + 2);
}

#[tokio::test]
async fn a_policy_out_of_bounds_or_from_someone_else_is_refused() {
    let (app, id) = licensed(5).await;
    let admin = Client::admin(&app, CUSTOMER);
    for (body, field) in [
        (json!({"enabled": true, "inactiveDays": 13}), "inactiveDays"),
        (json!({"enabled": true, "inactiveDays": 366}), "inactiveDays"),
        (json!({"enabled": true, "graceDays": 0}), "graceDays"),
        (json!({"enabled": true, "graceDays": 61}), "graceDays"),
        (json!({"enabled": true, "graceDays": 7.5}), "graceDays"),
        (json!({"inactiveDays": 30}), "enabled"),
        (json!({"enabled": "yes"}), "enabled"),
        (json!({"enabled": true, "quantity": 9}), "quantity"),
    ] {
        let refused = put(&admin, &id, body.clone()).await;
        assert_eq!((refused.status, refused.slug()), (400, "validation-error"), "{body}");
        assert_eq!(refused.body["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(admin.license(&id).await.body["reclaim"], json!({"enabled": false}));
    let user = Client::user(&app, "anna@example.com", CUSTOMER);
    assert_eq!(put(&user, &id, json!({"enabled": true})).await.status, 403);
    let other = Client::admin(&app, OTHER_CUSTOMER);
    assert_eq!(put(&other, &id, json!({"enabled": true})).await.slug(), "license-not-found");
}

#[tokio::test]
async fn an_assignment_is_exempted_without_touching_its_period_or_the_seats() {
    let (app, id) = licensed(5).await;
    let admin = Client::admin(&app, CUSTOMER);
    assert_eq!(admin.assign(&id, "anna@example.com").await.status, 201);
    let seat = admin.assignment(&id, "anna@example.com").await.unwrap();
    assert_eq!(seat["reclaimExempt"], false);
    let seats_before = admin.license(&id).await.body;
    let exempt = admin.change(&id, "anna@example.com", json!({"reclaimExempt": true})).await;
    assert_eq!(exempt.status, 200, "{:?}", exempt.body);
    assert_eq!(exempt.body["reclaimExempt"], true);
    assert_eq!(
        (&exempt.body["validFrom"], &exempt.body["validUntil"]),
        (&seat["validFrom"], &seat["validUntil"])
    );
    assert_eq!(admin.license(&id).await.body, seats_before, "no seat changes, no version shown");
    let entry = &admin.history(&id, "limit=1").await.body["entries"][0];
    assert_eq!(entry["action"], "assignment.changed");
    assert_eq!(
        (entry["before"].get("reclaimExempt"), &entry["after"]["reclaimExempt"]),
        (None, &json!(true))
    );
    // Again: nothing changes, nothing is written.
    let before = actions(&admin, &id).await;
    assert_eq!(
        admin.change(&id, "anna@example.com", json!({"reclaimExempt": true})).await.status,
        200
    );
    assert_eq!(actions(&admin, &id).await, before);
    // With a new period in the same request; then back.
    let until = days_from_today(40).to_string();
    let both = admin
        .change(&id, "anna@example.com", json!({"reclaimExempt": false, "validUntil": until}))
        .await;
    assert_eq!(
        (both.body["reclaimExempt"].as_bool(), both.body["validUntil"].as_str()),
        (Some(false), Some(until.as_str()))
    );
    let wrong = admin.change(&id, "anna@example.com", json!({"reclaimExempt": "yes"})).await;
    assert_eq!(
        (wrong.status, wrong.body["errors"][0]["field"].as_str()),
        (400, Some("reclaimExempt"))
    );
    assert_eq!(admin.revoke(&id, "anna@example.com").await.status, 200);
    let revoked = admin.change(&id, "anna@example.com", json!({"reclaimExempt": true})).await;
    assert_eq!(revoked.slug(), "assignment-revoked");
}

/// Licence `id`'s preview, as its admin asks on `app`'s day.
async fn preview(app: &licensing::App, id: &str) -> Value {
    let answer = Client::admin(app, CUSTOMER)
        .send("GET", &format!("/licenses/{id}/reclaim/preview"), None)
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

fn emails_in(list: &Value) -> Vec<&str> {
    strings_of(list, "email")
}

#[tokio::test]
async fn the_preview_shows_who_would_be_warned_and_who_would_lose_the_seat_and_writes_nothing() {
    let (app, id) = licensed(10).await;
    let admin = Client::admin(&app, CUSTOMER);
    let product = admin.license(&id).await.body["productId"].as_str().unwrap().to_string();
    for who in ["anna@example.com", "bob@example.com", "carl@example.com"] {
        assert_eq!(admin.assign(&id, who).await.status, 201);
    }
    assert_eq!(preview(&app, &id).await, json!({"warn": [], "revoke": []}), "the policy is off");
    assert_eq!(
        put(&admin, &id, json!({"enabled": true, "inactiveDays": 14, "graceDays": 7})).await.status,
        200
    );
    assert_eq!(
        admin.change(&id, "carl@example.com", json!({"reclaimExempt": true})).await.status,
        200
    );
    let day = |n: i64| app.later(n * 86_400);
    assert_eq!(preview(&day(13), &id).await["warn"], json!([]), "13 days: not idle yet");
    // The buyer, Anna and Bob are idle after 14 days; Carl is exempt.
    let buyer = format!("buyer@{CUSTOMER}.example.com");
    let idle = preview(&day(14), &id).await;
    assert_eq!(emails_in(&idle["warn"]), ["anna@example.com", "bob@example.com", buyer.as_str()]);
    // Bob signs in to the product on day 10: idle only from day 24.
    let day10 = day(10);
    let bob = Client::user(&day10, "bob@example.com", CUSTOMER);
    assert_eq!(
        bob.send("GET", &format!("/me/entitlements/{product}"), None).await.body["entitled"],
        true
    );
    let warn = preview(&day(14), &id).await["warn"].clone();
    assert_eq!(emails_in(&warn), ["anna@example.com", buyer.as_str()]);
    assert_eq!(warn[0], json!({"email": "anna@example.com", "lastActiveOn": null}));
    // Anna was warned on day 14 (as the run will record it): her seat goes after 7 days.
    let warned_at =
        (chrono::Utc::now() + chrono::Duration::days(14)).format("%Y-%m-%dT07:00:00Z").to_string();
    dynamodb_client()
        .update_item()
        .table_name(app.store.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("CUSTOMER#{CUSTOMER}")))
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ASSIGNMENT#{id}#anna@example.com")),
        )
        .update_expression("SET reclaimWarnedAt = :at")
        .expression_attribute_values(
            ":at",
            aws_sdk_dynamodb::types::AttributeValue::S(warned_at.clone()),
        )
        .send()
        .await
        .unwrap();
    let waiting = preview(&day(20), &id).await;
    assert!(
        !emails_in(&waiting["warn"]).contains(&"anna@example.com")
            && waiting["revoke"] == json!([])
    );
    let before = admin.all_assignments(&id).await;
    let due = preview(&day(21), &id).await;
    assert_eq!(
        due["revoke"],
        json!([{"email": "anna@example.com", "lastActiveOn": null, "warnedAt": warned_at}])
    );
    assert_eq!(admin.all_assignments(&id).await, before, "a preview writes nothing");
    assert_eq!(
        Client::user(&app, "anna@example.com", CUSTOMER)
            .send("GET", &format!("/licenses/{id}/reclaim/preview"), None)
            .await
            .status,
        403
    );
    let theirs = Client::admin(&app, OTHER_CUSTOMER)
        .send("GET", &format!("/licenses/{id}/reclaim/preview"), None)
        .await;
    assert_eq!(theirs.slug(), "license-not-found");
}
