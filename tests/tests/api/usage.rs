//! `GET /licenses/{id}/usage`: seats in use per day over the whole term, as
//! steps that agree with the licence's counts.

use chrono::NaiveDate;
use licensing_tests::*;
use serde_json::{Value, json};

/// (from, until, used, quantity) of each step.
fn steps(answer: &Answer) -> Vec<(NaiveDate, NaiveDate, u64, u64)> {
    let date = |v: &Value| v.as_str().unwrap().parse::<NaiveDate>().unwrap();
    answer.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                date(&s["from"]),
                date(&s["until"]),
                s["used"].as_u64().unwrap(),
                s["quantity"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The step that holds `day`: (used, quantity).
fn on(steps: &[(NaiveDate, NaiveDate, u64, u64)], day: NaiveDate) -> (u64, u64) {
    let s = steps.iter().find(|s| s.0 <= day && day <= s.1).expect("a step holds every day");
    (s.2, s.3)
}

/// The steps cover `start..=end` without gap or overlap, neighbours differ.
fn assert_covers(steps: &[(NaiveDate, NaiveDate, u64, u64)], start: NaiveDate, end: NaiveDate) {
    assert_eq!(steps.first().unwrap().0, start);
    assert_eq!(steps.last().unwrap().1, end);
    for s in steps {
        assert!(s.0 <= s.1, "{s:?}");
    }
    for w in steps.windows(2) {
        assert_eq!(w[0].1.succ_opt(), Some(w[1].0), "consecutive: {w:?}");
        assert_ne!((w[0].2, w[0].3), (w[1].2, w[1].3), "neighbours differ: {w:?}");
    }
}

#[tokio::test]
async fn the_steps_cover_the_term_and_agree_with_the_counts() {
    let app = fresh_app().await;
    let (start, end) = (days_from_today(-30), days_from_today(365));
    let (order, id) = ordered(&app, CUSTOMER, 5, start, end).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, "anna@example.com").await.status, 201);
    let (from, until) = (days_from_today(10), days_from_today(40));
    let body = json!({"emails": "bob@example.com", "validFrom": from, "validUntil": until});
    assert_eq!(a.assign_body(&id, body).await.status, 201);
    let usage = a.usage(&id).await;
    assert_eq!((usage.status, usage.content_type.as_str()), (200, "application/json"));
    assert_eq!(usage.body["licenseId"], json!(id));
    let s = steps(&usage);
    assert_covers(&s, start, end);
    // Before the purchase day nobody; then the buyer and Anna; Bob for a month.
    assert_eq!(on(&s, days_from_today(-1)), (0, 5));
    assert_eq!(on(&s, today()), (2, 5));
    assert_eq!(on(&s, days_from_today(20)), (3, 5));
    assert_eq!(on(&s, days_from_today(41)), (2, 5));
    let peak = s.iter().filter(|x| x.1 >= today()).map(|x| x.2).max().unwrap();
    assert_eq!(a.license(&id).await.body["assignedSeats"], peak);

    // Two seats from today: the steps show the quantity in force, and the
    // peak of used − quantity from today on is overAssignedSeats.
    deliver(&app, quantity_change(&order, "CHG-1", 2)).await.expect("applied");
    let s = steps(&a.usage(&id).await);
    assert_covers(&s, start, end);
    assert_eq!(on(&s, days_from_today(-1)), (0, 5));
    assert_eq!(on(&s, days_from_today(20)), (3, 2));
    let over = s.iter().filter(|x| x.1 >= today()).map(|x| x.2.saturating_sub(x.3)).max();
    assert_eq!(a.license(&id).await.body["overAssignedSeats"], json!(over.unwrap()));

    // A revocation frees the seat from today on; the days used stay used.
    assert_eq!(a.revoke(&id, "anna@example.com").await.status, 200);
    let s = steps(&a.usage(&id).await);
    assert_eq!(on(&s, days_from_today(-1)), (0, 5));
    assert_eq!(on(&s, days_from_today(20)), (2, 2));
}

#[tokio::test]
async fn the_usage_is_the_admins_of_its_customer_only() {
    let (app, id) = licensed(3).await;
    let other = Client::admin(&app, OTHER_CUSTOMER).usage(&id).await;
    assert_eq!((other.status, other.slug()), (404, "license-not-found"));
    let user = Client::user(&app, "anna@example.com", CUSTOMER).usage(&id).await;
    assert_eq!((user.status, user.slug()), (403, "forbidden"));
    let unknown = Client::admin(&app, CUSTOMER).usage("lic_unknown").await;
    assert_eq!((unknown.status, unknown.slug()), (404, "license-not-found"));
    let wrong =
        Client::admin(&app, CUSTOMER).send("POST", &format!("/licenses/{id}/usage"), None).await;
    assert_eq!((wrong.status, wrong.slug()), (405, "method-not-allowed"));
}
