//! The contract, endpoint by endpoint, through the real handlers on DynamoDB Local.

use licensing_tests::*;
use serde_json::{Value, json};

fn seats(license: &Value) -> (u64, u64, u64) {
    (
        license["assignedSeats"].as_u64().unwrap(),
        license["availableSeats"].as_u64().unwrap(),
        license["assignedUsers"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn buyer_takes_one_seat_and_the_story_of_the_seed_works() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let a = admin(CUSTOMER);

    let list = call(&app, "GET", "/licenses", &a, None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.content_type, "application/json");
    let l = &list.body["licenses"][0];
    assert_eq!(l["licenseId"], id);
    assert_eq!(l["status"], "active");
    assert_eq!(seats(l), (1, 4, 1));

    let pasted = "anna@example.com, \"Schmidt, Bob\" <Bob@Example.com>;\r\ncarl@example.com\n\n";
    let assigned = call(
        &app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &a,
        Some(json!({"emails": pasted})),
    )
    .await;
    assert_eq!(assigned.status, 201, "{:?}", assigned.body);
    let results = assigned.body["results"].as_array().unwrap();
    let emails: Vec<_> = results
        .iter()
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["anna@example.com", "bob@example.com", "carl@example.com"]
    );
    for r in results {
        assert_eq!(r["outcome"], "assigned");
        assert_eq!(r["assignment"]["status"], "active");
        assert_eq!(r["assignment"]["validFrom"], today().to_string());
        assert_eq!(
            r["assignment"]["validUntil"],
            days_from_today(365).to_string()
        );
        assert_eq!(r["assignment"]["invitation"]["status"], "pending");
        assert_eq!(r["assignment"]["assignedBy"], "admin@cust-1001.example.com");
    }
    assert_eq!(seats(&assigned.body["license"]), (4, 1, 4));

    let until = days_from_today(60).to_string();
    let changed = call(
        &app,
        "PATCH",
        &format!("/licenses/{id}/assignments/ANNA%40example.com"),
        &a,
        Some(json!({"validUntil": until})),
    )
    .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["validUntil"], until);

    let revoked = call(
        &app,
        "DELETE",
        &format!("/licenses/{id}/assignments/bob@example.com"),
        &a,
        None,
    )
    .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(revoked.body["status"], "revoked");
    assert_eq!(revoked.body["revokedBy"], "admin@cust-1001.example.com");
    assert!(revoked.body["revokedAt"].is_string());

    let one = call(&app, "GET", &format!("/licenses/{id}"), &a, None).await;
    assert_eq!(seats(&one.body), (3, 2, 3));
    let all = all_assignments(&app, CUSTOMER, &id).await;
    assert_eq!(all.len(), 4, "buyer, anna, bob (revoked), carl");
}

#[tokio::test]
async fn assigning_again_is_already_assigned_and_takes_no_seat() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 3).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    assert_eq!(
        call(
            &app,
            "POST",
            &path,
            &a,
            Some(json!({"emails": ["x@example.com"]}))
        )
        .await
        .status,
        201
    );
    let again = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "X@example.com"})),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["results"][0]["outcome"], "already_assigned");
    assert_eq!(seats(&again.body["license"]), (2, 1, 2));
    let mixed = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "x@example.com, y@example.com"})),
    )
    .await;
    assert_eq!(mixed.status, 201);
    assert_eq!(mixed.body["results"][0]["outcome"], "already_assigned");
    assert_eq!(mixed.body["results"][1]["outcome"], "assigned");
}

#[tokio::test]
async fn insufficient_seats_and_invalid_emails_write_nothing() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 3).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    let too_many = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "a@example.com,b@example.com,c@example.com"})),
    )
    .await;
    assert_eq!(too_many.status, 409);
    assert_eq!(too_many.content_type, "application/problem+json");
    assert_eq!(too_many.slug(), "insufficient-seats");
    assert_eq!(too_many.body["requested"], 3);
    assert_eq!(too_many.body["available"], 2);

    let invalid = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "a@example.com; not an address ;b@"})),
    )
    .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.slug(), "invalid-emails");
    assert_eq!(
        invalid.body["invalidEmails"],
        json!(["not an address", "b@"])
    );

    assert_eq!(
        all_assignments(&app, CUSTOMER, &id).await.len(),
        1,
        "only the buyer"
    );
}

#[tokio::test]
async fn dry_run_answers_the_same_shape_without_writing() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 3).await;
    let a = admin(CUSTOMER);
    let dry = call(
        &app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &a,
        Some(json!({"emails": "a@example.com", "dryRun": true})),
    )
    .await;
    assert_eq!(dry.status, 200);
    assert_eq!(dry.body["results"][0]["outcome"], "assigned");
    assert_eq!(
        seats(&dry.body["license"]),
        (2, 1, 2),
        "the licence as it would be"
    );
    assert_eq!(all_assignments(&app, CUSTOMER, &id).await.len(), 1);
    let dry_full = call(
        &app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &a,
        Some(json!({"emails": "a@example.com,b@example.com,c@example.com", "dryRun": true})),
    )
    .await;
    assert_eq!(dry_full.slug(), "insufficient-seats");
}

#[tokio::test]
async fn capacity_is_checked_over_time() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 2).await; // buyer holds one seat for the whole term
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    let first = json!({"emails": "early@example.com", "validUntil": days_from_today(10)});
    assert_eq!(call(&app, "POST", &path, &a, Some(first)).await.status, 201);
    // The second seat is free again after day 10.
    let later = json!({"emails": "late@example.com", "validFrom": days_from_today(11)});
    let answer = call(&app, "POST", &path, &a, Some(later)).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(
        answer.body["results"][0]["assignment"]["status"],
        "scheduled"
    );
    // ...but not on day 10.
    let overlap = json!({"emails": "overlap@example.com", "validFrom": days_from_today(10), "validUntil": days_from_today(10)});
    assert_eq!(
        call(&app, "POST", &path, &a, Some(overlap)).await.slug(),
        "insufficient-seats"
    );
    // Extending the early one into the later one's period is refused.
    let extend = call(
        &app,
        "PATCH",
        &format!("{path}/early@example.com"),
        &a,
        Some(json!({"validUntil": days_from_today(11)})),
    )
    .await;
    assert_eq!(extend.status, 409);
    assert_eq!(extend.slug(), "insufficient-seats");
    // Shortening is fine, and so is moving within the free window.
    let shorten = call(
        &app,
        "PATCH",
        &format!("{path}/early@example.com"),
        &a,
        Some(json!({"validUntil": days_from_today(5)})),
    )
    .await;
    assert_eq!(shorten.status, 200);
    let license = call(&app, "GET", &format!("/licenses/{id}"), &a, None).await;
    assert_eq!(seats(&license.body), (2, 0, 3));
    // Revoking frees the seat at once.
    assert_eq!(
        call(
            &app,
            "DELETE",
            &format!("{path}/late@example.com"),
            &a,
            None
        )
        .await
        .status,
        200
    );
    let license = call(&app, "GET", &format!("/licenses/{id}"), &a, None).await;
    assert_eq!(seats(&license.body), (2, 0, 2), "early still holds today");
    let overlap = json!({"emails": "overlap@example.com", "validFrom": days_from_today(10)});
    assert_eq!(
        call(&app, "POST", &path, &a, Some(overlap)).await.status,
        201
    );
}

#[tokio::test]
async fn periods_must_lie_inside_the_term_and_not_end_in_the_past() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    let cases = [
        json!({"emails": "a@example.com", "validFrom": days_from_today(-31)}),
        json!({"emails": "a@example.com", "validUntil": days_from_today(366)}),
        json!({"emails": "a@example.com", "validFrom": days_from_today(5), "validUntil": days_from_today(4)}),
        json!({"emails": "a@example.com", "validFrom": days_from_today(-10), "validUntil": days_from_today(-1)}),
        json!({"emails": "a@example.com", "validFrom": "2026-02-30"}),
        json!({"emails": "a@example.com", "validFrom": "tomorrow"}),
        json!({"emails": "a@example.com", "validUntil": 20261231}),
        json!({"emails": "a@example.com", "language": "fr"}),
        json!({"emails": "a@example.com", "quantity": 9}),
        json!({"emails": "a@example.com", "customerId": "cust-2002"}),
        json!({"emails": 42}),
        json!({"emails": ["a@example.com", 3]}),
        json!({}),
    ];
    for body in cases {
        let answer = call(&app, "POST", &path, &a, Some(body.clone())).await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
        assert_eq!(answer.slug(), "validation-error", "{body}");
        assert!(
            !answer.body["errors"].as_array().unwrap().is_empty(),
            "{body}"
        );
    }
    // A start in the past inside the term is allowed.
    let past_start = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "p@example.com", "validFrom": days_from_today(-5)})),
    )
    .await;
    assert_eq!(past_start.status, 201, "{:?}", past_start.body);
    for raw in ["{", "[1,2]", "\"text\"", "null", ""] {
        let answer = send(&app, request("POST", &path, Some(&a), Some(raw))).await;
        assert_eq!(answer.status, 400, "{raw}");
        assert_eq!(answer.slug(), "validation-error");
    }
    let huge = format!("{{\"emails\": \"{}\"}}", "a".repeat(300 * 1024));
    assert_eq!(
        send(&app, request("POST", &path, Some(&a), Some(&huge)))
            .await
            .slug(),
        "validation-error"
    );
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(
        send(&app, request("POST", &path, Some(&a), Some(&nested)))
            .await
            .status,
        400
    );
    assert_eq!(all_assignments(&app, CUSTOMER, &id).await.len(), 2);
}

#[tokio::test]
async fn change_rules() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "c@example.com"})),
    )
    .await;
    let item = format!("{path}/c@example.com");
    for body in [
        json!({}),
        json!({"validUntil": "x"}),
        json!({"status": "active", "validUntil": days_from_today(3)}),
        json!({"validUntil": days_from_today(400)}),
        json!({"validFrom": days_from_today(10), "validUntil": days_from_today(9)}),
    ] {
        let answer = call(&app, "PATCH", &item, &a, Some(body.clone())).await;
        assert_eq!(
            (answer.status, answer.slug()),
            (400, "validation-error"),
            "{body}"
        );
    }
    let moved = call(
        &app,
        "PATCH",
        &item,
        &a,
        Some(json!({"validFrom": days_from_today(3), "validUntil": days_from_today(9)})),
    )
    .await;
    assert_eq!(moved.status, 200);
    assert_eq!(moved.body["status"], "scheduled");
    assert_eq!(
        call(
            &app,
            "PATCH",
            &format!("{path}/nobody@example.com"),
            &a,
            Some(json!({"validUntil": days_from_today(3)}))
        )
        .await
        .slug(),
        "assignment-not-found"
    );
    assert_eq!(
        call(
            &app,
            "PATCH",
            &format!("{path}/not-an-email"),
            &a,
            Some(json!({"validUntil": days_from_today(3)}))
        )
        .await
        .slug(),
        "assignment-not-found"
    );
    call(&app, "DELETE", &item, &a, None).await;
    let revoked = call(
        &app,
        "PATCH",
        &item,
        &a,
        Some(json!({"validUntil": days_from_today(3)})),
    )
    .await;
    assert_eq!(
        (revoked.status, revoked.slug()),
        (409, "assignment-revoked")
    );
    // Revoking twice answers the revoked assignment unchanged.
    let first = call(&app, "GET", &format!("{path}?status=revoked"), &a, None).await;
    let again = call(&app, "DELETE", &item, &a, None).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body["assignments"][0]);
    assert_eq!(
        call(
            &app,
            "DELETE",
            &format!("{path}/nobody@example.com"),
            &a,
            None
        )
        .await
        .slug(),
        "assignment-not-found"
    );
    // A revoked address is assigned afresh.
    let fresh = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "c@example.com"})),
    )
    .await;
    assert_eq!(fresh.status, 201);
    assert_eq!(fresh.body["results"][0]["assignment"]["status"], "active");
    assert!(fresh.body["results"][0]["assignment"]["revokedAt"].is_null());
}

#[tokio::test]
async fn assignments_are_paginated_in_email_order_and_filtered() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 20).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    let emails: Vec<String> = (0..12).map(|i| format!("u{i:02}@example.com")).collect();
    assert_eq!(
        call(&app, "POST", &path, &a, Some(json!({"emails": emails})))
            .await
            .status,
        201
    );
    call(&app, "DELETE", &format!("{path}/u03@example.com"), &a, None).await;
    let mut seen = Vec::new();
    let mut url = format!("{path}?limit=5");
    loop {
        let page = call(&app, "GET", &url, &a, None).await;
        assert_eq!(page.status, 200);
        let items = page.body["assignments"].as_array().unwrap();
        assert!(items.len() <= 5);
        seen.extend(
            items
                .iter()
                .map(|i| i["email"].as_str().unwrap().to_string()),
        );
        match page.body["nextCursor"].as_str() {
            Some(c) => url = format!("{path}?limit=5&cursor={c}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 13, "12 users and the buyer");
    let revoked = call(
        &app,
        "GET",
        &format!("{path}?status=revoked&limit=1"),
        &a,
        None,
    )
    .await;
    assert_eq!(revoked.body["assignments"].as_array().unwrap().len(), 1);
    assert_eq!(revoked.body["assignments"][0]["email"], "u03@example.com");
    assert!(revoked.body["nextCursor"].is_null());
    let active = call(
        &app,
        "GET",
        &format!("{path}?status=active&limit=100"),
        &a,
        None,
    )
    .await;
    assert_eq!(active.body["assignments"].as_array().unwrap().len(), 12);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "status=gone",
        "cursor=%%%",
        "cursor=bm90LWFuLWVtYWls",
    ] {
        let answer = call(&app, "GET", &format!("{path}?{bad}"), &a, None).await;
        assert_eq!(
            (answer.status, answer.slug()),
            (400, "validation-error"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn licence_list_filters_by_status() {
    let app = fresh_app().await;
    let active = licence(&app, CUSTOMER, 1).await;
    let upcoming = licensing::provision::handle(
        &app,
        purchase(
            "ORD-UP",
            CUSTOMER,
            "b@example.com",
            2,
            days_from_today(10),
            days_from_today(100),
        ),
    )
    .await
    .unwrap();
    let expired = licensing::provision::handle(
        &app,
        purchase(
            "ORD-OLD",
            CUSTOMER,
            "b@example.com",
            2,
            days_from_today(-100),
            days_from_today(-1),
        ),
    )
    .await
    .unwrap();
    assert!(upcoming.buyer_assigned);
    assert!(!expired.buyer_assigned, "no buyer seat on an ended term");
    let a = admin(CUSTOMER);
    let ids = |answer: &Answer| -> Vec<String> {
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
    assert_eq!(
        ids(&call(&app, "GET", "/licenses", &a, None).await),
        default
    );
    assert_eq!(
        ids(&call(&app, "GET", "/licenses?status=expired", &a, None).await),
        vec![expired.license_id.clone()]
    );
    assert_eq!(
        ids(&call(&app, "GET", "/licenses?status=all", &a, None).await).len(),
        3
    );
    assert_eq!(
        call(&app, "GET", "/licenses?status=nope", &a, None)
            .await
            .slug(),
        "validation-error"
    );
    // Upcoming: the buyer's seat starts with the term.
    let assignments = all_assignments(&app, CUSTOMER, &upcoming.license_id).await;
    assert_eq!(assignments[0]["validFrom"], days_from_today(10).to_string());
    assert_eq!(assignments[0]["status"], "scheduled");
    assert_eq!(assignments[0]["invitation"]["status"], "none");
    let up = call(
        &app,
        "GET",
        &format!("/licenses/{}", upcoming.license_id),
        &a,
        None,
    )
    .await;
    assert_eq!(up.body["status"], "upcoming");
    assert_eq!(seats(&up.body), (1, 1, 1));
    // An ended licence accepts no new assignments.
    let closed = call(
        &app,
        "POST",
        &format!("/licenses/{}/assignments", expired.license_id),
        &a,
        Some(json!({"emails": "z@example.com"})),
    )
    .await;
    assert_eq!((closed.status, closed.slug()), (409, "license-not-active"));
}

#[tokio::test]
async fn tenants_roles_and_identity_are_enforced() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let a = admin(CUSTOMER);
    call(
        &app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &a,
        Some(json!({"emails": "t@example.com"})),
    )
    .await;
    let foreign = admin(OTHER_CUSTOMER);
    let member = user("t@example.com", CUSTOMER);
    let body = json!({"emails": "new@example.com"});
    let change = json!({"validUntil": days_from_today(3)});
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/licenses/{id}"), None),
        ("GET", format!("/licenses/{id}/assignments"), None),
        ("POST", format!("/licenses/{id}/assignments"), Some(body)),
        (
            "PATCH",
            format!("/licenses/{id}/assignments/t@example.com"),
            Some(change),
        ),
        (
            "DELETE",
            format!("/licenses/{id}/assignments/t@example.com"),
            None,
        ),
        (
            "POST",
            format!("/licenses/{id}/assignments/t@example.com/invitation"),
            None,
        ),
    ];
    for (method, path, body) in &routes {
        let other = call(&app, method, path, &foreign, body.clone()).await;
        assert_eq!(
            (other.status, other.slug()),
            (404, "license-not-found"),
            "{method} {path}"
        );
        // Nothing of the other customer's data leaks into the answer.
        let text = raw(&other);
        assert!(
            !text.contains("t@example.com")
                && !text.contains(CUSTOMER)
                && !text.contains("product-"),
            "{text}"
        );
        let not_admin = call(&app, method, path, &member, body.clone()).await;
        assert_eq!(
            (not_admin.status, not_admin.slug()),
            (403, "forbidden"),
            "{method} {path}"
        );
        let anonymous = send(
            &app,
            request(
                method,
                path,
                None,
                body.as_ref().map(|b| b.to_string()).as_deref(),
            ),
        )
        .await;
        assert_eq!(
            (anonymous.status, anonymous.slug()),
            (401, "unauthorized"),
            "{method} {path}"
        );
        let garbage = send(&app, request(method, path, Some("not.a-jwt"), None)).await;
        assert_eq!(garbage.status, 401, "{method} {path}");
    }
    // Claims in query strings or bodies are never trusted over the token.
    for path in [
        format!("/licenses?customerId={CUSTOMER}&custom:customer_id={CUSTOMER}"),
        format!("/licenses?status=all&customer_id={CUSTOMER}"),
    ] {
        let listed = call(&app, "GET", &path, &foreign, None).await;
        assert_eq!(listed.status, 200, "{path}");
        assert!(
            listed.body["licenses"].as_array().unwrap().is_empty(),
            "{path}"
        );
    }
    let smuggled = call(
        &app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &foreign,
        Some(json!({"emails": "x@example.com", "customerId": CUSTOMER})),
    )
    .await;
    assert!(matches!(smuggled.status, 400 | 404), "{:?}", smuggled.body);
    assert!(!raw(&smuggled).contains("t@example.com"));
    for path in ["/licenses", "/me/licenses"] {
        let anonymous = send(&app, request("GET", path, None, None)).await;
        assert_eq!(
            (anonymous.status, anonymous.slug()),
            (401, "unauthorized"),
            "{path}"
        );
    }
    assert_eq!(
        call(&app, "GET", "/licenses", &member, None).await.status,
        403
    );
    assert_eq!(
        all_assignments(&app, CUSTOMER, &id).await.len(),
        2,
        "nothing written by the refused calls"
    );
}

#[tokio::test]
async fn verified_claims_from_the_authorizer_are_used() {
    use lambda_http::aws_lambda_events::apigw::{
        ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
        ApiGatewayV2httpRequestContext,
    };
    use lambda_http::request::RequestContext;
    let mut app = fresh_app().await;
    app.auth = licensing::http::identity::AuthMode::Verified;
    let id = licence(&app, CUSTOMER, 2).await;
    let mut req = request(
        "GET",
        &format!("/licenses/{id}"),
        Some(&admin(OTHER_CUSTOMER)),
        None,
    );
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims.insert("sub".into(), "s1".into());
    jwt.claims
        .insert("email".into(), "admin@example.com".into());
    jwt.claims
        .insert("custom:customer_id".into(), CUSTOMER.into());
    jwt.claims.insert(
        "cognito:groups".into(),
        "[license-admin portal-user]".into(),
    );
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.authorizer = Some(authorizer);
    req.extensions_mut()
        .insert(RequestContext::ApiGatewayV2(ctx));
    let answer = send(&app, req).await;
    assert_eq!(
        answer.status, 200,
        "the authorizer's claims win over the bearer token"
    );
    // Without an authorizer and without local mode, a bearer token is not trusted.
    let unverified = send(
        &app,
        bare_request("GET", "/licenses", Some(&admin(CUSTOMER)), None),
    )
    .await;
    assert_eq!(unverified.status, 401);
}

#[tokio::test]
async fn me_lists_own_current_seats_across_customers() {
    let app = fresh_app().await;
    let mine = "me@example.com";
    let first = licence(&app, CUSTOMER, 3).await;
    let second = licence(&app, OTHER_CUSTOMER, 3).await;
    call(
        &app,
        "POST",
        &format!("/licenses/{first}/assignments"),
        &admin(CUSTOMER),
        Some(json!({"emails": "Me@Example.com"})),
    )
    .await;
    call(
        &app,
        "POST",
        &format!("/licenses/{second}/assignments"),
        &admin(OTHER_CUSTOMER),
        Some(json!({"emails": mine})),
    )
    .await;
    let me = call(
        &app,
        "GET",
        "/me/licenses",
        &user("ME@example.com", "whatever"),
        None,
    )
    .await;
    assert_eq!(me.status, 200);
    let list = me.body["licenses"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for l in list {
        assert_eq!(l["email"], mine);
        assert!(l["productName"].is_string() && l["term"]["start"].is_string());
    }
    call(
        &app,
        "DELETE",
        &format!("/licenses/{first}/assignments/{mine}"),
        &admin(CUSTOMER),
        None,
    )
    .await;
    let mut gone = false;
    for _ in 0..20 {
        let me = call(&app, "GET", "/me/licenses", &user(mine, "x"), None).await;
        if me.body["licenses"].as_array().unwrap().len() == 1 {
            assert_eq!(me.body["licenses"][0]["licenseId"], second);
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        gone,
        "a revoked seat disappears from /me/licenses within seconds"
    );
    let anonymous = send(&app, request("GET", "/me/licenses", None, None)).await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn provisioning_is_idempotent_and_validates() {
    let app = fresh_app().await;
    let event = purchase(
        "ORD-77",
        CUSTOMER,
        "Buyer@Example.com",
        5,
        days_from_today(-1),
        days_from_today(30),
    );
    let first = licensing::provision::handle(&app, event.clone())
        .await
        .unwrap();
    let again = licensing::provision::handle(&app, event.clone())
        .await
        .unwrap();
    assert_eq!(first, again);
    assert!(first.buyer_assigned);
    let a = admin(CUSTOMER);
    assert_eq!(
        call(&app, "GET", "/licenses", &a, None).await.body["licenses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The buyer already holds this product at this customer: no second seat.
    let mut second = purchase(
        "ORD-78",
        CUSTOMER,
        "buyer@example.com",
        2,
        days_from_today(-1),
        days_from_today(30),
    );
    second["detail"]["productId"] = event["detail"]["productId"].clone();
    let other = licensing::provision::handle(&app, second).await.unwrap();
    assert!(!other.buyer_assigned);
    let mut bad = purchase(
        "ORD-79",
        CUSTOMER,
        "b@example.com",
        0,
        days_from_today(-1),
        days_from_today(30),
    );
    assert!(
        licensing::provision::handle(&app, bad.clone())
            .await
            .is_err()
    );
    bad["detail"]["quantity"] = json!(3);
    bad["detail"]["term"]["end"] = json!(days_from_today(-2));
    assert!(licensing::provision::handle(&app, bad).await.is_err());
    assert_eq!(
        call(&app, "GET", "/licenses?status=all", &a, None)
            .await
            .body["licenses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Delivered concurrently, the same order still yields one licence.
    let event = purchase(
        "ORD-80",
        CUSTOMER,
        "c@example.com",
        2,
        days_from_today(-1),
        days_from_today(30),
    );
    let (x, y) = tokio::join!(
        licensing::provision::handle(&app, event.clone()),
        licensing::provision::handle(&app, event.clone())
    );
    assert_eq!(x.unwrap().license_id, y.unwrap().license_id);
    assert_eq!(
        call(&app, "GET", "/licenses?status=all", &a, None)
            .await
            .body["licenses"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn resend_sets_the_invitation_pending_again() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 3).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "r@example.com"})),
    )
    .await;
    // Within 10 minutes of the invitation: 429 (see tests/tests/security.rs).
    let later = app.later(601);
    let resent = call(
        &later,
        "POST",
        &format!("{path}/r@example.com/invitation"),
        &a,
        None,
    )
    .await;
    assert_eq!(resent.status, 202, "{:?}", resent.body);
    assert_eq!(resent.body["invitation"]["status"], "pending");
    assert_eq!(
        call(
            &app,
            "POST",
            &format!("{path}/x@example.com/invitation"),
            &a,
            None
        )
        .await
        .slug(),
        "assignment-not-found"
    );
    call(&app, "DELETE", &format!("{path}/r@example.com"), &a, None).await;
    assert_eq!(
        call(
            &app,
            "POST",
            &format!("{path}/r@example.com/invitation"),
            &a,
            None
        )
        .await
        .slug(),
        "assignment-revoked"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = fresh_app().await;
    let a = admin(CUSTOMER);
    let unknown = call(&app, "GET", "/nothing/here", &a, None).await;
    assert_eq!(
        (unknown.status, unknown.content_type.as_str()),
        (404, "application/problem+json")
    );
    let wrong = call(&app, "PUT", "/licenses", &a, None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.headers.get("allow").unwrap(), "GET, OPTIONS");
    let missing = call(&app, "GET", "/licenses/lic_doesnotexist", &a, None).await;
    assert_eq!((missing.status, missing.slug()), (404, "license-not-found"));
    let odd = call(&app, "GET", "/licenses/a%23b", &a, None).await;
    assert_eq!(odd.slug(), "license-not-found");
}
