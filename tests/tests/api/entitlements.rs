//! `GET /me/entitlements/{productId}` (v3): what a product asks when a person
//! signs in. Entitled by a seat active today (only the token's customer's,
//! when it names one), and the day's activity recorded on that seat at most
//! once, the first time accepting the invitation.

use chrono::NaiveDate;
use licensing::App;
use licensing_tests::proxy::Proxy;
use licensing_tests::*;
use serde_json::{Value, json};

const PRODUCT: &str = "tecdoc-catalogue";

/// A licence of `customer` for [`PRODUCT`] from `start` to `end` with a seat of `email`.
async fn seat(app: &App, customer: &str, email: &str, start: NaiveDate, end: NaiveDate) -> String {
    let order = format!("ORD-{}", ulid::Ulid::new());
    let mut event =
        purchase(&order, customer, &format!("buyer@{customer}.example.com"), 5, start, end);
    event["detail"]["productId"] = json!(PRODUCT);
    let id = provision_event(app, event).await;
    let body = json!({"emails": email, "validFrom": start.max(today()), "validUntil": end});
    let assigned = Client::admin(app, customer).assign_body(&id, body).await;
    assert_eq!(assigned.status, 201, "{:?}", assigned.body);
    id
}

/// `email`'s entitlement to `product`, their token naming `customer` (or none).
async fn entitlement(app: &App, email: &str, customer: Option<&str>, product: &str) -> Answer {
    let mut claims =
        json!({"sub": format!("user-{email}"), "email": email, "email_verified": true});
    if let Some(c) = customer {
        claims["custom:customer_id"] = json!(c);
    }
    let path = format!("/me/entitlements/{product}");
    Client::with_token(app, token(claims)).send("GET", &path, None).await
}

#[tokio::test]
async fn a_seat_entitles_and_records_the_days_activity_once_accepting_the_invitation() {
    let app = fresh_app().await;
    let id =
        seat(&app, CUSTOMER, "anna@example.com", days_from_today(-5), days_from_today(200)).await;
    let proxy = Proxy::start(dynamodb_endpoint()).await;
    let via = app_at(&proxy.url, app.store.table());
    let answer = entitlement(&via, "Anna@Example.com", Some(CUSTOMER), PRODUCT).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        answer.body,
        json!({"productId": PRODUCT, "entitled": true, "licenseId": id, "customerId": CUSTOMER,
               "validUntil": days_from_today(200)})
    );
    // The first use: the activity with the acceptance's history entry, one transaction.
    assert_eq!(proxy.seen("TransactWriteItems") + proxy.seen("UpdateItem"), 1);
    let history = Client::admin(&app, CUSTOMER).all_history(&id, "", 100).await;
    let accepted: Vec<&Value> =
        history.iter().filter(|e| e["action"] == "invitation.accepted").collect();
    assert_eq!(accepted.len(), 1, "{history:?}");
    assert_eq!(
        (&accepted[0]["email"], &accepted[0]["actor"]),
        (&json!("anna@example.com"), &json!("anna@example.com"))
    );
    let seat = Client::admin(&app, CUSTOMER).assignment(&id, "anna@example.com").await.unwrap();
    assert_eq!(seat["lastActiveOn"], today().to_string());
    assert_eq!(seat["invitation"]["status"], "accepted");
    let accepted_at = seat["invitation"]["acceptedAt"].clone();
    assert!(accepted_at.is_string());
    // Again the same day: entitled, nothing written.
    proxy.clear_counts();
    assert_eq!(
        entitlement(&via, "anna@example.com", Some(CUSTOMER), PRODUCT).await.body["entitled"],
        true
    );
    assert_eq!(proxy.seen("UpdateItem"), 0, "at most one write per seat and day");
    assert_eq!(proxy.seen("Query") + proxy.seen("BatchGetItem"), 1, "one Query, no licence read");
    // The next day: recorded again; the invitation stays accepted as it was.
    let tomorrow = via.later(86_400);
    assert_eq!(
        entitlement(&tomorrow, "anna@example.com", Some(CUSTOMER), PRODUCT).await.status,
        200
    );
    let seat = Client::admin(&app, CUSTOMER).assignment(&id, "anna@example.com").await.unwrap();
    assert_eq!(seat["lastActiveOn"], days_from_today(1).to_string());
    assert_eq!(seat["invitation"]["acceptedAt"], accepted_at);
    let history = Client::admin(&app, CUSTOMER).all_history(&id, "", 100).await;
    assert_eq!(history.iter().filter(|e| e["action"] == "invitation.accepted").count(), 1);
}

#[tokio::test]
async fn only_the_named_customers_seats_count_and_without_a_claim_the_one_ending_last() {
    let app = fresh_app().await;
    let ours =
        seat(&app, CUSTOMER, "anna@example.com", days_from_today(-5), days_from_today(100)).await;
    let theirs =
        seat(&app, OTHER_CUSTOMER, "anna@example.com", days_from_today(-5), days_from_today(300))
            .await;
    let named = entitlement(&app, "anna@example.com", Some(CUSTOMER), PRODUCT).await.body;
    assert_eq!(
        (named["licenseId"].as_str(), named["customerId"].as_str()),
        (Some(ours.as_str()), Some(CUSTOMER))
    );
    let any = entitlement(&app, "anna@example.com", None, PRODUCT).await.body;
    assert_eq!(any["licenseId"], theirs, "the seat ending last");
    let elsewhere = entitlement(&app, "anna@example.com", Some("cust-3003"), PRODUCT).await.body;
    assert_eq!(elsewhere, json!({"productId": PRODUCT, "entitled": false}));
    // Each answer recorded the activity on its own seat.
    let theirs_seat =
        Client::admin(&app, OTHER_CUSTOMER).assignment(&theirs, "anna@example.com").await;
    let ours_seat = Client::admin(&app, CUSTOMER).assignment(&ours, "anna@example.com").await;
    assert_eq!(ours_seat.unwrap()["lastActiveOn"], today().to_string());
    assert_eq!(
        theirs_seat.unwrap()["lastActiveOn"],
        today().to_string(),
        "answered without a claim"
    );
}

#[tokio::test]
async fn revoked_ended_unknown_and_future_seats_do_not_entitle() {
    let app = fresh_app().await;
    let id =
        seat(&app, CUSTOMER, "anna@example.com", days_from_today(-5), days_from_today(100)).await;
    assert_eq!(Client::admin(&app, CUSTOMER).revoke(&id, "anna@example.com").await.status, 200);
    let revoked = entitlement(&app, "anna@example.com", Some(CUSTOMER), PRODUCT).await;
    assert_eq!(revoked.body, json!({"productId": PRODUCT, "entitled": false}));
    let seat_after =
        Client::admin(&app, CUSTOMER).assignment(&id, "anna@example.com").await.unwrap();
    assert_eq!(seat_after["lastActiveOn"], Value::Null, "a revoked seat records nothing");
    seat(&app, CUSTOMER, "bob@example.com", days_from_today(10), days_from_today(100)).await;
    let later = entitlement(&app, "bob@example.com", Some(CUSTOMER), PRODUCT).await.body;
    assert_eq!(
        later,
        json!({"productId": PRODUCT, "entitled": false, "startsOn": days_from_today(10)})
    );
    let unknown = entitlement(&app, "bob@example.com", None, "no-such-product").await.body;
    assert_eq!(unknown["entitled"], false);
    let unverified =
        token(json!({"sub": "u", "email": "anna@example.com", "email_verified": false}));
    let refused = Client::with_token(&app, unverified)
        .send("GET", &format!("/me/entitlements/{PRODUCT}"), None)
        .await;
    assert_eq!((refused.status, refused.slug()), (403, "email-not-verified"));
}

#[tokio::test]
async fn a_seat_of_a_bulk_request_entitles_once_its_batch_is_complete() {
    let app = fresh_app().await;
    let order = format!("ORD-{}", ulid::Ulid::new());
    let mut event = purchase(
        &order,
        CUSTOMER,
        "buyer@example.com",
        100,
        days_from_today(-5),
        days_from_today(50),
    );
    event["detail"]["productId"] = json!(PRODUCT);
    let id = provision_event(&app, event).await;
    let mut emails = numbered("bulk", 59, 2);
    emails.push("anna@example.com".into());
    let assigned = Client::admin(&app, CUSTOMER).assign(&id, json!(emails)).await;
    assert_eq!(assigned.status, 201, "{:?}", assigned.body);
    let proxy = Proxy::start(dynamodb_endpoint()).await;
    let via = app_at(&proxy.url, app.store.table());
    let answer = entitlement(&via, "anna@example.com", Some(CUSTOMER), PRODUCT).await.body;
    assert_eq!(
        (answer["entitled"].as_bool(), answer["licenseId"].as_str()),
        (Some(true), Some(id.as_str()))
    );
    assert_eq!(proxy.seen("BatchGetItem"), 1, "a batch's seat is seen as its licence says");
}

#[tokio::test]
async fn an_invitation_mail_sent_while_the_person_signs_in_does_not_undo_the_acceptance() {
    let app = fresh_app().await;
    let id =
        seat(&app, CUSTOMER, "anna@example.com", days_from_today(-5), days_from_today(100)).await;
    // notify holds the pending invitation's claim, and is sending the mail.
    let claimed = app
        .store
        .claim_invitation(
            CUSTOMER,
            &id,
            "anna@example.com",
            "run-1",
            chrono::Utc::now().timestamp(),
        )
        .await
        .unwrap();
    let licensing::store::InvitationClaim::Claimed(a) = claimed else { panic!("{claimed:?}") };
    assert_eq!(
        entitlement(&app, "anna@example.com", Some(CUSTOMER), PRODUCT).await.body["entitled"],
        true
    );
    let sent = licensing::model::Invitation {
        sent_at: Some(chrono::Utc::now()),
        ..licensing::model::Invitation::new(licensing::model::InvitationStatus::Sent)
    };
    let recorded = licensing::notify::record(&app.store, &a, "run-1", &sent, Some("m-1".into()));
    assert!(recorded.await.unwrap(), "the mail's outcome is recorded");
    let seat = Client::admin(&app, CUSTOMER).assignment(&id, "anna@example.com").await.unwrap();
    assert_eq!(seat["invitation"]["status"], "accepted", "{seat}");
    assert!(
        seat["invitation"]["acceptedAt"].is_string() && seat["invitation"]["sentAt"].is_string()
    );
    let history = Client::admin(&app, CUSTOMER).history(&id, "limit=1").await.body;
    assert_eq!(history["entries"][0]["action"], "invitation.sent", "the mail is in the history");
}
