//! Identity trusted only as far as it is proven (contract v2): a verified,
//! unfolded e-mail, a customer claim that can bend no key.

use licensing_tests::*;
use serde_json::{Value, json};

#[tokio::test]
async fn my_licenses_need_a_verified_email_that_is_never_folded() {
    let (app, id) = licensed(5).await;
    Client::admin(&app, CUSTOMER).assign(&id, "kate@example.com").await;
    let me = |email: &str, verified: Value| {
        Client::with_token(
            &app,
            token(json!({"sub": "s-kate", "email": email, "email_verified": verified,
                         "custom:customer_id": "anywhere", "cognito:groups": ["portal-user"]})),
        )
    };
    // The owner of the verified address sees the seat.
    let own = me("Kate@Example.com", json!(true)).my_licenses().await;
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
        let answer = me(email, verified.clone()).my_licenses().await;
        assert_eq!(
            (answer.status, answer.slug()),
            (403, "email-not-verified"),
            "{email} {verified}"
        );
        assert!(!raw(&answer).contains("kate@"), "{}", raw(&answer));
    }
    // Without any e-mail claim at all: the same.
    let none =
        Client::with_token(&app, token(json!({"sub": "s-x", "cognito:groups": ["portal-user"]})));
    let answer = none.my_licenses().await;
    assert_eq!((answer.status, answer.slug()), (403, "email-not-verified"));
}

#[tokio::test]
async fn admins_without_a_verified_email_are_recorded_by_subject() {
    let (app, id) = licensed(5).await;
    let unverified = Client::with_token(
        &app,
        token(json!({"sub": "0b1d-42", "email": "boss@example.com", "email_verified": false,
                     "custom:customer_id": CUSTOMER, "cognito:groups": ["license-admin"]})),
    );
    let assigned = unverified.assign(&id, "lena@example.com").await;
    assert_eq!(assigned.status, 201, "{:?}", assigned.body);
    assert_eq!(assigned.body["results"][0]["assignment"]["assignedBy"], "sub:0b1d-42");
    let revoked = unverified.revoke(&id, "lena@example.com").await;
    assert_eq!(revoked.body["revokedBy"], "sub:0b1d-42");
}

#[tokio::test]
async fn a_customer_claim_outside_the_pattern_reaches_no_key() {
    let (app, id) = licensed(5).await;
    let hire = json!({"emails": "secret-hire@example.com"});
    // The victim uses an Idempotency-Key that contains the key separator.
    let first = Client::admin(&app, CUSTOMER).assign_with_key(&id, "a#IDEMPOTENCY#b", &hire).await;
    assert_eq!(first.status, 201);
    let admin_of = |customer: &str| {
        Client::with_token(
            &app,
            token(
                json!({"sub": "mallory", "email": "mallory@evil.example", "email_verified": true,
                         "custom:customer_id": customer, "cognito:groups": ["license-admin"]}),
            ),
        )
    };
    // The attacker's tenant claim is built to land on the same record.
    let replay =
        admin_of(&format!("{CUSTOMER}#IDEMPOTENCY#a")).assign_with_key(&id, "b", &hire).await;
    assert_eq!((replay.status, replay.slug()), (403, "forbidden"));
    assert!(!raw(&replay).contains("secret-hire"), "{}", raw(&replay));
    for bad in ["cust 1001", "-cust", "cust/1001", "", "c\u{e9}"] {
        let answer = admin_of(bad).licenses("").await;
        assert_eq!((answer.status, answer.slug()), (403, "forbidden"), "{bad:?}");
    }
}

/// API Gateway hands the groups array over flattened ("[former license-admin]"),
/// where one group with a space reads as two. v2 made such a member an admin.
/// Only the exact group name in the verified token's own payload counts.
#[tokio::test]
async fn admin_is_the_exact_group_of_the_verified_token() {
    let (app, id) = licensed(3).await;
    let member = |groups: Value| {
        token(json!({"sub": "s-g", "email": "g@example.com", "email_verified": true,
                     "custom:customer_id": CUSTOMER, "cognito:groups": groups}))
    };
    for groups in
        [json!(["former license-admin"]), json!(["x,license-admin"]), json!("[license-admin]")]
    {
        let answer = Client::with_token(&app, member(groups.clone())).license(&id).await;
        assert_eq!(answer.status, 403, "{groups}");
    }
    let admin = Client::with_token(&app, member(json!(["portal-user", "license-admin"])));
    assert_eq!(admin.license(&id).await.status, 200);
}
