//! Measuring one scenario: warm-up calls, then timed calls with the DynamoDB
//! time and round trips the probe saw split out.

use std::future::Future;
use std::time::{Duration, Instant};

use lambda_http::Request;
use licensing::App;
use serde_json::{Value, json};

use crate::probe::Probe;

/// One invocation of a function's real handler.
pub enum Call {
    Http(&'static str, Box<Request>),
    Provision(Value),
    /// Any order system event (a purchase or a lifecycle event).
    OrderEvent(Value),
    /// A reminder run as if on a day, by a notifier built before the clock.
    Remind(Box<licensing::notify::Notifier>, chrono::NaiveDate),
    /// The daily run's reclaim as if on a day, which must warn this many.
    Reclaim(Box<licensing::notify::Notifier>, chrono::NaiveDate, usize),
}

/// Runs a call as the function's runtime would; its status.
pub async fn invoke(app: &App, call: Call) -> u16 {
    use licensing::api;
    match call {
        Call::Http(function, req) => {
            let req = *req;
            let response = match function {
                "list" => api::list::handle(app, req).await,
                "assign" => api::assign::handle(app, req).await,
                "change" => api::change::handle(app, req).await,
                "revoke" => api::revoke::handle(app, req).await,
                "tokens" => api::tokens::handle(app, req).await,
                "scim" => api::scim::handle(app, req).await,
                "entitlements" => api::entitlements::handle(app, req).await,
                "webhooks" => api::webhooks::handle(app, req).await,
                other => panic!("no HTTP function {other}"),
            };
            response.status().as_u16()
        }
        Call::Provision(event) => match licensing_tests::provision(app, event).await {
            Ok(_) => 200,
            Err(e) => panic!("provision failed: {e}"),
        },
        Call::OrderEvent(event) => match licensing::events::orders::handle(app, event).await {
            Ok(_) => 200,
            Err(e) => panic!("the order event failed: {e}"),
        },
        Call::Remind(notifier, today) => match notifier.remind(today).await {
            Ok(r) if r.deferred == 0 && r.failed == 0 => 200,
            other => panic!("the reminder run failed: {other:?}"),
        },
        Call::Reclaim(notifier, today, due) => {
            let now = today.and_time(chrono::Utc::now().time()).and_utc();
            match notifier.reclaim_idle(today, now).await {
                Ok(r) if r.warned == due && r.candidates == due => 200,
                other => panic!("the reclaim run did not warn {due}: {other:?}"),
            }
        }
    }
}

/// The round trips the access pattern needs at the least, and why.
#[derive(Clone, Debug)]
pub struct Minimum {
    pub round_trips: usize,
    pub why: String,
    /// Besides `round_trips`: the pages of a Query over data that grows (1 MB
    /// each), counted and reported, not fixed.
    pub paged: bool,
    /// Besides `round_trips`: one write in a call that starts a new minute
    /// (a provisioning token's `lastUsedAt`, kept to the minute).
    pub once_a_minute: bool,
}

impl Minimum {
    pub fn new(round_trips: usize, why: impl Into<String>) -> Self {
        Self { round_trips, why: why.into(), paged: false, once_a_minute: false }
    }

    /// `round_trips`, and one more in a call that starts a new minute.
    pub fn once_a_minute(round_trips: usize, why: impl Into<String>) -> Self {
        let why = format!("{} (+ 1 UpdateItem the token's lastUsedAt, once a minute)", why.into());
        Self { once_a_minute: true, ..Self::new(round_trips, why) }
    }

    /// `round_trips` and the pages of one Query.
    pub fn paged(round_trips: usize, why: impl Into<String>) -> Self {
        Self { paged: true, ..Self::new(round_trips, why) }
    }

    /// To assign `n` new addresses: the licence (GetItem), then the n
    /// assignment keys (BatchGetItem, 100 keys a call, in parallel), both
    /// strongly consistent; up to 49 commit in one TransactWriteItems with
    /// their history entries, the licence and the assign budget; more
    /// reserve (licence + budget: 1), write chunks of 49 with their entries,
    /// then clear (1).
    pub fn assign(n: usize) -> Self {
        let reads = n.div_ceil(100);
        let writes = if 2 * n + 2 <= 100 { 1 } else { 2 + n.div_ceil(49) };
        let why =
            format!("GetItem licence, then {reads} BatchGetItem + {writes} TransactWriteItems");
        Self::new(1 + reads + writes, why)
    }
}

/// The round trips seen, fewest and most over the samples.
#[derive(Clone, Copy, Debug)]
pub struct RoundTrips {
    pub min: usize,
    pub max: usize,
}

pub struct Measured {
    pub name: String,
    pub samples: usize,
    pub total: Vec<Duration>,
    pub dynamo: Vec<Duration>,
    pub overhead: Vec<Duration>,
    pub round_trips: RoundTrips,
    /// Query pages besides the round trips, when the minimum counts them.
    pub pages: usize,
    pub calls: Vec<&'static str>,
    pub minimum: Minimum,
}

/// The `p`th percentile of sorted durations.
pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Measured {
    pub fn p(&self, which: &[Duration], p: f64) -> f64 {
        ms(pct(which, p))
    }

    pub fn at_minimum(&self) -> bool {
        let most = self.minimum.round_trips + usize::from(self.minimum.once_a_minute);
        self.round_trips.min == self.minimum.round_trips && self.round_trips.max <= most
    }

    pub fn json(&self) -> Value {
        json!({
            "operation": self.name, "samples": self.samples,
            "total_ms": {"p50": self.p(&self.total, 50.0), "p99": self.p(&self.total, 99.0)},
            "dynamodb_ms": {"p50": self.p(&self.dynamo, 50.0), "p99": self.p(&self.dynamo, 99.0)},
            "overhead_ms": {"p50": self.p(&self.overhead, 50.0), "p99": self.p(&self.overhead, 99.0)},
            "round_trips": {"min": self.round_trips.min, "max": self.round_trips.max, "calls": self.calls},
            "query_pages": self.minimum.paged.then_some(self.pages),
            "minimum_round_trips": self.minimum.round_trips, "minimum_why": self.minimum.why,
        })
    }
}

/// Runs `warmup` unmeasured calls, then `samples` measured ones (the i-th
/// call built by `make(i)` before its clock starts); each must answer `expect`.
pub async fn measure<F, Fut>(
    probe: &Probe,
    name: &str,
    (warmup, samples): (usize, usize),
    expect: u16,
    minimum: Minimum,
    mut make: F,
) -> Measured
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = u16>,
{
    for i in 0..warmup {
        let status = make(i).await;
        assert_eq!(status, expect, "{name} (warm-up) answered {status}");
    }
    let mut m = Measured {
        name: name.to_string(),
        samples,
        total: Vec::with_capacity(samples),
        dynamo: Vec::with_capacity(samples),
        overhead: Vec::with_capacity(samples),
        round_trips: RoundTrips { min: usize::MAX, max: 0 },
        pages: 0,
        calls: Vec::new(),
        minimum,
    };
    for i in warmup..warmup + samples {
        let call = make(i);
        probe.take();
        let started = Instant::now();
        let status = call.await;
        let total = started.elapsed();
        let seen = probe.take();
        assert_eq!(status, expect, "{name} answered {status}");
        m.total.push(total);
        m.dynamo.push(seen.busy);
        m.overhead.push(total.saturating_sub(seen.busy));
        let pages =
            if m.minimum.paged { seen.calls.iter().filter(|c| **c == "Query").count() } else { 0 };
        let trips = seen.calls.len() - pages;
        m.pages = m.pages.max(pages);
        m.round_trips.min = m.round_trips.min.min(trips);
        m.round_trips.max = m.round_trips.max.max(trips);
        m.calls = seen.calls;
    }
    for sorted in [&mut m.total, &mut m.dynamo, &mut m.overhead] {
        sorted.sort();
    }
    m
}
