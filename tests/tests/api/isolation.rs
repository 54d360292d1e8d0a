//! Tenants, roles and identity: another customer's licence is not found, a
//! user is not an admin, no identity is 401, and claims come only from the
//! authorizer; `GET /me/licenses` across customers.

use licensing_tests::*;
use serde_json::{Value, json};

#[tokio::test]
async fn tenants_roles_and_identity_are_enforced() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    a.assign(&id, "t@example.com").await;
    let foreign = Client::admin(&app, OTHER_CUSTOMER);
    let member = Client::user(&app, "t@example.com", CUSTOMER);
    let anonymous = Client::anonymous(&app);
    let garbage = Client::with_token(&app, "not.a-jwt");
    let item = format!("/licenses/{id}/assignments/t@example.com");
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/licenses/{id}"), None),
        ("GET", format!("/licenses/{id}/assignments"), None),
        ("GET", format!("/licenses/{id}/history"), None),
        ("GET", format!("/licenses/{id}/usage"), None),
        ("POST", format!("/licenses/{id}/assignments"), Some(json!({"emails": "new@example.com"}))),
        ("PATCH", item.clone(), Some(json!({"validUntil": days_from_today(3)}))),
        ("DELETE", item.clone(), None),
        ("POST", format!("{item}/invitation"), None),
    ];
    for (method, path, body) in &routes {
        let other = foreign.send(method, path, body.clone()).await;
        assert_eq!((other.status, other.slug()), (404, "license-not-found"), "{method} {path}");
        // Nothing of the other customer's data leaks into the answer.
        let text = raw(&other);
        assert!(
            !text.contains("t@example.com")
                && !text.contains(CUSTOMER)
                && !text.contains("product-"),
            "{text}"
        );
        let not_admin = member.send(method, path, body.clone()).await;
        assert_eq!((not_admin.status, not_admin.slug()), (403, "forbidden"), "{method} {path}");
        let nobody = anonymous.send(method, path, body.clone()).await;
        assert_eq!((nobody.status, nobody.slug()), (401, "unauthorized"), "{method} {path}");
        assert_eq!(garbage.send(method, path, None).await.status, 401, "{method} {path}");
    }
    // Claims in query strings or bodies are never trusted over the token.
    for query in [
        format!("customerId={CUSTOMER}&custom:customer_id={CUSTOMER}"),
        format!("status=all&customer_id={CUSTOMER}"),
    ] {
        let listed = foreign.licenses(&query).await;
        assert_eq!(listed.status, 200, "{query}");
        assert!(listed.body["licenses"].as_array().unwrap().is_empty(), "{query}");
    }
    let smuggled =
        foreign.assign_body(&id, json!({"emails": "x@example.com", "customerId": CUSTOMER})).await;
    assert!(matches!(smuggled.status, 400 | 404), "{:?}", smuggled.body);
    assert!(!raw(&smuggled).contains("t@example.com"));
    for answer in [anonymous.licenses("").await, anonymous.my_licenses().await] {
        assert_eq!((answer.status, answer.slug()), (401, "unauthorized"));
    }
    assert_eq!(member.licenses("").await.status, 403);
    assert_eq!(a.all_assignments(&id).await.len(), 2, "nothing written by the refused calls");
}

#[tokio::test]
async fn verified_claims_from_the_authorizer_are_used() {
    let (app, id) = licensed(2).await;
    // The authorizer's claims win over whatever the bearer token says
    // (the token's payload counts only for its groups, and only when its
    // sub and iat are the verified claims').
    let other = Client::admin(&app, OTHER_CUSTOMER);
    let mut req = other.request("GET", &format!("/licenses/{id}"), None);
    let mut claims = claims_of(&admin(OTHER_CUSTOMER)).unwrap();
    claims.insert("custom:customer_id".into(), json!(CUSTOMER));
    req.extensions_mut().insert(authorizer_context(&claims));
    assert_eq!(send(&app, req).await.status, 200);
    // Another token than the one verified: its groups do not count.
    let mut req = other.request("GET", &format!("/licenses/{id}"), None);
    claims.insert("sub".into(), json!("s1"));
    req.extensions_mut().insert(authorizer_context(&claims));
    assert_eq!(send(&app, req).await.status, 403);
    // Without an authorizer context (and without local mode) a bearer token is not trusted.
    let bare = Client::admin(&app, CUSTOMER).send_bare("GET", "/licenses").await;
    assert_eq!(bare.status, 401);
}

#[tokio::test]
async fn me_lists_own_current_seats_across_customers() {
    let app = fresh_app().await;
    let mine = "me@example.com";
    let first = licence(&app, CUSTOMER, 3).await;
    let second = licence(&app, OTHER_CUSTOMER, 3).await;
    Client::admin(&app, CUSTOMER).assign(&first, "Me@Example.com").await;
    Client::admin(&app, OTHER_CUSTOMER).assign(&second, mine).await;
    let me = Client::user(&app, "ME@example.com", "whatever").my_licenses().await;
    assert_eq!(me.status, 200);
    let list = me.body["licenses"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for l in list {
        assert_eq!(l["email"], mine);
        assert!(l["productName"].is_string() && l["term"]["start"].is_string());
    }
    Client::admin(&app, CUSTOMER).revoke(&first, mine).await;
    let me = Client::user(&app, mine, "x");
    let mut gone = false;
    for _ in 0..20 {
        let seats = me.my_licenses().await;
        if seats.body["licenses"].as_array().unwrap().len() == 1 {
            assert_eq!(seats.body["licenses"][0]["licenseId"], second);
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "a revoked seat disappears from /me/licenses within seconds");
}
