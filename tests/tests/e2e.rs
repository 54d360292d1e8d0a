//! End to end through `cargo lambda watch`: the contract's routes from
//! Cargo.toml's router, the real function binaries, DynamoDB Local.

use std::time::{Duration, Instant};

use licensing_tests::local::{start_watch, Http};
use licensing_tests::*;
use serde_json::json;

#[test]
fn the_seed_story_through_the_http_routes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(fresh_app());
    let watch = start_watch(app.store.table(), true);
    let http = Http {
        base: watch.base.clone(),
    };
    let a = admin(CUSTOMER);

    // Provisioning through the Lambda invoke API, twice: one licence.
    let event = purchase(
        "ORD-E2E",
        CUSTOMER,
        "buyer@example.com",
        5,
        days_from_today(-10),
        days_from_today(300),
    );
    let (status, _, first) = http.send(
        "POST",
        "/2015-03-31/functions/provision/invocations",
        None,
        Some(event.clone()),
    );
    assert_eq!(status, 200, "{first}");
    let (_, _, second) = http.send(
        "POST",
        "/2015-03-31/functions/provision/invocations",
        None,
        Some(event),
    );
    assert_eq!(first, second);
    assert_eq!(first["buyerAssigned"], true);
    let id = first["licenseId"].as_str().unwrap().to_string();

    let (status, ct, list) = http.send("GET", "/licenses", Some(&a), None);
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(list["licenses"][0]["availableSeats"], 4);

    let (anna, bob, carl) = (unique("anna"), unique("bob"), unique("carl"));
    let paste = format!("{anna};\"Meier, Bob\" <{}>\r\n{carl}", bob.to_uppercase());
    let assigned_at = Instant::now();
    let path = format!("/licenses/{id}/assignments");
    let (status, _, assigned) = http.send("POST", &path, Some(&a), Some(json!({"emails": paste})));
    assert_eq!(status, 201, "{assigned}");
    assert_eq!(assigned["license"]["availableSeats"], 1);

    // The stream relay hands the new assignments to notify: one mail each.
    for to in [&anna, &bob, &carl] {
        while mails_to(to).is_empty() {
            assert!(
                assigned_at.elapsed() < Duration::from_secs(60),
                "no invitation for {to}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!(
        "three invitations arrived {:?} after the assign",
        assigned_at.elapsed()
    );
    std::thread::sleep(Duration::from_secs(1));
    for to in [&anna, &bob, &carl] {
        assert_eq!(mails_to(to).len(), 1, "exactly one mail for {to}");
    }
    let (_, _, listed) = http.send("GET", &path, Some(&a), None);
    let sent = listed["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["invitation"]["status"] == "sent")
        .count();
    assert_eq!(sent, 3, "{listed}");

    let encoded = anna.to_uppercase().replace('@', "%40");
    let until = days_from_today(30).to_string();
    let (status, _, changed) = http.send(
        "PATCH",
        &format!("{path}/{encoded}"),
        Some(&a),
        Some(json!({"validUntil": until})),
    );
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["validUntil"], until);

    let (status, _, revoked) = http.send("DELETE", &format!("{path}/{bob}"), Some(&a), None);
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));

    let (status, _, page) = http.send("GET", &format!("{path}?status=active"), Some(&a), None);
    assert_eq!(status, 200);
    assert_eq!(page["assignments"].as_array().unwrap().len(), 3);

    let (status, _, mine) = http.send("GET", "/me/licenses", Some(&user(&carl, CUSTOMER)), None);
    assert_eq!(status, 200);
    assert_eq!(mine["licenses"][0]["licenseId"], id.as_str());

    // A resend goes through the stream again: a second mail for Carl.
    let (status, _, resent) =
        http.send("POST", &format!("{path}/{carl}/invitation"), Some(&a), None);
    assert_eq!(
        (status, resent["invitation"]["status"].as_str()),
        (202, Some("pending"))
    );
    let resent_at = Instant::now();
    while mails_to(&carl).len() < 2 {
        assert!(
            resent_at.elapsed() < Duration::from_secs(60),
            "no second invitation"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Errors are problem+json on every path, including the router's fallbacks.
    for (method, path, token, status) in [
        ("GET", "/licenses".to_string(), None, 401),
        (
            "GET",
            format!("/licenses/{id}"),
            Some(admin(OTHER_CUSTOMER)),
            404,
        ),
        ("PUT", path.clone(), Some(a.clone()), 405),
        ("GET", format!("{path}/{carl}"), Some(a.clone()), 405),
        ("GET", "/no/such/route".to_string(), Some(a.clone()), 404),
    ] {
        let (got, ct, body) = http.send(method, &path, token.as_deref(), None);
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_eq!(ct, "application/problem+json", "{method} {path}");
    }
}
