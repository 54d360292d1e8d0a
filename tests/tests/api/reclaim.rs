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
