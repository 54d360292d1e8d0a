//! Hostile input against every decoder that runs before storage is touched:
//! the paste parser, paths, query strings, bodies, bearer tokens, authorizer
//! claims, cursors, dates and purchase events. Each property asserts "no panic"
//! and the shape of what is accepted.
//!
//! `make test` runs 2,000 cases per property. The documented long run (over a
//! million generated inputs per property) is
//! `PROPTEST_CASES=1000000 cargo test --release -p licensing --test hostile_input`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::http::{Method, Request as HttpRequest};
use lambda_http::{Body, Request};
use licensing::api::{assign, change, list};
use licensing::emails::{self, MAX_ADDRESS};
use licensing::error::Error;
use licensing::events::orders;
use licensing::http::decode::{self, MAX_BODY_BYTES};
use licensing::http::identity::{self, AuthMode};
use licensing::http::request;
use licensing::http::{problem, respond};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// 2,000 cases unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 2_000;
    }
    config.failure_persistence = None;
    config
}

/// Any JSON value, nested a few levels, with keys the decoders know mixed in.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("emails".to_string()),
        Just("validFrom".to_string()),
        Just("validUntil".to_string()),
        Just("sendInvitation".to_string()),
        Just("dryRun".to_string()),
        Just("language".to_string()),
        Just("status".to_string()),
        Just("customerId".to_string()),
        "\\PC{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        "(19|20|99)[0-9]{2}-[0-1][0-9]-[0-3][0-9]".prop_map(Value::String),
        "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,4}([,;\n ]+[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,4}){0,5}"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn body_request(bytes: Vec<u8>) -> Request {
    HttpRequest::builder()
        .method("POST")
        .uri("https://api.example.com/licenses/lic_x/assignments")
        .body(Body::Binary(bytes))
        .unwrap()
}

/// Every decoding failure is a 4xx problem, never a 5xx.
fn assert_client_error(error: &Error) {
    let status = problem::response(error).status().as_u16();
    assert!((400..500).contains(&status), "{error:?} → {status}");
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pasted_text_never_panics_and_accepts_only_normalised_addresses(text in "\\PC{0,400}") {
        let parsed = emails::parse_paste(&text);
        for address in &parsed.valid {
            prop_assert!(address.len() <= MAX_ADDRESS);
            prop_assert!(address.is_ascii());
            prop_assert_eq!(address.clone(), address.to_lowercase());
            let again = emails::normalize(address);
            prop_assert_eq!(again.as_deref(), Some(address.as_str()));
        }
    }

    #[test]
    fn arbitrary_body_bytes_are_an_object_or_a_client_error(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for allow_empty in [false, true] {
            match decode::json_object(&body_request(bytes.clone()), allow_empty) {
                Ok(map) => {
                    // Decoded objects go on to the operation parsers.
                    if let Err(e) = assign::parse(map.clone()) { assert_client_error(&e) }
                    if let Err(e) = change::parse(map) { assert_client_error(&e) }
                }
                Err(e) => assert_client_error(&e),
            }
        }
    }

    #[test]
    fn arbitrary_json_bodies_parse_or_fail_as_validation_errors(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        match decode::json_object(&body_request(bytes), false) {
            Ok(map) => {
                match assign::parse(map.clone()) {
                    Ok(input) => prop_assert!(value.get("emails").is_some(), "{input:?}"),
                    Err(e) => assert_client_error(&e),
                }
                if let Err(e) = change::parse(map) { assert_client_error(&e) }
            }
            Err(e) => {
                prop_assert!(!value.is_object());
                assert_client_error(&e);
            }
        }
        // The same value as a purchase event: a clean rejection, never a panic.
        let source = orders::DEFAULT_SOURCE;
        let _ = orders::decode(&value, source);
        for detail_type in ["LicensePurchased", "LicenseRenewed", "LicenseQuantityChanged", "LicenseCancelled"] {
            let event = json!({"source": source, "time": "2026-11-28T14:49:43Z", "detail-type": detail_type, "detail": value});
            let _ = orders::decode(&event, source);
        }
    }

    #[test]
    fn arbitrary_paths_and_queries_route_or_are_problems(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]),
        segments in prop::collection::vec(prop_oneof![
            Just("licenses".to_string()), Just("assignments".to_string()), Just("me".to_string()),
            Just("invitation".to_string()), Just("%40".to_string()), Just("%ff%fe".to_string()),
            Just("..".to_string()), "[A-Za-z0-9_%@.+-]{0,20}", "\\PC{0,10}",
        ], 0..7),
        query in "[A-Za-z0-9=&%+;._~-]{0,60}",
    ) {
        let path = format!("/{}", segments.join("/"));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        if let Ok(route) = request::route_of(&method, &path) {
            if let Some(id) = route.license_id() {
                prop_assert!(!id.contains('/'));
            }
        }
        let uri = format!("https://api.example.com/licenses?{query}");
        let req = HttpRequest::builder().uri(uri).body(Body::Empty).unwrap();
        // A repeated parameter is a validation error, never a panic.
        for (k, v) in decode::query(&req).unwrap_or_default() {
            if let Some(email) = (k == "cursor").then_some(v) {
                let _ = list::decode_cursor(&email);
            }
        }
    }

    #[test]
    fn arbitrary_bearer_tokens_are_callers_or_unauthorized(
        scheme in prop::sample::select(vec!["Bearer ", "bearer ", "Basic ", "", "Bearer  "]),
        header in "\\PC{0,10}",
        claims in json_value(),
        signature in "[A-Za-z0-9_=.-]{0,20}",
        raw_payload in "[A-Za-z0-9_=+/-]{0,60}",
        encode in any::<bool>(),
    ) {
        let payload = if encode {
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
        } else {
            raw_payload
        };
        let token = format!("{scheme}{header}.{payload}.{signature}");
        let Ok(value) = token.parse::<lambda_http::http::HeaderValue>() else { return Ok(()) };
        let req = HttpRequest::builder()
            .uri("https://api.example.com/licenses")
            .header("authorization", value)
            .body(Body::Empty)
            .unwrap();
        // Without an authorizer, a deployed function trusts nothing in the header.
        prop_assert!(matches!(identity::caller(&req, AuthMode::Verified), Err(Error::Unauthorized)));
        match identity::caller(&req, AuthMode::LocalUnverified) {
            Ok(caller) => {
                prop_assert!(caller.sub.is_some() || caller.email.is_some());
                if let Err(e) = caller.admin() { assert_client_error(&e) }
            }
            Err(e) => prop_assert!(matches!(e, Error::Unauthorized)),
        }
    }

    #[test]
    fn arbitrary_dates_and_cursors_never_panic(text in "\\PC{0,24}", digits in "[0-9-]{0,12}") {
        for s in [&text, &digits] {
            if let Some(date) = decode::parse_date(s) {
                prop_assert_eq!(date.to_string(), s.clone());
            }
            if let Some(email) = list::decode_cursor(s) {
                prop_assert_eq!(list::decode_cursor(&list::encode_cursor(&email)), Some(email));
            }
        }
    }
}

/// Bodies no fuzzer stumbles upon: each is a 400 problem, and nothing panics
/// or recurses without bound.
#[test]
fn huge_nested_and_non_utf8_bodies_are_validation_errors() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("100,000 nested arrays", "[".repeat(100_000).into_bytes()),
        ("100,000 nested objects", "{\"a\":".repeat(100_000).into_bytes()),
        ("nested inside emails", {
            let mut b = b"{\"emails\":".to_vec();
            b.extend("[".repeat(10_000).bytes());
            b
        }),
        ("one byte over the limit", {
            let mut b = b"{\"emails\":\"".to_vec();
            b.resize(MAX_BODY_BYTES - 1, b'a');
            b.extend(b"\"}");
            b
        }),
        ("8 MiB", vec![b' '; 8 << 20]),
        ("invalid UTF-8", b"{\"emails\":\"\xff\xfe@example.com\"}".to_vec()),
        ("lone surrogate escape", br#"{"emails":"\ud800@example.com"}"#.to_vec()),
        ("NUL bytes", b"{\"emails\":\"a\0@example.com\"}".to_vec()),
        ("a number too big for anything", b"{\"emails\":1e999999}".to_vec()),
    ];
    for (name, bytes) in cases {
        let result = decode::json_object(&body_request(bytes), false).and_then(assign::parse);
        let error = result.expect_err(name);
        let response = respond(Err(error));
        assert_eq!(response.status(), 400, "{name}");
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{name}");
    }
    // A body of exactly the limit is read (and judged on its content).
    let mut exact = b"{\"emails\":\"".to_vec();
    exact.resize(MAX_BODY_BYTES - 2, b' ');
    exact.extend(b"\"}");
    assert_eq!(exact.len(), MAX_BODY_BYTES);
    assert!(decode::json_object(&body_request(exact), false).is_ok());
}
