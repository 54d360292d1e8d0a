//! `GET /licenses/{id}/history`: every change, newest first, with its actor,
//! paged, by address, isolated per customer; dry runs and replays record
//! nothing.

use licensing_tests::*;
use serde_json::{Value, json};

fn actions(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|e| e["action"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn every_change_is_recorded_newest_first_with_who_did_it() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    let admin_name = "admin@cust-1001.example.com";
    assert_eq!(a.assign(&id, "anna@example.com").await.status, 201);
    let until = days_from_today(100).to_string();
    assert_eq!(a.change(&id, "anna@example.com", json!({"validUntil": until})).await.status, 200);
    assert_eq!(a.revoke(&id, "anna@example.com").await.status, 200);
    // Reassigning the revoked address keeps the old assignment's entries.
    assert_eq!(a.assign(&id, "anna@example.com").await.status, 201);

    let all = a.all_history(&id, "", 100).await;
    assert_eq!(
        actions(&all),
        [
            "assignment.created",
            "assignment.revoked",
            "assignment.changed",
            "assignment.created",
            "assignment.created",
            "license.purchased",
        ]
    );
    let actors: Vec<&str> = all.iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors[..4], [admin_name; 4]);
    assert_eq!(actors[4..], ["system", "system"], "the buyer's seat and the purchase");
    let changed = &all[2];
    assert_eq!(changed["email"], "anna@example.com");
    assert_eq!(changed["before"]["validUntil"], days_from_today(365).to_string());
    assert_eq!(changed["after"]["validUntil"], until);
    assert_eq!(all[1]["before"]["status"], "active");
    assert_eq!(all[1]["after"]["status"], "revoked");
    assert_eq!(all[5]["email"], Value::Null);
    assert_eq!(
        all[5]["after"]["quantities"],
        json!([{"from": days_from_today(-30), "quantity": 5}])
    );

    // Paged one by one: the same entries in the same order.
    assert_eq!(a.all_history(&id, "", 1).await, all);
    // One address: its entries only, also those of its revoked assignment.
    let anna = a.all_history(&id, "email=Anna%40Example.com", 2).await;
    assert_eq!(anna, all[..4].to_vec());

    // A resend that the cooldown allows is recorded; one it refuses is not.
    let buyer = format!("buyer%40{CUSTOMER}.example.com");
    assert_eq!(a.resend(&id, &buyer).await.status, 202);
    assert_eq!(a.resend(&id, &buyer).await.status, 429);
    let now = a.all_history(&id, "", 100).await;
    assert_eq!(now.len(), all.len() + 1);
    assert_eq!(now[0]["action"], "invitation.resent");
    assert_eq!(now[0]["before"], json!({"status": "none"}));
    assert_eq!(now[0]["after"], json!({"status": "pending"}));
}

#[tokio::test]
async fn a_dry_run_a_refusal_and_a_replay_record_nothing() {
    let (app, id) = licensed(2).await;
    let a = Client::admin(&app, CUSTOMER);
    let count = || async { a.all_history(&id, "", 100).await.len() };
    let before = count().await;
    let dry = a.assign_body(&id, json!({"emails": "x@example.com", "dryRun": true})).await;
    assert_eq!(dry.status, 200, "{:?}", dry.body);
    assert_eq!(a.assign(&id, "x@example.com, y@example.com").await.status, 409, "one seat left");
    assert_eq!(count().await, before);
    let body = json!({"emails": "x@example.com"});
    assert_eq!(a.assign_with_key(&id, "k1", &body).await.status, 201);
    assert_eq!(count().await, before + 2, "the assignment, and (v3) the last seat taken");
    assert_eq!(a.assign_with_key(&id, "k1", &body).await.status, 201);
    assert_eq!(count().await, before + 2, "the replay records nothing");
}

#[tokio::test]
async fn a_bulk_assign_records_each_address_once() {
    let (app, id) = licensed(200).await;
    let a = Client::admin(&app, CUSTOMER);
    let emails = numbered("u", 120, 3);
    assert_eq!(a.assign(&id, json!(emails)).await.status, 201);
    let all = a.all_history(&id, "", 100).await;
    let created: Vec<&Value> = all.iter().filter(|e| e["action"] == "assignment.created").collect();
    assert_eq!(created.len(), 121, "120 and the buyer's seat");
    let mut seen: Vec<&str> = created.iter().map(|e| e["email"].as_str().unwrap()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 121);
    let one = a.all_history(&id, "email=u042%40example.com", 10).await;
    assert_eq!(actions(&one), ["assignment.created"]);
}

#[tokio::test]
async fn the_history_is_the_admins_of_its_customer_only() {
    let (app, id) = licensed(2).await;
    let other = Client::admin(&app, OTHER_CUSTOMER).history(&id, "").await;
    assert_eq!((other.status, other.slug()), (404, "license-not-found"));
    let user = Client::user(&app, "anna@example.com", CUSTOMER).history(&id, "").await;
    assert_eq!(user.status, 403);
    let a = Client::admin(&app, CUSTOMER);
    let bad = a.history(&id, "limit=0&cursor=nope!&email=not-an-address").await;
    assert_eq!(bad.status, 400);
    let fields = strings_of(&bad.body["errors"], "field");
    assert_eq!(fields, ["email", "limit", "cursor"]);
    // A cursor of the assignment list is no history cursor.
    let page = a.assignments(&id, "limit=1").await;
    let foreign = page.body["nextCursor"].as_str().map(String::from);
    if let Some(cursor) = foreign {
        assert_eq!(a.history(&id, &format!("cursor={cursor}")).await.status, 400);
    }
}
