//! `GET /licenses`, `GET /licenses/{id}`, paging, and the story of the seed.

use licensing_tests::*;
use serde_json::json;

use crate::{result_emails, seats};

#[tokio::test]
async fn buyer_takes_one_seat_and_the_story_of_the_seed_works() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);

    let list = a.licenses("").await;
    assert_eq!((list.status, list.content_type.as_str()), (200, "application/json"));
    let l = &list.body["licenses"][0];
    assert_eq!((&l["licenseId"], &l["status"]), (&json!(id), &json!("active")));
    assert_eq!(seats(l), (1, 4, 1));

    let pasted = "anna@example.com, \"Schmidt, Bob\" <Bob@Example.com>;\r\ncarl@example.com\n\n";
    let assigned = a.assign(&id, pasted).await;
    assert_eq!(assigned.status, 201, "{:?}", assigned.body);
    assert_eq!(
        result_emails(&assigned),
        ["anna@example.com", "bob@example.com", "carl@example.com"]
    );
    for r in assigned.body["results"].as_array().unwrap() {
        let x = &r["assignment"];
        assert_eq!(r["outcome"], "assigned");
        assert_eq!(
            (&x["status"], &x["invitation"]["status"]),
            (&json!("active"), &json!("pending"))
        );
        assert_eq!(x["validFrom"], today().to_string());
        assert_eq!(x["validUntil"], days_from_today(365).to_string());
        assert_eq!(x["assignedBy"], "admin@cust-1001.example.com");
    }
    assert_eq!(seats(&assigned.body["license"]), (4, 1, 4));

    let until = days_from_today(60).to_string();
    let changed = a.change(&id, "ANNA%40example.com", json!({"validUntil": until})).await;
    assert_eq!((changed.status, &changed.body["validUntil"]), (200, &json!(until)));

    let revoked = a.revoke(&id, "bob@example.com").await;
    assert_eq!((revoked.status, &revoked.body["status"]), (200, &json!("revoked")));
    assert_eq!(revoked.body["revokedBy"], "admin@cust-1001.example.com");
    assert!(revoked.body["revokedAt"].is_string());

    assert_eq!(seats(&a.license(&id).await.body), (3, 2, 3));
    assert_eq!(a.all_assignments(&id).await.len(), 4, "buyer, anna, bob (revoked), carl");
}

#[tokio::test]
async fn assignments_are_paginated_in_email_order_and_filtered() {
    let (app, id) = licensed(20).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, numbered("u", 12, 2)).await.status, 201);
    a.revoke(&id, "u03@example.com").await;
    let mut seen = Vec::new();
    let mut query = "limit=5".to_string();
    loop {
        let page = a.assignments(&id, &query).await;
        assert_eq!(page.status, 200);
        let items = page.body["assignments"].as_array().unwrap();
        assert!(items.len() <= 5);
        seen.extend(items.iter().map(|i| i["email"].as_str().unwrap().to_string()));
        match page.body["nextCursor"].as_str() {
            Some(c) => query = format!("limit=5&cursor={c}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 13, "12 users and the buyer");
    let revoked = a.assignments(&id, "status=revoked&limit=1").await;
    assert_eq!(revoked.body["assignments"].as_array().unwrap().len(), 1);
    assert_eq!(revoked.body["assignments"][0]["email"], "u03@example.com");
    assert!(revoked.body["nextCursor"].is_null());
    let active = a.assignments(&id, "status=active&limit=100").await;
    assert_eq!(active.body["assignments"].as_array().unwrap().len(), 12);
    for bad in
        ["limit=0", "limit=101", "limit=x", "status=gone", "cursor=%%%", "cursor=bm90LWFuLWVtYWls"]
    {
        let answer = a.assignments(&id, bad).await;
        assert_eq!((answer.status, answer.slug()), (400, "validation-error"), "{bad}");
    }
}

#[tokio::test]
async fn licence_list_filters_by_status() {
    let app = fresh_app().await;
    let active = licence(&app, CUSTOMER, 1).await;
    let provision = |order: &str, from: i64, until: i64| {
        let event = purchase(
            order,
            CUSTOMER,
            "b@example.com",
            2,
            days_from_today(from),
            days_from_today(until),
        );
        provision(&app, event)
    };
    let upcoming = provision("ORD-UP", 10, 100).await.unwrap();
    let expired = provision("ORD-OLD", -100, -1).await.unwrap();
    assert!(upcoming.buyer_assigned);
    assert!(!expired.buyer_assigned, "no buyer seat on an ended term");
    let a = Client::admin(&app, CUSTOMER);
    let ids = |answer: Answer| -> Vec<String> {
        let mut v: Vec<String> = answer.body["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["licenseId"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut default = vec![active.clone(), upcoming.license_id.clone()];
    default.sort();
    assert_eq!(ids(a.licenses("").await), default);
    assert_eq!(ids(a.licenses("status=expired").await), std::slice::from_ref(&expired.license_id));
    assert_eq!(ids(a.licenses("status=all").await).len(), 3);
    assert_eq!(a.licenses("status=nope").await.slug(), "validation-error");
    // Upcoming: the buyer's seat starts with the term.
    let buyer = &a.all_assignments(&upcoming.license_id).await[0];
    assert_eq!(buyer["validFrom"], days_from_today(10).to_string());
    assert_eq!(
        (&buyer["status"], &buyer["invitation"]["status"]),
        (&json!("scheduled"), &json!("none"))
    );
    let up = a.license(&upcoming.license_id).await;
    assert_eq!(up.body["status"], "upcoming");
    assert_eq!(seats(&up.body), (1, 1, 1));
    // An ended licence accepts no new assignments.
    let closed = a.assign(&expired.license_id, "z@example.com").await;
    assert_eq!((closed.status, closed.slug()), (409, "license-not-active"));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = fresh_app().await;
    let a = Client::admin(&app, CUSTOMER);
    let unknown = a.send("GET", "/nothing/here", None).await;
    assert_eq!((unknown.status, unknown.content_type.as_str()), (404, "application/problem+json"));
    let wrong = a.send("PUT", "/licenses", None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.headers.get("allow").unwrap(), "GET, OPTIONS");
    let missing = a.license("lic_doesnotexist").await;
    assert_eq!((missing.status, missing.slug()), (404, "license-not-found"));
    assert_eq!(a.license("a%23b").await.slug(), "license-not-found");
    // A preflight needs no token and names the path's methods.
    let preflight = Client::anonymous(&app).send("OPTIONS", "/licenses/x/assignments", None).await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.headers.get("allow").unwrap(), "GET, POST, OPTIONS");
}
