//! Webhooks (v3) on the local stack as `make dev` runs it: `cargo lambda
//! watch` with the stream relay (`notify`, the outbox) and the queue relay
//! (`deliver`), the local AWS emulator's SQS, and a receiver that verifies
//! every delivery with the `standardwebhooks` library. Three measurements:
//! from a committed assign to the first delivery attempt (p50, p99, and
//! every sample, after a warm-up event that is shown but not counted); many
//! events from bulk assigns of 1,000 (nothing lost, every `webhook-id`
//! delivered, duplicates counted, events a second); and a receiver down for
//! the first three attempts (every event arrives afterwards, retries scaled
//! down as in local builds).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use licensing::App;
use licensing_tests::local::{Http, start_watch_with};
use licensing_tests::{CUSTOMER, admin, webhook_receiver};
use serde_json::{Value, json};

pub struct WebhookRun {
    /// Seconds from each committed assign (its 201) to its event's first
    /// attempt, in the order they were sent.
    pub first_attempt: Vec<f64>,
    /// The same for the warm-up event before them, not counted: `cargo lambda
    /// watch` starts `notify` and `deliver` on their first event.
    pub warm_up: f64,
    pub events: usize,
    pub distinct: usize,
    pub requests: usize,
    /// Seconds from the first bulk assign to the last event's arrival.
    pub seconds: f64,
    /// Of the down receiver's events, how many arrived (answered 204) and after how many attempts.
    pub down_events: usize,
    pub down_arrived: usize,
    pub down_attempts: BTreeSet<u64>,
    pub down_seconds: f64,
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// What the receiver got at `path`.
fn received(receiver: &Http, path: &str) -> Vec<Value> {
    let (_, _, all) = receiver.send("GET", &format!("/_received?path={path}"), None, None);
    all.as_array().cloned().unwrap_or_default()
}

/// An endpoint at the receiver's `path` for `assignment.created`, its secret registered.
fn endpoint(http: &Http, receiver: &Http, path: &str) {
    let a = admin(CUSTOMER);
    let url = format!("{}{path}", webhook_receiver());
    let body = json!({"url": url, "events": ["assignment.created"]});
    let (status, _, created) = http.send("POST", "/webhooks", Some(&a), Some(body));
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    let (status, _, _) =
        receiver.send("POST", "/_secrets", None, Some(json!({"path": path, "secrets": [secret]})));
    assert_eq!(status, 204);
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "webhooks bench: {what} not done within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `bulks` bulk assigns of 1,000 (and `latency` single ones before them) on
/// a licence of the bench's own table.
pub async fn run(bench: &App, latency: usize, bulks: usize) -> WebhookRun {
    let table = format!("hooks-{}", ulid::Ulid::new().to_string().to_lowercase());
    licensing::store::create_table(bench.store.client(), &table).await.expect("create table");
    let app = App::new(
        licensing::store::Store::new(bench.store.client().clone(), table.clone()),
        licensing::http::identity::AuthMode::Verified,
    );
    let seats = (latency + bulks * 1_000 + 50) as u32;
    let license = licensing_tests::licence(&app, CUSTOMER, seats).await;
    eprintln!("webhooks: the local stack (watch, relays, AWS emulator) over table {table}");
    // Ten bulk assigns of 1,000 are twice the contract's 5,000 addresses a minute.
    let watch = start_watch_with(&table, true, &[("ASSIGN_BUDGET_PER_MINUTE", "1000000")]);
    let http = Http { base: watch.base.clone() };
    let receiver = Http { base: webhook_receiver().to_string() };
    let a = admin(CUSTOMER);
    let run = ulid::Ulid::new().to_string().to_lowercase();
    let assign = |emails: String| {
        let path = format!("/licenses/{license}/assignments");
        let (status, _, answer) =
            http.send("POST", &path, Some(&a), Some(json!({"emails": emails})));
        assert_eq!(status, 201, "{answer}");
    };

    // 1. From a committed assign to its first attempt, one at a time, after
    // a warm-up event that starts the functions under `cargo lambda watch`.
    let at = format!("/bench-{run}/latency/ok");
    endpoint(&http, &receiver, &at);
    let one = |name: String| {
        let email = format!("{name}-{run}@example.com");
        assign(email.clone());
        let committed = now();
        let mut arrived = None;
        wait_for("an event's first attempt", Duration::from_secs(60), || {
            arrived = received(&receiver, &at)
                .iter()
                .find(|r| r["body"].as_str().is_some_and(|b| b.contains(&email)))
                .and_then(|r| r["at"].as_f64());
            arrived.is_some()
        });
        (arrived.unwrap() - committed).max(0.0)
    };
    let warm_up = one("warm-up".into());
    let first_attempt: Vec<f64> = (0..latency).map(|i| one(format!("lat{i}"))).collect();

    // 2. Bulk assigns of 1,000, each once the events of the one before have arrived (the
    // emulator's SQS scans its whole queue on every call, so ten bulks queued at once would
    // measure that scan); every event to one endpoint.
    let bulk_at = format!("/bench-{run}/bulk/ok");
    endpoint(&http, &receiver, &bulk_at);
    let started = now();
    let events = bulks * 1_000;
    let mut got = Vec::new();
    for b in 0..bulks {
        let emails: Vec<String> =
            (0..1_000).map(|i| format!("b{b}-{i}-{run}@example.com")).collect();
        assign(emails.join(","));
        let so_far = (b + 1) * 1_000;
        // A guard against a hang, not a budget (a bulk took about three minutes).
        wait_for("a bulk's events", Duration::from_secs(600), || {
            got = received(&receiver, &bulk_at);
            got.iter().filter_map(|r| r["id"].as_str()).collect::<BTreeSet<_>>().len() >= so_far
        });
    }
    let last = got.iter().filter_map(|r| r["at"].as_f64()).fold(0.0, f64::max);
    let distinct = got.iter().filter_map(|r| r["id"].as_str()).collect::<BTreeSet<_>>().len();
    assert!(got.iter().all(|r| r["verified"] == true), "every delivery verified");

    // 3. A receiver down for the first three attempts of each event.
    let down_at = format!("/bench-{run}/down/fail3");
    endpoint(&http, &receiver, &down_at);
    let down_events = 20;
    let down_started = Instant::now();
    let emails: Vec<String> =
        (0..down_events).map(|i| format!("down{i}-{run}@example.com")).collect();
    assign(emails.join(","));
    let mut down = Vec::new();
    wait_for("the down receiver's events", Duration::from_secs(120), || {
        down = received(&receiver, &down_at);
        down.iter().filter(|r| r["answer"] == 204).count() >= down_events
    });
    let down_seconds = down_started.elapsed().as_secs_f64();
    let mut attempts: BTreeMap<String, u64> = BTreeMap::new();
    for r in &down {
        let id = r["id"].as_str().unwrap_or_default().to_string();
        let n = r["attempt"].as_u64().unwrap_or(0);
        let e = attempts.entry(id).or_default();
        *e = (*e).max(n);
    }
    drop(watch);
    WebhookRun {
        first_attempt,
        warm_up,
        events,
        distinct,
        requests: got.len(),
        seconds: last - started,
        down_events,
        down_arrived: down.iter().filter(|r| r["answer"] == 204).count(),
        down_attempts: attempts.values().copied().collect(),
        down_seconds,
    }
}

impl WebhookRun {
    pub fn percentile(&self, p: f64) -> f64 {
        let mut v = self.first_attempt.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return f64::NAN;
        }
        v[((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
    }

    pub fn print(&self) {
        println!();
        println!(
            "Webhooks on the local stack (watch, stream relay, queue relay, AWS emulator; debug builds):"
        );
        println!(
            "  committed assign → first delivery attempt, {} events one by one: p50 {:.2} s, p99 {:.2} s",
            self.first_attempt.len(),
            self.percentile(50.0),
            self.percentile(99.0)
        );
        let each: Vec<String> = self.first_attempt.iter().map(|t| format!("{t:.2}")).collect();
        println!(
            "    each, in order (s): {}; the warm-up event before them (not counted): {:.2} s",
            each.join(" "),
            self.warm_up
        );
        println!(
            "  {} events from {} bulk assigns of 1,000: {} webhook-ids delivered ({} lost), {} requests ({} duplicates), {:.1} s, {:.0} events/s",
            self.events,
            self.events / 1_000,
            self.distinct,
            self.events - self.distinct.min(self.events),
            self.requests,
            self.requests - self.distinct,
            self.seconds,
            self.events as f64 / self.seconds
        );
        println!(
            "  a receiver down for 3 attempts: {} of {} events arrived, after {:?} attempts, all within {:.1} s (retries scaled by 0.001)",
            self.down_arrived, self.down_events, self.down_attempts, self.down_seconds
        );
    }
}
