//! Webhooks (API.md v3) against DynamoDB Local, the local AWS emulator (SQS,
//! KMS, EventBridge) and a receiver that verifies every delivery with the
//! `standardwebhooks` library (infra/local/webhook_receiver.py). The queue
//! is drained here through `deliver`'s own edge (`events::queue::handle`),
//! as Lambda's SQS trigger would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use licensing::App;
use licensing::outbound::{Job, Outbound, Resolve, Sender};
use licensing::store::HistoryQuery;
use licensing::usecase::deliver::Courier;
use licensing_tests::*;
use serde_json::{Value, json};

struct Hooks {
    app: App,
    courier: Courier,
    outbound: Outbound,
}

/// Names the tests resolve themselves (what a rebinding DNS could answer).
struct TestResolver(HashMap<&'static str, Vec<&'static str>>);

impl Resolve for TestResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        let found = self.0.get(host).map(|ips| {
            ips.iter().map(|ip| SocketAddr::new(ip.parse().unwrap(), port)).collect::<Vec<_>>()
        });
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such name"))
        })
    }
}

fn resolver() -> TestResolver {
    TestResolver(HashMap::from([
        ("loopback.rebind.example.com", vec!["127.0.0.1"]),
        ("metadata.rebind.example.com", vec!["169.254.169.254"]),
        ("mapped.rebind.example.com", vec!["::ffff:10.0.0.1"]),
        ("mixed.rebind.example.com", vec!["93.184.215.14", "192.168.1.20"]),
        ("shared.rebind.example.com", vec!["100.64.0.7"]),
    ]))
}

async fn hooks(tag: &str) -> Hooks {
    let outbound = outbound(tag, true).await;
    let app = fresh_app().await.with_outbound(outbound.clone());
    let courier = Courier {
        store: app.store.clone(),
        outbound: outbound.clone(),
        sender: Sender::new(Box::new(resolver())),
        // 5 s → 0.5 ms, 10 h → 3.6 s (a queue delay is whole seconds).
        scale: 0.0001,
    };
    Hooks { app, courier, outbound }
}

/// A path of this test's own at the receiver, ending in `mode`.
fn path(mode: &str) -> String {
    format!("/{}/{mode}", ulid::Ulid::new().to_string().to_lowercase())
}

async fn create(h: &Hooks, url: &str, events: Value) -> (String, String) {
    let body = json!({"url": url, "events": events, "description": "test"}).to_string();
    let a = send(&h.app, request("POST", "/webhooks", Some(&admin(CUSTOMER)), Some(&body))).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    (a.body["webhookId"].as_str().unwrap().into(), a.body["secret"].as_str().unwrap().into())
}

/// An endpoint at the receiver's `path`, its secrets registered there.
async fn receiving(h: &Hooks, path: &str, events: Value) -> String {
    let (id, secret) = create(h, &format!("{}{path}", webhook_receiver()), events).await;
    register(path, &[&secret]).await;
    id
}

/// A plain HTTP client for the receiver's control paths.
fn http() -> reqwest::Client {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
    reqwest::Client::new()
}

async fn register(path: &str, secrets: &[&str]) {
    let body = json!({"path": path, "secrets": secrets});
    let url = format!("{}/_secrets", webhook_receiver());
    let answer = http().post(url).body(body.to_string()).send().await.unwrap();
    assert!(answer.status().is_success());
}

/// What the receiver got at `path`, in order of arrival.
async fn received(path: &str) -> Vec<Value> {
    let url = format!("{}/_received", webhook_receiver());
    let text = http().get(url).send().await.unwrap().text().await.unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    all.into_iter().filter(|r| r["path"] == path).collect()
}

/// The licence's history entries, oldest first.
async fn entries(app: &App, license_id: &str) -> Vec<licensing::model::Entry> {
    let q =
        HistoryQuery { customer_id: CUSTOMER, license_id, email: None, before: None, limit: 100 };
    let (mut entries, _) = app.store.history_page(&q).await.unwrap();
    entries.reverse();
    entries
}

/// The entries out as events, as `notify` sends them when the stream brings them.
async fn publish(h: &Hooks, license_id: &str) -> usize {
    let entries = entries(&h.app, license_id).await;
    let out = licensing::usecase::outbox::publish(
        &h.app.store,
        &h.outbound,
        &entries,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    out.jobs
}

/// Receives from the queue and runs `deliver` on what comes, as Lambda's
/// SQS trigger would (messages not answered as failures are deleted),
/// until `done` holds or `seconds` pass.
async fn drain_until<F, Fut>(h: &Hooks, seconds: u64, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if done().await {
            return;
        }
        assert!(Instant::now() < deadline, "not done within {seconds} s");
        let got = h
            .outbound
            .sqs
            .receive_message()
            .queue_url(&h.outbound.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(30)
            .send()
            .await
            .unwrap();
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle,
                            "body": m.body, "eventSource": "aws:sqs"})
            })
            .collect();
        let answer =
            licensing::events::queue::handle(&h.courier, &json!({"Records": records})).await;
        let failed: Vec<&str> = answer["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["itemIdentifier"].as_str())
            .collect();
        for m in &messages {
            if !failed.contains(&m.message_id.as_deref().unwrap_or_default()) {
                let handle = m.receipt_handle.clone().unwrap();
                h.outbound
                    .sqs
                    .delete_message()
                    .queue_url(&h.outbound.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// Drains until the queue stays empty for two polls.
async fn drain(h: &Hooks, seconds: u64) {
    let empty = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    drain_until(h, seconds, || {
        let sqs = h.outbound.sqs.clone();
        let url = h.outbound.queue_url.clone();
        let empty = empty.clone();
        async move {
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs_names::ALL)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap_or_default();
            let counts = [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ];
            let count: u64 = attrs
                .iter()
                .filter(|(name, _)| counts.contains(&name.as_str()))
                .filter_map(|(_, v)| v.parse::<u64>().ok())
                .sum();
            use std::sync::atomic::Ordering::SeqCst;
            if count == 0 {
                empty.fetch_add(1, SeqCst) + 1 >= 2
            } else {
                empty.store(0, SeqCst);
                false
            }
        }
    })
    .await;
}

mod aws_sdk_sqs_names {
    pub use aws_sdk_sqs::types::QueueAttributeName as QueueAttribute;
    pub const ALL: QueueAttribute = QueueAttribute::All;
}

async fn get(h: &Hooks, path: &str) -> Answer {
    send(&h.app, request("GET", path, Some(&admin(CUSTOMER)), None)).await
}

async fn post(h: &Hooks, path: &str, body: Option<&str>) -> Answer {
    send(&h.app, request("POST", path, Some(&admin(CUSTOMER)), body)).await
}

async fn deliveries(h: &Hooks, webhook_id: &str) -> Vec<Value> {
    let a = get(h, &format!("/webhooks/{webhook_id}/deliveries?limit=100")).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["deliveries"].as_array().unwrap().clone()
}

async fn assign(h: &Hooks, license_id: &str, emails: &str) {
    let body = json!({ "emails": emails }).to_string();
    let path = format!("/licenses/{license_id}/assignments");
    let a = send(&h.app, request("POST", &path, Some(&admin(CUSTOMER)), Some(&body))).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
}

#[tokio::test]
async fn endpoints_are_created_listed_changed_and_deleted_up_to_five() {
    let h = hooks("crud").await;
    let url = "https://hooks.example.com/licensing";
    let (id, secret) = create(&h, url, json!(["assignment.revoked", "seats.exhausted"])).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(base64_len(&secret["whsec_".len()..]), 32);
    // The secret is in no read answer, and stored only sealed.
    let one = get(&h, &format!("/webhooks/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["events"], json!(["assignment.revoked", "seats.exhausted"]));
    assert_eq!(one.body["enabled"], true);
    assert!(one.body.get("secret").is_none());
    let list = get(&h, "/webhooks").await;
    assert_eq!(list.body["webhooks"].as_array().unwrap().len(), 1);
    assert!(!list.body.to_string().contains(&secret));
    let raw = format!(
        "{:?}",
        raw_item(&h.app, &format!("CUSTOMER#{CUSTOMER}"), &format!("WEBHOOK#{id}")).await
    );
    assert!(!raw.contains(&secret["whsec_".len()..]), "the secret is stored in the clear");
    // Disabled by the admin, then enabled again.
    let patch = |body: Value| {
        let (h, id) = (&h, id.clone());
        async move {
            let path = format!("/webhooks/{id}");
            send(&h.app, request("PATCH", &path, Some(&admin(CUSTOMER)), Some(&body.to_string())))
                .await
        }
    };
    let off = patch(json!({"enabled": false, "events": ["*"]})).await;
    assert_eq!(
        (off.status, &off.body["disabledReason"], &off.body["events"]),
        (200, &json!("by-admin"), &json!(["*"]))
    );
    let on = patch(json!({"enabled": true, "description": null})).await;
    assert_eq!(
        (on.body["enabled"].clone(), on.body["disabledReason"].clone()),
        (json!(true), Value::Null)
    );
    assert_eq!(on.body["description"], Value::Null);
    assert_eq!(patch(json!({"events": ["assignment.deleted"]})).await.status, 400);
    assert_eq!(patch(json!({"secret": "mine"})).await.status, 400);
    assert_eq!(patch(json!({"enabled": null})).await.status, 400, "null is no answer to enabled");
    // Five at most.
    for n in 2..=5 {
        create(&h, &format!("https://hooks{n}.example.com/in"), json!(["*"])).await;
    }
    let body = json!({"url": "https://six.example.com/in", "events": ["*"]}).to_string();
    let sixth = post(&h, "/webhooks", Some(&body)).await;
    assert_eq!(
        (sixth.status, sixth.slug(), &sixth.body["limit"]),
        (409, "webhook-limit", &json!(5))
    );
    // Another customer's admin sees none of them.
    let theirs = send(
        &h.app,
        request("GET", &format!("/webhooks/{id}"), Some(&admin(OTHER_CUSTOMER)), None),
    )
    .await;
    assert_eq!((theirs.status, theirs.slug()), (404, "webhook-not-found"));
    let gone =
        send(&h.app, request("DELETE", &format!("/webhooks/{id}"), Some(&admin(CUSTOMER)), None))
            .await;
    assert_eq!(gone.status, 200);
    assert_eq!(get(&h, &format!("/webhooks/{id}")).await.status, 404);
    assert_eq!(post(&h, "/webhooks", Some(&body)).await.status, 201, "room again after a delete");
}

fn base64_len(text: &str) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap().len()
}

async fn raw_item(app: &App, pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    app.store
        .client()
        .get_item()
        .table_name(app.store.table())
        .key("PK", AttributeValue::S(pk.into()))
        .key("SK", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
}

#[tokio::test]
async fn urls_that_name_an_address_or_no_public_name_are_refused() {
    let h = hooks("urls").await;
    for url in [
        "https://127.0.0.1/in",
        "https://2130706433/in",
        "https://0x7f000001/in",
        "https://0177.0.0.1/in",
        "https://[::1]/in",
        "https://[::ffff:169.254.169.254]/in",
        "https://[64:ff9b::a9fe:a9fe]/in",
        "https://[2002:a9fe:a9fe::]/in",
        "https://localhost/in",
        "https://intranet/in",
        "https://user:pass@hooks.example.com/in",
        "https://hooks.example.com:22/in",
        "http://hooks.example.com/in",
        "http://127.0.0.2:8080/in",
    ] {
        let body = json!({"url": url, "events": ["*"]}).to_string();
        let a = post(&h, "/webhooks", Some(&body)).await;
        assert_eq!(
            (a.status, a.body["errors"][0]["field"].as_str()),
            (400, Some("url")),
            "{url}: {:?}",
            a.body
        );
    }
    // Local builds also take the loopback address by number, over http.
    let local = json!({"url": "http://127.0.0.1:8999/in", "events": ["*"]}).to_string();
    assert_eq!(post(&h, "/webhooks", Some(&local)).await.status, 201);
}

#[tokio::test]
async fn every_entry_becomes_a_signed_event_that_the_library_verifies() {
    let h = hooks("verify").await;
    let license = licence(&h.app, CUSTOMER, 5).await;
    let at = path("ok");
    let id = receiving(&h, &at, json!(["*"])).await;
    let only_revokes = path("ok");
    receiving(&h, &only_revokes, json!(["assignment.revoked"])).await;
    assign(&h, &license, "anna@example.com, bob@example.com").await;
    let revoke = format!("/licenses/{license}/assignments/bob@example.com");
    assert_eq!(
        send(&h.app, request("DELETE", &revoke, Some(&admin(CUSTOMER)), None)).await.status,
        200
    );
    let entries = entries(&h.app, &license).await;
    let jobs = publish(&h, &license).await;
    assert_eq!(jobs, entries.len() + 1, "every entry to `*`, the revoke to the other");
    drain_until(&h, 60, || async {
        received(&at).await.len() >= entries.len() && !received(&only_revokes).await.is_empty()
    })
    .await;
    let got = received(&at).await;
    assert_eq!(got.len(), entries.len());
    // Order is not guaranteed: each entry's event, found by its webhook-id.
    for e in &entries {
        let id = format!("evt_{}", e.id.to_ascii_lowercase());
        let r = got
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} not delivered"));
        assert_eq!(r["verified"], true, "{r}");
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["type"], serde_json::to_value(e.action).unwrap());
        assert_eq!(body["data"]["licenseId"], license.as_str());
        assert_eq!(
            body["data"]["productId"],
            json!(format!(
                "product-{}",
                body["data"]["productId"].as_str().unwrap().trim_start_matches("product-")
            ))
        );
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    let kinds: Vec<&str> = got.iter().filter_map(|r| r["type"].as_str()).collect();
    assert!(
        kinds.contains(&"assignment.created") && kinds.contains(&"assignment.revoked"),
        "{kinds:?}"
    );
    let revokes = received(&only_revokes).await;
    assert_eq!(revokes.len(), 1);
    assert_eq!(
        (revokes[0]["type"].clone(), revokes[0]["verified"].clone()),
        (json!("assignment.revoked"), json!(true))
    );
    // The log: each delivery succeeded at its first attempt.
    drain(&h, 20).await;
    let log = deliveries(&h, &id).await;
    assert_eq!(log.len(), entries.len());
    for d in &log {
        assert_eq!(
            (d["status"].clone(), d["attempts"].clone(), d["lastResult"].clone()),
            (json!("succeeded"), json!(1), json!(204)),
            "{d}"
        );
        assert_eq!(d["deliveryId"].as_str().unwrap()[4..], d["eventId"].as_str().unwrap()[4..]);
    }
    // Newest first, and pages follow each other.
    let ids: Vec<&str> = log.iter().filter_map(|d| d["eventId"].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
    let first = get(&h, &format!("/webhooks/{id}/deliveries?limit=2")).await;
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let second = get(&h, &format!("/webhooks/{id}/deliveries?limit=2&cursor={cursor}")).await;
    assert_eq!(second.body["deliveries"][0]["eventId"], ids[2]);
    let succeeded = get(&h, &format!("/webhooks/{id}/deliveries?status=failed")).await;
    assert_eq!(succeeded.body["deliveries"], json!([]));
    assert_eq!(get(&h, &format!("/webhooks/{id}/deliveries?status=lost")).await.status, 400);
}

#[tokio::test]
async fn a_job_queued_twice_is_delivered_once() {
    let h = hooks("twice").await;
    let at = path("ok");
    let id = receiving(&h, &at, json!(["*"])).await;
    let event = licensing::model::Event::test("admin@example.com", chrono::Utc::now());
    let job = Job::first(CUSTOMER, &id, &event);
    h.outbound.enqueue(&[job.clone(), job], chrono::Utc::now()).await.unwrap();
    drain(&h, 30).await;
    let got = received(&at).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["type"], "webhook.test");
}

#[tokio::test]
async fn a_receiver_down_for_three_attempts_gets_the_event_on_the_fourth() {
    let h = hooks("down").await;
    let at = path("fail3");
    let id = receiving(&h, &at, json!(["*"])).await;
    let test = post(&h, &format!("/webhooks/{id}/test"), None).await;
    assert_eq!(test.status, 202, "{:?}", test.body);
    drain_until(&h, 60, || async { received(&at).await.len() >= 4 }).await;
    drain(&h, 20).await;
    let got = received(&at).await;
    assert_eq!(got.len(), 4);
    let answers: Vec<&Value> = got.iter().map(|r| &r["answer"]).collect();
    assert_eq!(answers, [&json!(500), &json!(500), &json!(500), &json!(204)]);
    assert!(got.iter().all(|r| r["id"] == test.body["eventId"] && r["verified"] == true));
    let log = deliveries(&h, &id).await;
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["attempts"], 4);
    let results: Vec<&Value> =
        log[0]["results"].as_array().unwrap().iter().map(|r| &r["result"]).collect();
    assert_eq!(results, [&json!(500), &json!(500), &json!(500), &json!(204)]);
    assert_eq!(log[0]["nextAttemptAt"], Value::Null);
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_a_retry_from_the_log_sends_the_event_again() {
    let h = hooks("gone").await;
    let at = path("gone");
    let id = receiving(&h, &at, json!(["*"])).await;
    let test = post(&h, &format!("/webhooks/{id}/test"), None).await;
    drain(&h, 30).await;
    assert_eq!(received(&at).await.len(), 1, "no retry after 410");
    let endpoint = get(&h, &format!("/webhooks/{id}")).await;
    assert_eq!(
        (endpoint.body["enabled"].clone(), endpoint.body["disabledReason"].clone()),
        (json!(false), json!("gone"))
    );
    let log = deliveries(&h, &id).await;
    assert_eq!(
        (log[0]["status"].clone(), log[0]["lastResult"].clone()),
        (json!("failed"), json!(410))
    );
    // A disabled endpoint gets nothing.
    let event = licensing::model::Event::test("admin@example.com", chrono::Utc::now());
    h.outbound.enqueue(&[Job::first(CUSTOMER, &id, &event)], chrono::Utc::now()).await.unwrap();
    drain(&h, 30).await;
    assert_eq!(received(&at).await.len(), 1);
    // The receiver is back (its path answers 204 now): enable, retry from the log.
    let ok = format!("{}{}", webhook_receiver(), at.replace("/gone", "/ok"));
    let path_ok = at.replace("/gone", "/ok");
    let body = json!({"enabled": true, "url": ok}).to_string();
    let on = send(
        &h.app,
        request("PATCH", &format!("/webhooks/{id}"), Some(&admin(CUSTOMER)), Some(&body)),
    )
    .await;
    assert_eq!(on.status, 200);
    let delivery = log[0]["deliveryId"].as_str().unwrap();
    let retry = post(&h, &format!("/webhooks/{id}/deliveries/{delivery}/retry"), None).await;
    assert_eq!((retry.status, retry.body["status"].clone()), (202, json!("pending")));
    drain_until(&h, 30, || async { !received(&path_ok).await.is_empty() }).await;
    let again = received(&path_ok).await;
    assert_eq!(again[0]["id"], test.body["eventId"], "the same webhook-id");
    drain(&h, 20).await;
    let log = deliveries(&h, &id).await;
    let retried = log.iter().find(|d| d["deliveryId"] == delivery).unwrap();
    assert_eq!(
        (retried["status"].clone(), retried["attempts"].clone()),
        (json!("succeeded"), json!(2))
    );
    let missing = post(&h, &format!("/webhooks/{id}/deliveries/dlv_nothing/retry"), None).await;
    assert_eq!((missing.status, missing.slug()), (404, "delivery-not-found"));
}

#[tokio::test]
async fn timeouts_resets_errors_and_redirects_are_failed_attempts() {
    let h = hooks("faults").await;
    let mut endpoints = Vec::new();
    for mode in ["slow", "reset", "fail99", "redirect"] {
        let at = path(mode);
        let id = receiving(&h, &at, json!(["*"])).await;
        let test = post(&h, &format!("/webhooks/{id}/test"), None).await;
        assert_eq!(test.status, 202);
        endpoints.push((mode, id, at));
    }
    // One pass: each first attempt is made (the slow one takes the 10 s).
    drain_until(&h, 60, || async {
        let mut all = true;
        for (_, id, _) in &endpoints {
            let log = deliveries(&h, id).await;
            all &=
                log.first().is_some_and(|d| d["results"].as_array().is_some_and(|r| !r.is_empty()));
        }
        all
    })
    .await;
    for (mode, id, at) in &endpoints {
        let d = &deliveries(&h, id).await[0];
        let expected = match *mode {
            "slow" => json!("timeout"),
            "reset" => json!("connection"),
            "fail99" => json!(500),
            _ => json!(302),
        };
        assert_eq!(d["results"][0]["result"], expected, "{mode}: {d}");
        assert_eq!(d["status"], "pending", "{mode}: retried");
        assert!(d["nextAttemptAt"].is_string(), "{mode}: {d}");
        if *mode == "redirect" {
            let followed = received(&at.replace("/redirect", "/ok")).await;
            assert!(followed.is_empty(), "a redirect was followed");
        }
    }
}

#[tokio::test]
async fn names_that_resolve_to_private_addresses_are_not_delivered_to() {
    let h = hooks("ssrf").await;
    for host in [
        "loopback.rebind.example.com",
        "metadata.rebind.example.com",
        "mapped.rebind.example.com",
        "mixed.rebind.example.com",
        "shared.rebind.example.com",
    ] {
        let (id, _) = create(&h, &format!("https://{host}/in"), json!(["*"])).await;
        let test = post(&h, &format!("/webhooks/{id}/test"), None).await;
        assert_eq!(test.status, 202);
        drain_until(&h, 30, || async {
            deliveries(&h, &id)
                .await
                .first()
                .is_some_and(|d| !d["results"].as_array().unwrap().is_empty())
        })
        .await;
        let d = &deliveries(&h, &id).await[0];
        assert_eq!(d["lastResult"], "blocked-address", "{host}: {d}");
    }
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let h = hooks("rotate").await;
    let at = path("ok");
    let (id, old) = create(&h, &format!("{}{at}", webhook_receiver()), json!(["*"])).await;
    let rotated = post(&h, &format!("/webhooks/{id}/secret"), None).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new = rotated.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    // A receiver that knows only the old secret still verifies.
    register(&at, &[&old]).await;
    post(&h, &format!("/webhooks/{id}/test"), None).await;
    drain_until(&h, 30, || async { !received(&at).await.is_empty() }).await;
    let first = &received(&at).await[0];
    assert_eq!(first["verified"], true);
    assert_eq!(first["signature"].as_str().unwrap().split(' ').count(), 2);
    // After a leak: the old one stops at once; only the new one verifies.
    let body = json!({"expireOldNow": true}).to_string();
    let leaked = post(&h, &format!("/webhooks/{id}/secret"), Some(&body)).await;
    let newest = leaked.body["secret"].as_str().unwrap().to_string();
    register(&at, &[&old, &new]).await;
    post(&h, &format!("/webhooks/{id}/test"), None).await;
    drain_until(&h, 30, || async { received(&at).await.len() >= 2 }).await;
    let second = &received(&at).await[1];
    assert_eq!(second["signature"].as_str().unwrap().split(' ').count(), 1);
    assert_eq!(second["verified"], false, "signed by neither old secret");
    register(&at, &[&newest]).await;
    post(&h, &format!("/webhooks/{id}/test"), None).await;
    drain_until(&h, 30, || async { received(&at).await.len() >= 3 }).await;
    assert_eq!(received(&at).await[2]["verified"], true);
}

#[tokio::test]
async fn tests_and_retries_are_limited_to_ten_a_minute() {
    let h = hooks("limit").await;
    let (id, _) = create(&h, "https://hooks.example.com/in", json!(["*"])).await;
    for _ in 0..10 {
        assert_eq!(post(&h, &format!("/webhooks/{id}/test"), None).await.status, 202);
    }
    let eleventh = post(&h, &format!("/webhooks/{id}/test"), None).await;
    assert_eq!((eleventh.status, eleventh.slug()), (429, "rate-limited"));
    assert!(eleventh.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_deleted_endpoint_gets_none_of_its_pending_deliveries() {
    let h = hooks("deleted").await;
    let at = path("ok");
    let id = receiving(&h, &at, json!(["*"])).await;
    assert_eq!(post(&h, &format!("/webhooks/{id}/test"), None).await.status, 202);
    let gone =
        send(&h.app, request("DELETE", &format!("/webhooks/{id}"), Some(&admin(CUSTOMER)), None))
            .await;
    assert_eq!(gone.status, 200);
    drain(&h, 30).await;
    assert!(received(&at).await.is_empty());
}

#[tokio::test]
async fn three_days_of_failures_disable_the_endpoint_and_tell_the_buyer() {
    let h = hooks("failing").await;
    let license = licence(&h.app, CUSTOMER, 3).await;
    let at = path("fail99");
    let id = receiving(&h, &at, json!(["*"])).await;
    // Its deliveries have failed since four days ago.
    let since = (chrono::Utc::now() - chrono::Duration::days(4)).to_rfc3339();
    h.app
        .store
        .client()
        .update_item()
        .table_name(h.app.store.table())
        .key("PK", AttributeValue::S(format!("CUSTOMER#{CUSTOMER}")))
        .key("SK", AttributeValue::S(format!("WEBHOOK#{id}")))
        .update_expression("SET failingSince = :since")
        .expression_attribute_values(":since", AttributeValue::S(since))
        .send()
        .await
        .unwrap();
    let before = raw_item(&h.app, &format!("CUSTOMER#{CUSTOMER}"), &format!("WEBHOOK#{id}")).await;
    post(&h, &format!("/webhooks/{id}/test"), None).await;
    drain(&h, 30).await;
    assert_eq!(received(&at).await.len(), 1, "disabled after the attempt, not retried");
    let endpoint = get(&h, &format!("/webhooks/{id}")).await;
    assert_eq!(endpoint.body["disabledReason"], "failing");
    // The change comes to `notify` through the stream: the buyer is told, once.
    let after = raw_item(&h.app, &format!("CUSTOMER#{CUSTOMER}"), &format!("WEBHOOK#{id}")).await;
    let record = json!({"eventID": "w1", "eventName": "MODIFY", "dynamodb": {
        "SequenceNumber": "1", "OldImage": stream_image(&before), "NewImage": stream_image(&after)}});
    let notifier = notifier(&h.app, ses_endpoint());
    for _ in 0..2 {
        let answer = licensing::events::notify(&notifier, &json!({"Records": [record.clone()]}))
            .await
            .unwrap();
        assert_eq!(answer["batchItemFailures"], json!([]));
    }
    let buyer = format!("buyer@{CUSTOMER}.example.com");
    assert!(!license.is_empty(), "the buyer of a licence of the customer is told");
    let mails: Vec<Value> = mails_to(&buyer)
        .into_iter()
        .filter(|m| m.to_string().contains("webhook endpoint") && m.to_string().contains(&at))
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
}

/// An item as the table's stream shows it (DynamoDB JSON).
fn stream_image(item: &HashMap<String, AttributeValue>) -> Value {
    fn value(v: &AttributeValue) -> Value {
        match v {
            AttributeValue::S(s) => json!({ "S": s }),
            AttributeValue::N(n) => json!({ "N": n }),
            AttributeValue::Bool(b) => json!({ "BOOL": b }),
            AttributeValue::Null(_) => json!({ "NULL": true }),
            AttributeValue::L(l) => json!({ "L": l.iter().map(value).collect::<Vec<_>>() }),
            AttributeValue::M(m) => {
                json!({ "M": m.iter().map(|(k, v)| (k.clone(), value(v))).collect::<serde_json::Map<_, _>>() })
            }
            other => panic!("{other:?}"),
        }
    }
    Value::Object(item.iter().map(|(k, v)| (k.clone(), value(v))).collect())
}

#[tokio::test]
async fn every_event_also_goes_to_the_accounts_bus() {
    let h = hooks("bus").await;
    let license = licence(&h.app, CUSTOMER, 5).await;
    // A rule on the bus that copies its events into a queue to read them.
    let events = &h.outbound.events;
    let copy = outbound("bus-copy", false).await;
    let arn = copy
        .sqs
        .get_queue_attributes()
        .queue_url(&copy.queue_url)
        .attribute_names(aws_sdk_sqs_names::QueueAttribute::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    events
        .put_rule()
        .name("copy")
        .event_bus_name(&h.outbound.bus)
        .event_pattern(json!({"source": ["licensing.seats"]}).to_string())
        .send()
        .await
        .unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("q").arn(arn).build().unwrap();
    events
        .put_targets()
        .rule("copy")
        .event_bus_name(&h.outbound.bus)
        .targets(target)
        .send()
        .await
        .unwrap();
    assign(&h, &license, "anna@example.com").await;
    let count = entries(&h.app, &license).await.len();
    publish(&h, &license).await;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let got = copy
            .sqs
            .receive_message()
            .queue_url(&copy.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in got.messages.unwrap_or_default() {
            seen.push(serde_json::from_str::<Value>(m.body.as_deref().unwrap()).unwrap());
        }
        if seen.len() >= count {
            break;
        }
    }
    assert_eq!(seen.len(), count, "{seen:?}");
    for e in &seen {
        assert_eq!(e["source"], "licensing.seats");
        assert_eq!(e["detail-type"], e["detail"]["type"]);
        assert_eq!(e["detail"]["data"]["licenseId"], license.as_str());
    }
}

#[tokio::test]
async fn disabling_an_endpoint_ends_its_pending_deliveries_in_the_log() {
    let h = hooks("ended").await;
    let at = path("fail99");
    let id = receiving(&h, &at, json!(["*"])).await;
    assert_eq!(post(&h, &format!("/webhooks/{id}/test"), None).await.status, 202);
    drain_until(&h, 30, || async { !received(&at).await.is_empty() }).await;
    let body = json!({"enabled": false}).to_string();
    let off = send(
        &h.app,
        request("PATCH", &format!("/webhooks/{id}"), Some(&admin(CUSTOMER)), Some(&body)),
    )
    .await;
    assert_eq!(off.status, 200);
    drain(&h, 30).await;
    assert_eq!(received(&at).await.len(), 1, "nothing more to a disabled endpoint");
    let d = &deliveries(&h, &id).await[0];
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone(), d["nextAttemptAt"].clone()),
        (json!("failed"), json!(1), Value::Null),
        "{d}"
    );
}
