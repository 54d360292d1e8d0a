//! Contract v2's hardening, each point tried as an attacker would: identity
//! trusted only as far as it is proven, and keys that no claim can bend.

use licensing_tests::*;
use serde_json::{json, Value};

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
