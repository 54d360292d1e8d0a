//! Contract v2's hardening, each point tried as an attacker would: identity
//! trusted only as far as it is proven, and keys that no claim can bend.

use licensing_tests::*;
use serde_json::{Value, json};

fn claims_token(claims: Value) -> String {
    token(claims)
}

/// A licence of `CUSTOMER` with `email` assigned.
async fn licence_with(app: &licensing::App, email: &str) -> String {
    let id = licence(app, CUSTOMER, 5).await;
    let answer = call(
        app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &admin(CUSTOMER),
        Some(json!({"emails": email})),
    )
    .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    id
}

#[tokio::test]
async fn my_licenses_need_a_verified_email_that_is_never_folded() {
    let app = fresh_app().await;
    licence_with(&app, "kate@example.com").await;
    let me = |email: &str, verified: Value| {
        claims_token(
            json!({"sub": "s-kate", "email": email, "email_verified": verified,
                            "custom:customer_id": "anywhere", "cognito:groups": ["portal-user"]}),
        )
    };
    // The owner of the verified address sees the seat.
    let own = call(
        &app,
        "GET",
        "/me/licenses",
        &me("Kate@Example.com", json!(true)),
        None,
    )
    .await;
    assert_eq!(own.status, 200);
    assert_eq!(own.body["licenses"].as_array().unwrap().len(), 1);
    // Anyone may claim any address before verifying it: no seats for them.
    for (email, verified) in [
        ("kate@example.com", json!(false)),
        ("kate@example.com", json!("false")),
        ("kate@example.com", Value::Null),
        // KELVIN SIGN, a fullwidth letter: look-alikes, not kate's address.
        ("\u{212A}ate@example.com", json!(true)),
        ("kate@example.\u{FF43}om", json!("true")),
    ] {
        let answer = call(
            &app,
            "GET",
            "/me/licenses",
            &me(email, verified.clone()),
            None,
        )
        .await;
        assert_eq!(
            (answer.status, answer.slug()),
            (403, "email-not-verified"),
            "{email} {verified}"
        );
        assert!(!raw(&answer).contains("kate@"), "{}", raw(&answer));
    }
    // Without any e-mail claim at all: the same.
    let none = claims_token(json!({"sub": "s-x", "cognito:groups": ["portal-user"]}));
    let answer = call(&app, "GET", "/me/licenses", &none, None).await;
    assert_eq!((answer.status, answer.slug()), (403, "email-not-verified"));
}

#[tokio::test]
async fn admins_without_a_verified_email_are_recorded_by_subject() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let unverified = claims_token(
        json!({"sub": "0b1d-42", "email": "boss@example.com", "email_verified": false,
               "custom:customer_id": CUSTOMER, "cognito:groups": "[license-admin]"}),
    );
    let assigned = call(
        &app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &unverified,
        Some(json!({"emails": "lena@example.com"})),
    )
    .await;
    assert_eq!(assigned.status, 201, "{:?}", assigned.body);
    assert_eq!(
        assigned.body["results"][0]["assignment"]["assignedBy"],
        "sub:0b1d-42"
    );
    let revoked = call(
        &app,
        "DELETE",
        &format!("/licenses/{id}/assignments/lena@example.com"),
        &unverified,
        None,
    )
    .await;
    assert_eq!(revoked.body["revokedBy"], "sub:0b1d-42");
}

#[tokio::test]
async fn a_customer_claim_outside_the_pattern_reaches_no_key() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    // The victim uses an Idempotency-Key that contains the key separator.
    let path = format!("/licenses/{id}/assignments");
    let first = post_with_key(
        &app,
        &path,
        &admin(CUSTOMER),
        "a#IDEMPOTENCY#b",
        &json!({"emails": "secret-hire@example.com"}),
    )
    .await;
    assert_eq!(first.status, 201);
    // The attacker's tenant claim is built to land on the same record.
    let forged = format!("{CUSTOMER}#IDEMPOTENCY#a");
    let attacker = claims_token(
        json!({"sub": "mallory", "email": "mallory@evil.example", "email_verified": true,
               "custom:customer_id": forged, "cognito:groups": ["license-admin"]}),
    );
    let replay = post_with_key(
        &app,
        &path,
        &attacker,
        "b",
        &json!({"emails": "secret-hire@example.com"}),
    )
    .await;
    assert_eq!((replay.status, replay.slug()), (403, "forbidden"));
    assert!(!raw(&replay).contains("secret-hire"), "{}", raw(&replay));
    for bad in ["cust 1001", "-cust", "cust/1001", "", "c\u{e9}"] {
        let t = claims_token(
            json!({"sub": "x", "email": "x@example.com", "email_verified": true,
                   "custom:customer_id": bad, "cognito:groups": ["license-admin"]}),
        );
        let answer = call(&app, "GET", "/licenses", &t, None).await;
        assert_eq!(
            (answer.status, answer.slug()),
            (403, "forbidden"),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- limits

/// An app whose clock stands one second into a fresh budget minute, so a
/// test's requests share one window (they take well under 59 s).
fn at_window_start(app: &licensing::App) -> licensing::App {
    let now = chrono::Utc::now().timestamp() + app.clock_offset;
    app.later(61 - now.rem_euclid(60))
}

fn addresses(n: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i}@example.com")).collect()
}

#[tokio::test]
async fn a_paste_of_50000_entries_is_refused_without_parsing_them_all() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    // 52,000 distinct short entries in a body under 256 KiB.
    let mut paste = String::new();
    let mut i = 0u32;
    while paste.len() < 250 * 1024 {
        paste.push_str(&format!("{i:x};"));
        i += 1;
    }
    assert!(i > 50_000, "{i} entries");
    let answer = call(
        &app,
        "POST",
        &format!("/licenses/{id}/assignments"),
        &admin(CUSTOMER),
        Some(json!({"emails": paste})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.slug()),
        (400, "validation-error"),
        "{:?}",
        answer.body
    );
    assert!(
        answer.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1000"),
        "{:?}",
        answer.body
    );
}

#[tokio::test]
async fn a_resend_waits_ten_minutes_unless_the_invitation_failed() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
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
    let resend = |app: licensing::App, email: &'static str| {
        let (path, a) = (path.clone(), a.clone());
        async move {
            call(
                &app,
                "POST",
                &format!("{path}/{email}/invitation"),
                &a,
                None,
            )
            .await
        }
    };
    let early = resend(app.later(60), "r@example.com").await;
    assert_eq!((early.status, early.slug()), (429, "rate-limited"));
    let wait: u32 = early.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((530..=540).contains(&wait), "Retry-After {wait}");
    let after = resend(app.later(601), "r@example.com").await;
    assert_eq!(after.status, 202, "{:?}", after.body);
    // The cooldown starts again with the resend.
    let again = resend(app.later(700), "r@example.com").await;
    assert_eq!((again.status, again.slug()), (429, "rate-limited"));
    assert_eq!(resend(app.later(1202), "r@example.com").await.status, 202);
    // The buyer's automatic seat never had an invitation: it may get one.
    let buyer = format!("buyer@{CUSTOMER}.example.com");
    let first = call(
        &app,
        "POST",
        &format!("{path}/{buyer}/invitation"),
        &a,
        None,
    )
    .await;
    assert_eq!(first.status, 202, "{:?}", first.body);
}

#[tokio::test]
async fn two_resends_at_once_pass_the_cooldown_once() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
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
    let later = app.later(601);
    let url = format!("{path}/r@example.com/invitation");
    let answers = futures_join(
        call(&later, "POST", &url, &a, None),
        call(&later, "POST", &url, &a, None),
    )
    .await;
    let mut statuses = [answers.0.status, answers.1.status];
    statuses.sort();
    assert_eq!(statuses, [202, 429]);
}

async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    tokio::join!(a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_customers_bulk_work_never_fails_another_customers_requests() {
    let base = fresh_app().await;
    let app = at_window_start(&base);
    let a = admin(CUSTOMER);
    let b = admin(OTHER_CUSTOMER);
    let mut theirs = Vec::new();
    for _ in 0..5 {
        theirs.push(licence(&app, CUSTOMER, 1_002).await);
    }
    let ours = licence(&app, OTHER_CUSTOMER, 50).await;
    // Customer A puts 5 × 1000 addresses through assign (its whole budget),
    // one bulk request after another, while customer B assigns one address
    // at a time.
    let bulk = {
        let (app, a, theirs) = (app.clone(), a.clone(), theirs.clone());
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for (i, id) in theirs.iter().enumerate() {
                let emails = addresses(1000, &format!("bulk{i}-"));
                let path = format!("/licenses/{id}/assignments");
                statuses.push(
                    call(&app, "POST", &path, &a, Some(json!({"emails": emails})))
                        .await
                        .status,
                );
            }
            statuses
        })
    };
    let mut singles = Vec::new();
    for i in 0..20 {
        let path = format!("/licenses/{ours}/assignments");
        let body = json!({"emails": format!("b{i}@example.com")});
        let answer = call(&app, "POST", &path, &b, Some(body)).await;
        singles.push(answer.status);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(bulk.await.unwrap(), [201; 5]);
    assert_eq!(singles, [201; 20]);
    // A's next address, even in a dry run, is one too many this minute.
    let path = format!("/licenses/{}/assignments", theirs[0]);
    let dry = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "x@example.com", "dryRun": true})),
    )
    .await;
    assert_eq!((dry.status, dry.slug()), (429, "rate-limited"));
    let wait: u32 = dry.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let real = post_with_key(
        &app,
        &path,
        &a,
        "k-429",
        &json!({"emails": "x@example.com"}),
    )
    .await;
    assert_eq!((real.status, real.slug()), (429, "rate-limited"));
    let listed = all_assignments(&app, CUSTOMER, &theirs[0]).await;
    assert!(
        !listed.iter().any(|x| x["email"] == "x@example.com"),
        "nothing assigned"
    );
    // B is not affected at all.
    let b_more = call(
        &app,
        "POST",
        &format!("/licenses/{ours}/assignments"),
        &b,
        Some(json!({"emails": "b-more@example.com"})),
    )
    .await;
    assert_eq!(b_more.status, 201, "{:?}", b_more.body);
    // The next minute, A may go on; the key of the refused request was given back.
    let next = app.later(60);
    let retried = post_with_key(
        &next,
        &path,
        &a,
        "k-429",
        &json!({"emails": "x@example.com"}),
    )
    .await;
    assert_eq!(retried.status, 201, "{:?}", retried.body);
}

#[tokio::test]
async fn the_assign_budget_counts_dry_runs_and_already_assigned_addresses() {
    let base = fresh_app().await;
    let mut app = at_window_start(&base);
    app.assign_budget = 10;
    let id = licence(&app, CUSTOMER, 50).await;
    let path = format!("/licenses/{id}/assignments");
    let a = admin(CUSTOMER);
    let dry = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": addresses(4, "d"), "dryRun": true})),
    )
    .await;
    assert_eq!(dry.status, 200);
    let real = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": addresses(4, "d")})),
    )
    .await;
    assert_eq!(real.status, 201);
    // 8 used: the same 2 again (already assigned, nothing written) fit...
    let same = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": addresses(2, "d")})),
    )
    .await;
    assert_eq!(same.status, 200);
    // ...and then nothing more does.
    let over = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "one@example.com"})),
    )
    .await;
    assert_eq!((over.status, over.slug()), (429, "rate-limited"));
    assert_eq!(
        all_assignments(&app, CUSTOMER, &id).await.len(),
        5,
        "buyer + 4"
    );
}

// ---------------------------------------------------------------- revocation

#[tokio::test]
async fn a_revocation_keeps_the_days_already_used() {
    let app = fresh_app().await;
    // One seat, from 30 days ago; the buyer gives theirs back today (a
    // revocation on the first day of a period frees all of it).
    let id = licence(&app, CUSTOMER, 1).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    let buyer = format!("buyer@{CUSTOMER}.example.com");
    call(&app, "DELETE", &format!("{path}/{buyer}"), &a, None).await;
    let anna = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "anna@example.com",
        "validFrom": days_from_today(-20), "validUntil": days_from_today(100)})),
    )
    .await;
    assert_eq!(anna.status, 201, "{:?}", anna.body);
    let revoked = call(
        &app,
        "DELETE",
        &format!("{path}/anna@example.com"),
        &a,
        None,
    )
    .await;
    assert_eq!(revoked.status, 200);
    // Anna's seat is free from today on...
    let licence_now = call(&app, "GET", &format!("/licenses/{id}"), &a, None).await;
    assert_eq!(licence_now.body["availableSeats"], 1);
    let from_today = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "dora@example.com",
        "validUntil": days_from_today(10), "dryRun": true})),
    )
    .await;
    assert_eq!(from_today.status, 200, "{:?}", from_today.body);
    // ...but the 20 days she used cannot be given to anybody again.
    let backdated = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "bob@example.com",
        "validFrom": days_from_today(-20), "validUntil": days_from_today(10)})),
    )
    .await;
    assert_eq!(
        (backdated.status, backdated.slug()),
        (409, "insufficient-seats"),
        "{:?}",
        backdated.body
    );
    assert_eq!(backdated.body["available"], 0);
}

#[tokio::test]
async fn reassigning_a_revoked_address_keeps_the_revocation_on_record() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 3).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "anna@example.com"})),
    )
    .await;
    call(
        &app,
        "DELETE",
        &format!("{path}/anna@example.com"),
        &a,
        None,
    )
    .await;
    let again = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "anna@example.com"})),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["results"][0]["assignment"]["status"], "active");
    let (_, found) = app
        .store
        .license_and_assignments(CUSTOMER, &id, &["anna@example.com".to_string()])
        .await
        .unwrap();
    let anna = &found["anna@example.com"];
    assert_eq!(anna.former.len(), 1);
    assert_eq!(
        anna.former[0].revoked_by.as_deref(),
        Some(format!("admin@{CUSTOMER}.example.com").as_str())
    );
    assert!(anna.former[0].revoked_at.is_some());
}

// ---------------------------------------------------------------- provision

#[tokio::test]
async fn the_buyers_seat_is_decided_without_the_index() {
    // A table without GSI1: any read of the index fails the invocation.
    dynamodb_endpoint();
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = format!("noindex-{}", ulid::Ulid::new().to_string().to_lowercase());
    let client = dynamodb_client();
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, k| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(k)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("PK"))
        .attribute_definitions(attr("SK"))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let app = licensing::App::new(
        licensing::store::Store::new(client, table),
        licensing::http::identity::AuthMode::Verified,
    );
    let buy = |order: &str| {
        let mut e = purchase(
            order,
            CUSTOMER,
            "Buyer@Example.com",
            5,
            days_from_today(-1),
            days_from_today(300),
        );
        e["detail"]["productId"] = json!("same-product");
        e
    };
    let first = licensing::provision::handle(&app, buy("ORD-A"))
        .await
        .expect("provisioned");
    assert!(first.buyer_assigned);
    // The buyer already holds a seat of this product: no second one.
    let second = licensing::provision::handle(&app, buy("ORD-B"))
        .await
        .expect("provisioned");
    assert!(!second.buyer_assigned);
}
