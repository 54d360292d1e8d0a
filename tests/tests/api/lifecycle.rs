//! A licence's life after purchase through `provision`: renewal, seat
//! changes, cancellation; each applied once, invalid ones writing nothing,
//! and what admins see and may do afterwards.

use licensing::error::EventError;
use licensing_tests::*;
use serde_json::{Value, json};

use super::seats;

/// A fresh table with a licence that started a month ago and ends in 30
/// days, with `quantity` seats (the buyer holds one); (app, order, licence id).
async fn ending_soon(quantity: u32) -> (licensing::App, String, String) {
    let app = fresh_app().await;
    let (order, id) =
        ordered(&app, CUSTOMER, quantity, days_from_today(-30), days_from_today(30)).await;
    (app, order, id)
}

/// What an admin can read of a licence: the licence and its assignments.
async fn snapshot(app: &licensing::App, id: &str) -> (Value, Vec<Value>, usize) {
    let a = Client::admin(app, CUSTOMER);
    let history = a.all_history(id, "", 100).await.len();
    (a.license(id).await.body, a.all_assignments(id).await, history)
}

#[tokio::test]
async fn a_renewal_moves_default_periods_to_the_new_end_once() {
    let (app, order_id, id) = ending_soon(5).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, "anna@example.com, bob@example.com").await.status, 201);
    let short = days_from_today(10).to_string();
    let body = json!({"emails": "carl@example.com", "validUntil": short});
    assert_eq!(a.assign_body(&id, body).await.status, 201);
    assert_eq!(a.revoke(&id, "bob@example.com").await.status, 200);

    let (start, end) = (days_from_today(31), days_from_today(395));
    let event = renewal(&order_id, "REN-1", start, end, None);
    let result = deliver(&app, event.clone()).await.unwrap();
    assert_eq!(result["followed"], 2, "the buyer and anna: {result}");
    assert_eq!(result["notFollowed"], 0);
    assert_eq!(deliver(&app, event).await.unwrap(), result, "a redelivery answers the same");

    let license = a.license(&id).await.body;
    assert_eq!(license["term"], json!({"start": days_from_today(-30), "end": end}));
    // v3: the term in force today stays current, with its invoice; the
    // renewal is the next term until its first day.
    let bought = json!({"start": days_from_today(-30), "end": days_from_today(30)});
    assert_eq!(license["currentTerm"], bought);
    assert_ne!(license["invoiceNumber"], "INV-REN-1");
    let next = json!({"start": start, "end": end, "invoiceNumber": "INV-REN-1", "quantity": 5});
    assert_eq!(license["nextTerm"], next);
    let until = |email: &str| {
        let email = email.to_string();
        let a = &a;
        let id = &id;
        async move { a.assignment(id, &email).await.unwrap()["validUntil"].clone() }
    };
    assert_eq!(until("anna@example.com").await, json!(end));
    assert_eq!(until("carl@example.com").await, json!(short), "a custom end stays");
    assert_eq!(until("bob@example.com").await, json!(days_from_today(30)), "revoked stays");
    // Assignable up to the new end now.
    let later = json!({"emails": "dora@example.com", "validUntil": days_from_today(300)});
    assert_eq!(a.assign_body(&id, later).await.status, 201);

    let history = a.all_history(&id, "", 100).await;
    let renewed = history.iter().find(|e| e["action"] == "license.renewed").unwrap();
    assert_eq!(renewed["actor"], "system");
    assert_eq!(renewed["before"]["term"]["end"], json!(days_from_today(30)));
    assert_eq!(renewed["after"]["currentTerm"], bought);
    assert_eq!(renewed["after"]["nextTerm"], next);
    let anna = a.all_history(&id, "email=anna%40example.com", 10).await;
    assert_eq!(anna[0]["action"], "assignment.changed");
    assert_eq!(anna[0]["actor"], "system");
    assert_eq!(anna[0]["after"]["validUntil"], json!(end));
    assert_eq!(history.iter().filter(|e| e["action"] == "license.renewed").count(), 1);
}

#[tokio::test]
async fn a_renewal_with_fewer_seats_keeps_the_earliest_assigned_going() {
    let (app, order_id, id) = ending_soon(4).await;
    let a = Client::admin(&app, CUSTOMER);
    for email in ["first@example.com", "second@example.com", "third@example.com"] {
        assert_eq!(a.assign(&id, email).await.status, 201);
    }
    let (start, end) = (days_from_today(31), days_from_today(395));
    let result = deliver(&app, renewal(&order_id, "REN-2", start, end, Some(2))).await.unwrap();
    assert_eq!((result["followed"].as_u64(), result["notFollowed"].as_u64()), (Some(2), Some(2)));
    let license = a.license(&id).await.body;
    assert_eq!(license["quantity"], 4, "4 until the renewed term starts");
    assert_eq!(seats(&license), (4, 0, 4));
    let listed = a.all_assignments(&id).await;
    let ends: Vec<(&str, &str)> = listed
        .iter()
        .map(|x| (x["email"].as_str().unwrap(), x["validUntil"].as_str().unwrap()))
        .collect();
    let (old, new) = (days_from_today(30).to_string(), end.to_string());
    assert_eq!(
        ends,
        [
            ("buyer@cust-1001.example.com", new.as_str()),
            ("first@example.com", new.as_str()),
            ("second@example.com", old.as_str()),
            ("third@example.com", old.as_str()),
        ]
    );
    // Two seats in the renewed term, both taken.
    let extend = a.change(&id, "second@example.com", json!({"validUntil": end})).await;
    assert_eq!((extend.status, extend.slug()), (409, "insufficient-seats"));
}

#[tokio::test]
async fn fewer_seats_revoke_nobody_and_refuse_what_adds_a_seat() {
    let (app, order_id, id) = ending_soon(4).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, "a@example.com; b@example.com; c@example.com").await.status, 201);
    let result = deliver(&app, quantity_change(&order_id, "CHG-1", 2)).await.unwrap();
    assert_eq!(result["overAssignedSeats"], 2, "{result}");
    let license = a.license(&id).await.body;
    assert_eq!(
        (license["quantity"].as_u64(), license["overAssignedSeats"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(license["availableSeats"], 0);
    assert_eq!(a.all_assignments(&id).await.len(), 4, "nobody revoked");
    let refused = a.assign(&id, "d@example.com").await;
    assert_eq!((refused.status, refused.slug()), (409, "insufficient-seats"));
    // Shortening adds no day: allowed; extending it again is not.
    let shorter = days_from_today(5);
    assert_eq!(a.change(&id, "a@example.com", json!({"validUntil": shorter})).await.status, 200);
    let back = a.change(&id, "a@example.com", json!({"validUntil": days_from_today(30)})).await;
    assert_eq!(back.status, 409);
    // Revoking their way out.
    assert_eq!(a.revoke(&id, "b@example.com").await.status, 200);
    assert_eq!(a.license(&id).await.body["overAssignedSeats"], 1);
    assert_eq!(a.revoke(&id, "c@example.com").await.status, 200);
    let license = a.license(&id).await.body;
    assert_eq!(license["overAssignedSeats"], 0);
    assert_eq!(a.assign(&id, "d@example.com").await.status, 409, "a is still on until day 5");
    let entry = a.history(&id, "limit=100").await.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "license.quantity-changed")
        .cloned()
        .unwrap();
    assert_eq!(entry["after"]["quantities"][1], json!({"from": today(), "quantity": 2}));
}

#[tokio::test]
async fn a_cancellation_clips_running_periods_and_revokes_later_ones() {
    let app = fresh_app().await;
    let (order_id, id) =
        ordered(&app, CUSTOMER, 5, days_from_today(-30), days_from_today(300)).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, "now@example.com").await.status, 201);
    let later = json!({"emails": "later@example.com", "validFrom": days_from_today(100)});
    assert_eq!(a.assign_body(&id, later).await.status, 201);
    let last_day = days_from_today(50);
    let result = deliver(&app, cancellation(&order_id, "CAN-1", last_day)).await.unwrap();
    assert_eq!((result["clipped"].as_u64(), result["revoked"].as_u64()), (Some(2), Some(1)));
    let license = a.license(&id).await.body;
    assert_eq!(license["cancelled"], true);
    assert_eq!(license["term"]["end"], json!(last_day));
    let now = a.assignment(&id, "now@example.com").await.unwrap();
    assert_eq!(now["validUntil"], json!(last_day));
    let gone = a.assignment(&id, "later@example.com").await.unwrap();
    assert_eq!(
        (gone["status"].as_str(), gone["revokedBy"].as_str()),
        (Some("revoked"), Some("system"))
    );
    assert_eq!(gone["invitation"], json!({"status": "failed", "error": "not-sent"}));
    let beyond = a.change(&id, "now@example.com", json!({"validUntil": days_from_today(60)})).await;
    assert_eq!(beyond.status, 400, "periods lie inside the term");
    let renewed =
        deliver(&app, renewal(&order_id, "REN-9", days_from_today(51), days_from_today(400), None));
    assert!(matches!(renewed.await, Err(EventError::Refused(_))), "a cancelled licence");
}

#[tokio::test]
async fn invalid_and_refused_events_fail_by_kind_and_change_nothing() {
    let (app, order_id, id) = ending_soon(3).await;
    let before = snapshot(&app, &id).await;
    let first = |event: Value| sequenced(event, 1);
    let backwards =
        first(renewal(&order_id, "REN-2", days_from_today(31), days_from_today(20), None));
    let mut no_quantity = first(quantity_change(&order_id, "CHG-2", 1));
    no_quantity["detail"]["quantity"] = json!(0);
    let mut unknown_field = first(cancellation(&order_id, "CAN-1", days_from_today(3)));
    unknown_field["detail"]["reason"] = json!("x");
    let mut unnumbered = first(quantity_change(&order_id, "CHG-3", 2));
    unnumbered["detail"].as_object_mut().unwrap().remove("sequence");
    let mut foreign = first(quantity_change(&order_id, "CHG-4", 2));
    foreign["source"] = json!("someone.else");
    for event in [backwards, no_quantity, unknown_field, unnumbered, foreign] {
        let result = deliver(&app, event.clone()).await;
        assert!(matches!(result, Err(EventError::Invalid(_))), "{event}: {result:?}");
    }
    // Well-formed and in order, but not for this licence: refused, and the
    // number is used up, so the events after it are not held back.
    let gap = renewal(&order_id, "REN-1", days_from_today(32), days_from_today(400), None);
    let gap = sequenced(gap, 1);
    assert!(matches!(deliver(&app, gap.clone()).await, Err(EventError::Refused(_))));
    assert!(matches!(deliver(&app, gap).await, Err(EventError::Refused(_))), "redelivered");
    let before_start = sequenced(cancellation(&order_id, "CAN-2", days_from_today(-31)), 2);
    assert!(matches!(deliver(&app, before_start).await, Err(EventError::Refused(_))));
    assert_eq!(snapshot(&app, &id).await, before);
    let in_turn = sequenced(quantity_change(&order_id, "CHG-5", 4), 3);
    assert_eq!(deliver(&app, in_turn).await.unwrap()["quantity"], 4);
}

/// The review's case: the order system issued a seat change (to 6), then a
/// renewal with 20 seats; they arrive the other way round. v2 applied the
/// old change last and the renewed term had 6 seats.
#[tokio::test]
async fn lifecycle_events_apply_in_their_order_whatever_order_they_arrive_in() {
    let (app, order_id, id) = ending_soon(10).await;
    let change = sequenced(quantity_change(&order_id, "CHG-1", 6), 1);
    let (start, end) = (days_from_today(31), days_from_today(395));
    let renewed = sequenced(renewal(&order_id, "REN-1", start, end, Some(20)), 2);
    let parked = deliver(&app, renewed.clone()).await.unwrap();
    assert_eq!(parked, json!({"parked": true, "waitingFor": 1}));
    assert_eq!(deliver(&app, renewed.clone()).await.unwrap(), parked, "redelivered while parked");
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.license(&id).await.body["nextTerm"], Value::Null, "nothing applied yet");
    assert_eq!(deliver(&app, change.clone()).await.unwrap()["quantity"], 6);
    // The renewal came right after its predecessor, with its own quantity.
    let license = a.license(&id).await.body;
    assert_eq!(license["quantity"], 6);
    assert_eq!(license["nextTerm"]["quantity"], 20, "{license}");
    assert_eq!(license["term"]["end"], json!(end));
    let again = deliver(&app, renewed).await.unwrap();
    assert_eq!((again["renewalId"].as_str(), again["followed"].as_u64()), (Some("REN-1"), Some(1)));
    // Stale: a number applied under another id, or an id under another number.
    let other = sequenced(quantity_change(&order_id, "CHG-9", 3), 1);
    assert!(matches!(deliver(&app, other).await, Err(EventError::Stale(_))));
    let renumbered = sequenced(change, 3);
    assert!(matches!(deliver(&app, renumbered).await, Err(EventError::Stale(_))));
    assert_eq!(a.license(&id).await.body["nextTerm"]["quantity"], 20);
}

#[tokio::test]
async fn an_event_before_its_purchase_waits_for_it() {
    let app = fresh_app().await;
    let order_id = format!("ORD-{}", ulid::Ulid::new());
    let change = sequenced(quantity_change(&order_id, "CHG-1", 7), 1);
    let parked = deliver(&app, change).await.unwrap();
    assert_eq!(parked, json!({"parked": true, "waitingFor": 0}));
    let buyer = format!("buyer@{CUSTOMER}.example.com");
    let bought =
        purchase(&order_id, CUSTOMER, &buyer, 3, days_from_today(-30), days_from_today(30));
    let id = provision_event(&app, bought).await;
    let license = Client::admin(&app, CUSTOMER).license(&id).await.body;
    assert_eq!(license["quantity"], 7, "applied right after the purchase: {license}");
}

#[tokio::test]
async fn a_seat_change_holds_from_the_day_it_was_issued() {
    let (app, order_id, id) = ending_soon(3).await;
    let mut change = sequenced(quantity_change(&order_id, "CHG-1", 5), 1);
    let issued = chrono::Utc::now() - chrono::Days::new(10);
    change["time"] = json!(issued);
    deliver(&app, change).await.unwrap();
    let usage = Client::admin(&app, CUSTOMER).usage(&id).await.body;
    let steps = usage["steps"].as_array().unwrap();
    let from = |q: u64| steps.iter().find(|s| s["quantity"] == q).map(|s| s["from"].clone());
    assert_eq!(from(5), Some(json!(issued.date_naive())), "{usage}");
}

#[tokio::test]
async fn a_renewal_of_many_assignments_is_whole_for_readers_and_finished_by_a_retry() {
    let _heavy = HEAVY_WRITES.acquire().await.unwrap();
    let (app, order_id, id) = ending_soon(300).await;
    let a = Client::admin(&app, CUSTOMER);
    let emails = numbered("u", 250, 3);
    assert_eq!(a.assign(&id, json!(emails)).await.status, 201);
    let end = days_from_today(395);
    let result =
        deliver(&app, renewal(&order_id, "REN-BIG", days_from_today(31), end, None)).await.unwrap();
    assert_eq!(result["followed"], 251);
    let listed = a.all_assignments(&id).await;
    assert!(listed.iter().all(|x| x["validUntil"] == json!(end)));
    let history = a.all_history(&id, "", 100).await;
    assert_eq!(history.iter().filter(|e| e["action"] == "assignment.changed").count(), 251);
}
