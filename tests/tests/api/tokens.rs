//! `/tokens` (v3): provisioning tokens, created, listed and revoked by a
//! licence admin, and presented by a machine instead of a person's JWT.

use licensing::App;
use licensing::error::Error;
use licensing::model::{Scope, digest};
use licensing::usecase::tokens::authenticate;
use licensing_tests::*;
use serde_json::{Value, json};

async fn create(client: &Client<'_>, name: &str) -> Answer {
    client.send("POST", "/tokens", Some(json!({"name": name, "scopes": ["scim"]}))).await
}

/// A fresh app, `customer`'s admin, and one token's answer.
async fn with_token(app: &App, customer: &str) -> (String, String) {
    let created = create(&Client::admin(app, customer), "Okta").await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["tokenId"].as_str().unwrap().to_string();
    (id, created.body["token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_token_is_shown_once_and_kept_only_as_its_digest() {
    let app = fresh_app().await;
    let admin = Client::admin(&app, CUSTOMER);
    let body = json!({"name": " Okta SCIM ", "scopes": ["scim"], "expiresAt": days_from_today(30)});
    let created = admin.send("POST", "/tokens", Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let t = &created.body;
    let secret = t["token"].as_str().unwrap();
    assert!(secret.starts_with("lmt_") && secret.len() == 56, "{secret}");
    assert!(secret[4..].bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));
    assert_eq!(t["name"], "Okta SCIM");
    assert_eq!(t["scopes"], json!(["scim"]));
    assert_eq!(t["expiresAt"], json!(days_from_today(30)));
    assert_eq!(t["createdBy"], format!("admin@{CUSTOMER}.example.com"));
    assert_eq!(
        (&t["lastUsedAt"], &t["revokedAt"], &t["revokedBy"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    let id = t["tokenId"].as_str().unwrap();
    assert!(id.starts_with("tok_"), "{id}");

    let stored = app.store.token(CUSTOMER, id).await.unwrap().unwrap();
    assert_eq!(stored.digest, digest(secret));
    assert!(!format!("{stored:?}").contains(&secret[4..]), "the secret is not stored");
    let listed = admin.send("GET", "/tokens", None).await;
    assert_eq!(listed.status, 200);
    let tokens = listed.body["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].get("token").is_none() && tokens[0].get("digest").is_none(), "{tokens:?}");
    assert_eq!(tokens[0]["tokenId"], id);
}

#[tokio::test]
async fn a_token_request_names_every_bad_field() {
    let app = fresh_app().await;
    let admin = Client::admin(&app, CUSTOMER);
    let bad = json!({"name": "", "scopes": ["scim", "admin"], "expiresAt": today(), "owner": "x"});
    let refused = admin.send("POST", "/tokens", Some(bad)).await;
    assert_eq!((refused.status, refused.slug()), (400, "validation-error"));
    let fields = strings_of(&refused.body["errors"], "field");
    assert!(fields.contains(&"owner"), "{fields:?}");
    let bad =
        json!({"name": "x".repeat(101), "scopes": ["scim"], "expiresAt": days_from_today(366)});
    let refused = admin.send("POST", "/tokens", Some(bad)).await;
    assert_eq!(strings_of(&refused.body["errors"], "field"), ["name", "expiresAt"]);
    let refused =
        admin.send("POST", "/tokens", Some(json!({"name": "a\u{1b}b", "scopes": []}))).await;
    assert_eq!(strings_of(&refused.body["errors"], "field"), ["name", "scopes"]);
    assert!(app.store.tokens(CUSTOMER).await.unwrap().tokens.is_empty(), "nothing was created");
    let user = Client::user(&app, "someone@example.com", CUSTOMER);
    assert_eq!(create(&user, "mine").await.status, 403);
    assert_eq!(user.send("GET", "/tokens", None).await.status, 403);
}

#[tokio::test]
async fn ten_usable_tokens_at_most_even_when_created_at_once() {
    let app = fresh_app().await;
    let admin = Client::admin(&app, CUSTOMER);
    for n in 0..8 {
        assert_eq!(create(&admin, &format!("t{n}")).await.status, 201);
    }
    let tasks: Vec<_> = (0..5)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                create(&Client::admin(&app, CUSTOMER), &format!("race{n}")).await
            })
        })
        .collect();
    let mut at_once = Vec::new();
    for task in tasks {
        at_once.push(task.await.unwrap());
    }
    let statuses: Vec<u16> = at_once.iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 2, "{statuses:?}");
    let refused = at_once.iter().find(|a| a.status == 409).expect("some refused");
    assert_eq!((refused.slug(), &refused.body["limit"]), ("token-limit", &json!(10)));
    let tokens = admin.send("GET", "/tokens", None).await.body["tokens"].clone();
    assert_eq!(tokens.as_array().unwrap().len(), 10);
    let created: Vec<&str> = strings_of(&tokens, "createdAt");
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first: {created:?}");
    // A revoked token no longer counts.
    let id = tokens[0]["tokenId"].as_str().unwrap();
    assert_eq!(admin.send("DELETE", &format!("/tokens/{id}"), None).await.status, 200);
    assert_eq!(create(&admin, "again").await.status, 201);
    assert_eq!(create(&admin, "one too many").await.status, 409);
    // Nor does an expired one: a day after the last day of every token, there is room.
    let later = app.later(367 * 86_400);
    assert_eq!(create(&admin.on(&later), "next year").await.status, 201);
}

#[tokio::test]
async fn a_revoked_token_is_refused_from_the_next_request_on() {
    let app = fresh_app().await;
    let (id, secret) = with_token(&app, CUSTOMER).await;
    let machine = authenticate(&app, &secret, Scope::Scim).await.unwrap();
    assert_eq!((machine.customer_id.as_str(), machine.token_id.as_str()), (CUSTOMER, id.as_str()));
    assert_eq!(machine.actor(), format!("scim:{id}"));

    let admin = Client::admin(&app, CUSTOMER);
    let revoked = admin.send("DELETE", &format!("/tokens/{id}"), None).await;
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    assert_eq!(revoked.body["revokedBy"], format!("admin@{CUSTOMER}.example.com"));
    assert!(revoked.body["revokedAt"].is_string());
    assert_eq!(authenticate(&app, &secret, Scope::Scim).await, Err(Error::Unauthorized));
    let again = admin.send("DELETE", &format!("/tokens/{id}"), None).await;
    assert_eq!(
        (again.status, &again.body),
        (200, &revoked.body),
        "revoking again answers the same"
    );
}

#[tokio::test]
async fn tokens_are_refused_after_their_last_day_and_when_malformed() {
    let app = fresh_app().await;
    let admin = Client::admin(&app, CUSTOMER);
    let body = json!({"name": "short", "scopes": ["scim"], "expiresAt": days_from_today(1)});
    let secret =
        admin.send("POST", "/tokens", Some(body)).await.body["token"].as_str().unwrap().to_string();
    assert!(
        authenticate(&app.later(86_400), &secret, Scope::Scim).await.is_ok(),
        "through its last day"
    );
    let after = app.later(2 * 86_400);
    assert_eq!(authenticate(&after, &secret, Scope::Scim).await, Err(Error::Unauthorized));
    let forged = format!("lmt_{}", "a".repeat(52));
    assert_eq!(authenticate(&app, &forged, Scope::Scim).await, Err(Error::Unauthorized));
    for garbage in ["", "lmt_", "Bearer x", &secret.to_uppercase(), &format!("{secret}a")] {
        assert_eq!(
            authenticate(&app, garbage, Scope::Scim).await,
            Err(Error::Unauthorized),
            "{garbage}"
        );
    }
}

#[tokio::test]
async fn last_use_is_kept_to_the_minute() {
    let app = fresh_app().await;
    let (id, secret) = with_token(&app, CUSTOMER).await;
    // A clock at the start of a minute, so that the test's own steps stay in it.
    let now = app.now();
    let start = app.later(60 - now.timestamp().rem_euclid(60));
    let used = |app: App| {
        let secret = secret.clone();
        async move {
            authenticate(&app, &secret, Scope::Scim).await.unwrap();
        }
    };
    let last_used =
        || async { app.store.token(CUSTOMER, &id).await.unwrap().unwrap().last_used_at };
    used(start.clone()).await;
    let minute = last_used().await.expect("recorded");
    assert_eq!(minute.timestamp() % 60, 0, "{minute}");
    assert!((start.now() - minute).num_seconds() < 30, "{minute}");
    used(start.later(30)).await;
    assert_eq!(last_used().await, Some(minute), "the same minute writes nothing new");
    used(start.later(61)).await;
    assert_eq!(last_used().await, Some(minute + chrono::Duration::seconds(60)));
    // Round trips, through a proxy that counts them: a use already recorded
    // this minute reads one item and writes nothing.
    let proxy = licensing_tests::proxy::Proxy::start(dynamodb_endpoint()).await;
    let mut via = app_at(&proxy.url, app.store.table());
    via.clock_offset = start.clock_offset;
    proxy.clear_counts();
    authenticate(&via.later(62), &secret, Scope::Scim).await.unwrap();
    assert_eq!(
        (proxy.seen("GetItem"), proxy.seen("TransactWriteItems")),
        (1, 0),
        "same minute: one read"
    );
    authenticate(&via.later(121), &secret, Scope::Scim).await.unwrap();
    assert_eq!(
        (proxy.seen("GetItem"), proxy.seen("TransactWriteItems")),
        (2, 1),
        "a new minute: one write"
    );
    let listed = Client::admin(&app, CUSTOMER).send("GET", "/tokens", None).await;
    let shown: chrono::DateTime<chrono::Utc> =
        listed.body["tokens"][0]["lastUsedAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown, minute + chrono::Duration::seconds(120));
}

#[tokio::test]
async fn another_customers_token_is_not_found() {
    let app = fresh_app().await;
    let (id, secret) = with_token(&app, CUSTOMER).await;
    let other = Client::admin(&app, OTHER_CUSTOMER);
    let answer = other.send("DELETE", &format!("/tokens/{id}"), None).await;
    assert_eq!((answer.status, answer.slug()), (404, "token-not-found"));
    assert!(other.send("GET", "/tokens", None).await.body["tokens"].as_array().unwrap().is_empty());
    assert!(authenticate(&app, &secret, Scope::Scim).await.is_ok(), "still usable");
    for unknown in ["tok_nope", "nope", "tok_%2e%2e"] {
        let answer = other.send("DELETE", &format!("/tokens/{unknown}"), None).await;
        assert_eq!(answer.slug(), "token-not-found", "{unknown}");
    }
}
