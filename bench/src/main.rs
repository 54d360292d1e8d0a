//! `cargo run --release -p bench [-- --quick] [--json PATH] [--no-cold | --cold-only] [--strict]`
//!
//! Measures every function against DynamoDB Local on this machine and checks
//! the performance budgets: cold start and peak RSS of the release binaries
//! (spawned against a Lambda Runtime API stub), warm latency of the real
//! handlers driven in-process with DynamoDB time split out, DynamoDB round
//! trips per operation against the minimum the access pattern needs, scaling
//! with request and data size, and the size of the arm64 binaries.
//! Prints a table and PASS/FAIL lines, writes JSON (default `.local/bench.json`).

mod probe;

use licensing_tests::runtime_api as cold;

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use lambda_http::Request;
use licensing::App;
use licensing::http::identity::AuthMode;
use licensing::store::Store;
use serde_json::{Value, json};

use probe::Probe;

const FUNCTIONS: [&str; 6] = ["list", "assign", "change", "revoke", "provision", "notify"];
const MIB: f64 = 1024.0 * 1024.0;

struct Opts {
    quick: bool,
    warm: bool,
    cold: bool,
    strict: bool,
    json: PathBuf,
}

fn opts() -> Opts {
    let mut o = Opts {
        quick: std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0"),
        warm: true,
        cold: true,
        strict: false,
        json: root().join(".local/bench.json"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-cold" => o.cold = false,
            "--cold-only" => o.warm = false,
            "--strict" => o.strict = true,
            "--json" => o.json = PathBuf::from(args.next().expect("--json PATH")),
            "-h" | "--help" => {
                println!("bench [--quick] [--no-cold | --cold-only] [--strict] [--json PATH]");
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

// ---------------------------------------------------------------- requests

use licensing_tests::{admin, dynamodb_endpoint};

fn user(email: &str) -> String {
    licensing_tests::user(email, "other")
}

/// A request as API Gateway hands it over (the authorizer's verified claims).
fn request(method: &str, path: &str, token: &str, body: Option<Value>) -> Box<Request> {
    let body = body.map(|b| b.to_string());
    let mut req = licensing_tests::request(method, path, Some(token), body.as_deref());
    req.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    Box::new(req)
}

fn days_from_today(n: i64) -> NaiveDate {
    let today = Utc::now().date_naive();
    if n >= 0 {
        today + Days::new(n as u64)
    } else {
        today - Days::new((-n) as u64)
    }
}

fn purchase(order: &str, customer: &str, buyer: &str, quantity: u32) -> Value {
    json!({"version": "0", "id": ulid::Ulid::new().to_string(), "detail-type": "LicensePurchased",
           "source": "licensing.orders", "account": "123456789012", "time": "2026-11-28T14:49:43Z",
           "region": "eu-central-1", "resources": [],
           "detail": {"orderId": order, "customerId": customer, "buyer": {"email": buyer},
                      "productId": format!("product-{order}"), "productName": format!("Product {order}"),
                      "quantity": quantity, "term": {"start": days_from_today(-30), "end": days_from_today(365)},
                      "subscription": {"id": format!("SUB-{order}"), "plan": "annual", "autoRenew": true},
                      "invoiceNumber": format!("INV-{order}")}})
}

/// One invocation of a function's real handler.
enum Call {
    Http(&'static str, Box<Request>),
    Provision(Value),
}

async fn invoke(app: &App, call: Call) -> u16 {
    use licensing::api;
    match call {
        Call::Http(function, req) => {
            let req = *req;
            let response = match function {
                "list" => api::list::handle(app, req).await,
                "assign" => api::assign::handle(app, req).await,
                "change" => api::change::handle(app, req).await,
                "revoke" => api::revoke::handle(app, req).await,
                other => panic!("no HTTP function {other}"),
            };
            response.status().as_u16()
        }
        Call::Provision(event) => match licensing::provision::handle(app, event).await {
            Ok(_) => 200,
            Err(e) => panic!("provision failed: {e}"),
        },
    }
}

fn addresses(tag: &str, n: usize) -> Vec<String> {
    let run = ulid::Ulid::new().to_string().to_lowercase();
    (0..n)
        .map(|i| format!("{tag}-{i}-{run}@bench.example.com"))
        .collect()
}

// ---------------------------------------------------------------- measuring

struct Measured {
    name: String,
    samples: usize,
    total: Vec<Duration>,
    dynamo: Vec<Duration>,
    overhead: Vec<Duration>,
    round_trips: (usize, usize),
    calls: Vec<&'static str>,
    minimum: usize,
    minimum_why: String,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Measured {
    fn p(&self, which: &[Duration], p: f64) -> f64 {
        ms(pct(which, p))
    }
    fn json(&self) -> Value {
        json!({
            "operation": self.name, "samples": self.samples,
            "total_ms": {"p50": self.p(&self.total, 50.0), "p99": self.p(&self.total, 99.0)},
            "dynamodb_ms": {"p50": self.p(&self.dynamo, 50.0), "p99": self.p(&self.dynamo, 99.0)},
            "overhead_ms": {"p50": self.p(&self.overhead, 50.0), "p99": self.p(&self.overhead, 99.0)},
            "round_trips": {"min": self.round_trips.0, "max": self.round_trips.1, "calls": self.calls},
            "minimum_round_trips": self.minimum, "minimum_why": self.minimum_why,
        })
    }
}

/// Runs `warmup` unmeasured calls, then one measured call per remaining
/// element; each call must answer `expect`.
async fn measure<F, Fut>(
    probe: &Probe,
    name: &str,
    warmup: usize,
    samples: usize,
    expect: u16,
    (minimum, why): (usize, &str),
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
        round_trips: (usize::MAX, 0),
        calls: Vec::new(),
        minimum,
        minimum_why: why.to_string(),
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
        m.round_trips.0 = m.round_trips.0.min(seen.calls.len());
        m.round_trips.1 = m.round_trips.1.max(seen.calls.len());
        m.calls = seen.calls;
    }
    m.total.sort();
    m.dynamo.sort();
    m.overhead.sort();
    m
}

/// The round trips the design's access pattern needs to assign `n` new
/// addresses: the licence and the n assignment keys read strongly
/// consistently (BatchGetItem, 100 keys a call); up to 98 commit in one
/// TransactWriteItems with the licence and the assign budget, more reserve
/// (licence + budget: 1), write chunks of 99, then clear (1).
fn assign_minimum(n: usize) -> (usize, String) {
    let reads = (n + 1).div_ceil(100);
    let writes = if n + 2 <= 100 { 1 } else { 2 + n.div_ceil(99) };
    (
        reads + writes,
        format!("{reads} BatchGetItem + {writes} TransactWriteItems"),
    )
}

// ---------------------------------------------------------------- the run

struct Budgets {
    lines: Vec<(bool, bool, String)>,
}

impl Budgets {
    /// `hard`: deterministic on any machine (round trips, sizes); `--strict`
    /// makes every failure an error, timing ones too.
    fn check(&mut self, pass: bool, hard: bool, text: String) {
        self.lines.push((pass, hard, text));
    }
}

/// `bench --rng-probe`: the time of aws-lc's first random bytes in a fresh
/// process (the seeding a function pays in its first TLS handshake), in µs.
fn rng_probe() -> ! {
    let started = Instant::now();
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    println!("{}", started.elapsed().as_micros());
    std::process::exit(0)
}

/// Median of `rng_probe` over fresh processes, in ms.
fn first_rng_use(spawns: usize) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let mut times: Vec<f64> = (0..spawns)
        .filter_map(|_| {
            let out = Command::new(&exe).arg("--rng-probe").output().ok()?;
            let micros: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
            Some(micros / 1000.0)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied()
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--rng-probe") {
        rng_probe();
    }
    let opts = opts();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(opts));
}

async fn run(opts: Opts) {
    let endpoint = dynamodb_endpoint().to_string();
    let probe = Probe::default();
    let client = licensing::app::dynamodb_client_with(Some(endpoint.clone()), probe.clone());
    let table = format!("bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    licensing::store::create_table(&client, &table)
        .await
        .expect("create table");
    let mut app = App::new(Store::new(client, table.clone()), AuthMode::Verified);
    // The bench puts far more than a customer's 5,000 addresses a minute through
    // assign; the budget's conditional update still rides in every commit.
    app.assign_budget = u32::MAX;
    let app = &app;
    let mode = if opts.quick { "quick" } else { "full" };
    eprintln!("bench ({mode}): DynamoDB Local at {endpoint}, table {table}");

    let (warm, scaling, a100_p50, a1000_p50, pairs) = if opts.warm {
        warm_and_scaling(app, &probe, opts.quick).await
    } else {
        Default::default()
    };

    // Cold starts.
    let cold = if opts.cold {
        cold_starts(app, &endpoint, if opts.quick { 5 } else { 20 }).await
    } else {
        Vec::new()
    };
    let rng_ms = if opts.cold {
        first_rng_use(if opts.quick { 5 } else { 20 })
    } else {
        None
    };
    let sizes: Vec<(String, Option<u64>)> = FUNCTIONS
        .iter()
        .map(|f| {
            let path = root().join(format!("target/lambda/{f}/bootstrap"));
            (f.to_string(), std::fs::metadata(path).ok().map(|m| m.len()))
        })
        .collect();

    // The report.
    println!();
    println!(
        "Warm latency, in-process handlers against DynamoDB Local ({mode}; ms; overhead = total − DynamoDB time)"
    );
    print_table(&warm);
    println!();
    println!("Scaling");
    print_table(&scaling);
    let by_name = |name: &str| warm.iter().chain(scaling.iter()).find(|m| m.name == name);
    if let (Some(a100), Some(a1000)) = (by_name("assign 100"), by_name("assign 1000")) {
        let overhead = |m: &Measured| pct(&m.overhead, 50.0).as_secs_f64();
        println!(
            "assign 1000 / assign 100 (p50): total {:.1}×, handler overhead {:.1}×, round trips {}/{}",
            pct(&a1000.total, 50.0).as_secs_f64() / pct(&a100.total, 50.0).as_secs_f64(),
            overhead(a1000) / overhead(a100),
            a1000.round_trips.1,
            a100.round_trips.1
        );
    }
    if !cold.is_empty() {
        println!();
        println!(
            "Cold start: spawn → first response via the Runtime API stub, one DynamoDB round trip"
        );
        println!(
            "{:<10} {:>6} {:>10} {:>10} {:>10} {:>13}  request",
            "function", "spawns", "median ms", "min ms", "max ms", "peak RSS MiB"
        );
        for c in &cold {
            match &c.result {
                Ok((times, rss)) => println!(
                    "{:<10} {:>6} {:>10.2} {:>10.2} {:>10.2} {:>13.2}  {}",
                    c.function,
                    times.len(),
                    ms(pct(times, 50.0)),
                    ms(times[0]),
                    ms(times[times.len() - 1]),
                    *rss as f64 / MIB,
                    c.request
                ),
                Err(e) => println!("{:<10} error: {e}", c.function),
            }
        }
    }
    if let Some(rng) = rng_ms {
        println!();
        println!(
            "aws-lc's first random bytes in a fresh process (paid in a function's first TLS handshake, \
             not in the cold starts above, which use plain HTTP): median {rng:.2} ms"
        );
    }
    println!();
    println!("Size of the stripped arm64 binary (target/lambda/<fn>/bootstrap)");
    for (f, size) in &sizes {
        match size {
            Some(s) => println!("{f:<10} {s:>10} bytes  {:>6.2} MiB", *s as f64 / MIB),
            None => println!("{f:<10} not built: run make build-arm64"),
        }
    }

    // Budgets.
    let mut b = Budgets { lines: Vec::new() };
    for m in warm.iter().chain(scaling.iter()) {
        b.check(
            m.round_trips.0 == m.minimum && m.round_trips.1 == m.minimum,
            true,
            format!(
                "round trips {}: {}..{} (minimum {}: {})",
                m.name, m.round_trips.0, m.round_trips.1, m.minimum, m.minimum_why
            ),
        );
    }
    for m in &warm {
        let limit = if m.name == "assign 100" { 5.0 } else { 1.0 };
        let p99 = m.p(&m.overhead, 99.0);
        b.check(
            p99 <= limit,
            false,
            format!(
                "handler overhead p99 {}: {p99:.3} ms (≤ {limit} ms)",
                m.name
            ),
        );
    }
    if let Some(paste) = scaling.iter().find(|m| m.name.contains("256 KiB paste")) {
        let p99 = ms(pct(&paste.total, 99.0));
        b.check(
            p99 <= 50.0,
            false,
            format!("{}: p99 {p99:.2} ms (≤ 50 ms)", paste.name),
        );
    }
    if !warm.is_empty() {
        let ratio = a1000_p50.as_secs_f64() / a100_p50.as_secs_f64();
        b.check(
            ratio <= 12.0,
            false,
            format!("assign 1000 / assign 100 (p50): {ratio:.1}× (≤ 12×)"),
        );
        let page_ratio = pairs[1].0.as_secs_f64() / pairs[0].0.as_secs_f64();
        let check_ratio = pairs[1].1.as_secs_f64() / pairs[0].1.as_secs_f64();
        b.check(
            page_ratio <= 2.0,
            false,
            format!("assignments page, 10,000 vs 10 assignments (p50): {page_ratio:.2}× (≤ 2×)"),
        );
        b.check(
            check_ratio <= 2.0,
            false,
            format!("capacity check, 10,000 vs 10 assignments (p50): {check_ratio:.2}× (≤ 2×)"),
        );
    }
    for c in &cold {
        match &c.result {
            Ok((times, rss)) => {
                let median = ms(pct(times, 50.0));
                b.check(
                    median <= 10.0,
                    false,
                    format!("cold start median {}: {median:.2} ms (≤ 10 ms)", c.function),
                );
                let rss = *rss as f64 / MIB;
                b.check(
                    rss <= 10.0,
                    false,
                    format!("peak RSS {}: {rss:.2} MiB (≤ 10 MiB)", c.function),
                );
                if ["list", "assign", "change", "revoke"].contains(&c.function) {
                    b.check(
                        c.logged,
                        true,
                        format!(
                            "cold start {}: a JSON log line with the request id",
                            c.function
                        ),
                    );
                }
            }
            Err(e) => b.check(false, true, format!("cold start {}: {e}", c.function)),
        }
    }
    for (f, size) in &sizes {
        match size {
            Some(s) => b.check(
                *s <= 5 * 1024 * 1024,
                true,
                format!("arm64 binary {f}: {s} bytes (≤ 5 MiB = 5242880)"),
            ),
            None => b.check(
                false,
                false,
                format!("arm64 binary {f}: not built (run make build-arm64)"),
            ),
        }
    }
    println!();
    println!("Budgets");
    for (pass, _, text) in &b.lines {
        println!("{} {text}", if *pass { "PASS" } else { "FAIL" });
    }

    let report = json!({
        "mode": mode,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "warm": warm.iter().map(Measured::json).collect::<Vec<_>>(),
        "scaling": scaling.iter().map(Measured::json).collect::<Vec<_>>(),
        "cold": cold.iter().map(|c| match &c.result {
            Ok((times, rss)) => json!({"function": c.function, "request": c.request, "spawns": times.len(),
                "median_ms": ms(pct(times, 50.0)), "min_ms": ms(times[0]), "max_ms": ms(times[times.len() - 1]),
                "peak_rss_bytes": rss, "json_log_with_request_id": c.logged}),
            Err(e) => json!({"function": c.function, "error": e}),
        }).collect::<Vec<_>>(),
        "aws_lc_first_rng_ms": rng_ms,
        "arm64_bytes": sizes.iter().map(|(f, s)| (f.clone(), json!(s))).collect::<serde_json::Map<_, _>>(),
        "budgets": b.lines.iter().map(|(pass, hard, text)| json!({"pass": pass, "deterministic": hard, "text": text})).collect::<Vec<_>>(),
    });
    if let Some(dir) = opts.json.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&opts.json, serde_json::to_string_pretty(&report).unwrap())
        .expect("write the JSON report");
    println!();
    println!("JSON: {}", opts.json.display());
    let failed_hard = b.lines.iter().any(|(pass, hard, _)| !pass && *hard);
    let failed_any = b.lines.iter().any(|(pass, _, _)| !pass);
    if failed_hard || (opts.strict && failed_any) {
        std::process::exit(1);
    }
}

type Measurements = (
    Vec<Measured>,
    Vec<Measured>,
    Duration,
    Duration,
    Vec<(Duration, Duration)>,
);

/// Warm latency and scaling, with the data they need.
async fn warm_and_scaling(app: &App, probe: &Probe, quick: bool) -> Measurements {
    let (n, warmup) = if quick { (30, 5) } else { (300, 30) };
    let probe = probe.clone();
    let opts_quick = quick;
    // Data: licences of one customer, a user who holds seats in four of them.
    let customer = "bench-cust";
    let adm = admin(customer);
    let mut ids = Vec::new();
    for i in 0..4 {
        let event = purchase(
            &format!("ORD-B{i}-{}", ulid::Ulid::new()),
            customer,
            "buyer@bench.example.com",
            100_000,
        );
        ids.push(
            licensing::provision::handle(app, event)
                .await
                .expect("provision")
                .license_id,
        );
    }
    let (small, single, bulk, big) = (
        ids[0].clone(),
        ids[1].clone(),
        ids[2].clone(),
        ids[3].clone(),
    );
    let member = "member@bench.example.com";
    for id in &ids {
        let req = request(
            "POST",
            &format!("/licenses/{id}/assignments"),
            &adm,
            Some(json!({"emails": member})),
        );
        assert_eq!(invoke(app, Call::Http("assign", req)).await, 201);
    }
    // `small` holds 10 assignments: buyer, member and 8 more.
    let small_emails = addresses("small", 8);
    let req = request(
        "POST",
        &format!("/licenses/{small}/assignments"),
        &adm,
        Some(json!({"emails": small_emails})),
    );
    assert_eq!(invoke(app, Call::Http("assign", req)).await, 201);
    // A customer with 200 licences.
    let many = "bench-many";
    for i in 0..200 {
        let event = purchase(
            &format!("ORD-M{i}-{}", ulid::Ulid::new()),
            many,
            &format!("buyer{i}@many.example.com"),
            10,
        );
        licensing::provision::handle(app, event)
            .await
            .expect("provision");
    }
    probe.take();

    let mut warm = Vec::new();
    let mut scaling = Vec::new();
    eprintln!("warm latency ({n} samples each after {warmup} warm-up calls)");
    let lic = |id: &str| format!("/licenses/{id}");
    warm.push(
        measure(
            &probe,
            "list licences",
            warmup,
            n,
            200,
            (1, "1 Query"),
            |_| {
                invoke(
                    app,
                    Call::Http("list", request("GET", "/licenses", &adm, None)),
                )
            },
        )
        .await,
    );
    warm.push(
        measure(
            &probe,
            "get one licence",
            warmup,
            n,
            200,
            (1, "1 GetItem"),
            |_| {
                invoke(
                    app,
                    Call::Http("list", request("GET", &lic(&small), &adm, None)),
                )
            },
        )
        .await,
    );
    let page_why = "GetItem licence ‖ Query page (in parallel)";
    warm.push(
        measure(
            &probe,
            "assignments page",
            warmup,
            n,
            200,
            (2, page_why),
            |_| {
                let path = format!("{}/assignments?limit=10", lic(&small));
                invoke(app, Call::Http("list", request("GET", &path, &adm, None)))
            },
        )
        .await,
    );
    let me = user(member);
    warm.push(
        measure(
            &probe,
            "me/licenses",
            warmup,
            n,
            200,
            (2, "Query GSI1 + BatchGetItem licences"),
            |_| {
                invoke(
                    app,
                    Call::Http("list", request("GET", "/me/licenses", &me, None)),
                )
            },
        )
        .await,
    );
    let singles = addresses("one", n + warmup);
    let (min1, why1) = assign_minimum(1);
    warm.push(
        measure(&probe, "assign 1", warmup, n, 201, (min1, &why1), |i| {
            let body = json!({"emails": singles[i]});
            invoke(
                app,
                Call::Http(
                    "assign",
                    request(
                        "POST",
                        &format!("{}/assignments", lic(&single)),
                        &adm,
                        Some(body),
                    ),
                ),
            )
        })
        .await,
    );
    let bulk_n = if opts_quick { 10 } else { 200 };
    let bulk_warm = if opts_quick { 2 } else { 5 };
    let hundreds: Vec<Vec<String>> = (0..bulk_n + bulk_warm)
        .map(|i| addresses(&format!("h{i}"), 100))
        .collect();
    let (min100, why100) = assign_minimum(100);
    let assign100 = measure(
        &probe,
        "assign 100",
        bulk_warm,
        bulk_n,
        201,
        (min100, &why100),
        |i| {
            let body = json!({"emails": hundreds[i]});
            invoke(
                app,
                Call::Http(
                    "assign",
                    request(
                        "POST",
                        &format!("{}/assignments", lic(&bulk)),
                        &adm,
                        Some(body),
                    ),
                ),
            )
        },
    )
    .await;
    let a100_p50 = pct(&assign100.total, 50.0);
    warm.push(assign100);
    let term_end = days_from_today(365);
    let mut changeable: Vec<String> = small_emails.clone();
    changeable.push(member.to_string());
    warm.push(
        measure(
            &probe,
            "change",
            warmup,
            n,
            200,
            (2, "BatchGetItem (consistent) + TransactWriteItems"),
            |i| {
                let email = &changeable[i % changeable.len()];
                let until = if (i / changeable.len()) % 2 == 0 {
                    term_end - Days::new(1)
                } else {
                    term_end
                };
                let path = format!("{}/assignments/{}", lic(&small), email.replace('@', "%40"));
                invoke(
                    app,
                    Call::Http(
                        "change",
                        request("PATCH", &path, &adm, Some(json!({"validUntil": until}))),
                    ),
                )
            },
        )
        .await,
    );
    warm.push(
        measure(
            &probe,
            "revoke",
            warmup,
            n,
            200,
            (2, "BatchGetItem (consistent) + TransactWriteItems"),
            |i| {
                let path = format!(
                    "{}/assignments/{}",
                    lic(&single),
                    singles[i].replace('@', "%40")
                );
                invoke(
                    app,
                    Call::Http("revoke", request("DELETE", &path, &adm, None)),
                )
            },
        )
        .await,
    );
    let run_id = ulid::Ulid::new().to_string();
    warm.push(
        measure(
            &probe,
            "provision",
            warmup,
            n,
            200,
            (
                3,
                "GetItem order + Query the customer's licences of the product (consistent) + TransactWriteItems",
            ),
            |i| {
                let event = purchase(
                    &format!("ORD-P{i}-{run_id}"),
                    "bench-prov",
                    &format!("p{i}@prov.example.com"),
                    5,
                );
                invoke(app, Call::Provision(event))
            },
        )
        .await,
    );

    // Scaling.
    eprintln!("scaling");
    let tens: Vec<Vec<String>> = (0..n + warmup)
        .map(|i| addresses(&format!("t{i}"), 10))
        .collect();
    let (min10, why10) = assign_minimum(10);
    scaling.push(
        measure(&probe, "assign 10", warmup, n, 201, (min10, &why10), |i| {
            let body = json!({"emails": tens[i]});
            invoke(
                app,
                Call::Http(
                    "assign",
                    request(
                        "POST",
                        &format!("{}/assignments", lic(&single)),
                        &adm,
                        Some(body),
                    ),
                ),
            )
        })
        .await,
    );
    // Ten bulk requests of 1000 give `big` its 10,000 assignments.
    let thousands: Vec<Vec<String>> = (0..10).map(|i| addresses(&format!("k{i}"), 1000)).collect();
    let (min1000, why1000) = assign_minimum(1000);
    let assign1000 = measure(
        &probe,
        "assign 1000",
        0,
        10,
        201,
        (min1000, &why1000),
        |i| {
            let body = json!({"emails": thousands[i]});
            invoke(
                app,
                Call::Http(
                    "assign",
                    request(
                        "POST",
                        &format!("{}/assignments", lic(&big)),
                        &adm,
                        Some(body),
                    ),
                ),
            )
        },
    )
    .await;
    let a1000_p50 = pct(&assign1000.total, 50.0);
    scaling.push(assign1000);
    let mut pairs = Vec::new();
    for (label, id, count) in [("10", &small, 10), ("10,000", &big, 10_002)] {
        let page = measure(
            &probe,
            &format!("assignments page, licence with {label}"),
            warmup,
            n,
            200,
            (2, page_why),
            |_| {
                let path = format!("{}/assignments?limit=10", lic(id));
                invoke(app, Call::Http("list", request("GET", &path, &adm, None)))
            },
        )
        .await;
        let check = measure(
            &probe,
            &format!("capacity check (dryRun), licence with {label}"),
            warmup,
            n,
            200,
            (
                2,
                "BatchGetItem licence + address, and the budget's UpdateItem alongside (a dry run commits nothing to ride in)",
            ),
            |i| {
                let body = json!({"emails": format!("dry{i}@bench.example.com"), "dryRun": true});
                invoke(
                    app,
                    Call::Http(
                        "assign",
                        request(
                            "POST",
                            &format!("{}/assignments", lic(id)),
                            &adm,
                            Some(body),
                        ),
                    ),
                )
            },
        )
        .await;
        let _ = count;
        pairs.push((pct(&page.total, 50.0), pct(&check.total, 50.0)));
        scaling.push(page);
        scaling.push(check);
    }
    // A paste the contract refuses: 256 KiB of distinct entries, past 1000.
    let mut paste = String::new();
    let mut k = 0u32;
    while paste.len() < 255 * 1024 {
        paste.push_str(&format!("{k:x};"));
        k += 1;
    }
    let paste_body = json!({ "emails": paste });
    scaling.push(
        measure(
            &probe,
            &format!("assign, 256 KiB paste of {k} entries (400)"),
            warmup,
            n,
            400,
            (0, "refused while parsing, before any read"),
            |_| {
                let path = format!("{}/assignments", lic(&small));
                invoke(
                    app,
                    Call::Http(
                        "assign",
                        request("POST", &path, &adm, Some(paste_body.clone())),
                    ),
                )
            },
        )
        .await,
    );
    let many_adm = admin(many);
    scaling.push(
        measure(
            &probe,
            "list licences, customer with 200",
            warmup,
            n,
            200,
            (1, "1 Query"),
            |_| {
                invoke(
                    app,
                    Call::Http("list", request("GET", "/licenses", &many_adm, None)),
                )
            },
        )
        .await,
    );

    (warm, scaling, a100_p50, a1000_p50, pairs)
}

fn print_table(rows: &[Measured]) {
    println!(
        "{:<44} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}  round trips (minimum)",
        "operation", "n", "p50", "p99", "ddb p50", "ddb p99", "ovh p50", "ovh p99",
    );
    for m in rows {
        let trips = if m.round_trips.0 == m.round_trips.1 {
            m.round_trips.0.to_string()
        } else {
            format!("{}..{}", m.round_trips.0, m.round_trips.1)
        };
        println!(
            "{:<44} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.3} {:>9.3}  {} ({})",
            m.name,
            m.samples,
            m.p(&m.total, 50.0),
            m.p(&m.total, 99.0),
            m.p(&m.dynamo, 50.0),
            m.p(&m.dynamo, 99.0),
            m.p(&m.overhead, 50.0),
            m.p(&m.overhead, 99.0),
            trips,
            m.minimum
        );
    }
}

// ---------------------------------------------------------------- cold starts

struct Cold {
    function: &'static str,
    request: &'static str,
    result: Result<(Vec<Duration>, u64), String>,
    logged: bool,
}

fn event(name: &str) -> Value {
    let path = root().join("events").join(name);
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("event JSON")
}

async fn cold_starts(app: &App, endpoint: &str, spawns: usize) -> Vec<Cold> {
    eprintln!("cold starts ({spawns} spawns per function)");
    // The events in events/ name cust-1001's licence of order ORD-1001: provision it.
    let provision = event("provision.json");
    let license_id = licensing::provision::handle(app, provision.clone())
        .await
        .expect("provision the events' licence")
        .license_id;
    let fix = |mut v: Value| {
        let text = v
            .to_string()
            .replace("lic_6CGKN22FHMWP935DWKR78NWDA8", &license_id);
        v = serde_json::from_str(&text).unwrap();
        v
    };
    let mut assign = fix(event("assign.json"));
    assign["body"] = json!(json!({"emails": "dora@example.com", "dryRun": true}).to_string());
    let cases: [(&str, &str, Value, &str); 6] = [
        (
            "list",
            "GET /licenses/{id}: 1 GetItem",
            fix(event("get-license.json")),
            "\"statusCode\":200",
        ),
        (
            "assign",
            "POST assignments, dryRun: 1 BatchGetItem ‖ 1 UpdateItem (budget)",
            assign,
            "\"statusCode\":200",
        ),
        (
            "change",
            "PATCH an unassigned address: 1 BatchGetItem, 404",
            fix(event("change.json")),
            "\"statusCode\":404",
        ),
        (
            "revoke",
            "DELETE an unassigned address: 1 BatchGetItem, 404",
            fix(event("revoke.json")),
            "\"statusCode\":404",
        ),
        (
            "provision",
            "a redelivered order: 1 GetItem",
            provision,
            "licenseId",
        ),
        (
            "notify",
            "a record of an unknown assignment: 1 UpdateItem",
            fix(event("notify.json")),
            "batchItemFailures",
        ),
    ];
    // DynamoDB Local is a JVM: until its JIT has seen these requests, its
    // answers are several times slower than later (and than DynamoDB's). The
    // same requests in-process first, so a cold start measures the function.
    let notifier = licensing::notify::Notifier {
        store: app.store.clone(),
        ses: licensing::app::ses_client_at(Some("http://127.0.0.1:9".into())),
        from: "licensing@example.com".into(),
        configuration_set: None,
        portal_url: "https://portal.example.com".into(),
    };
    for _ in 0..300 {
        for (function, _, event, _) in &cases {
            match *function {
                "provision" => {
                    invoke(app, Call::Provision(event.clone())).await;
                }
                "notify" => {
                    notifier.handle(event).await;
                }
                http => {
                    let req = lambda_http::request::from_str(&event.to_string())
                        .expect("an API Gateway event");
                    invoke(app, Call::Http(http, Box::new(req))).await;
                }
            }
        }
    }
    let env = cold::lambda_env(endpoint, app.store.table());
    struct Case {
        cold: Cold,
        binary: PathBuf,
        env: HashMap<String, String>,
        bytes: Vec<u8>,
        expect: &'static str,
        times: Vec<Duration>,
        peak: u64,
        failed: Option<String>,
    }
    let mut cases: Vec<Case> = cases
        .into_iter()
        .map(|(function, request, event, expect)| {
            let binary = root().join("target/release").join(function);
            let mut env = env.clone();
            cold::name_function(&mut env, function);
            let failed = (!binary.is_file()).then(|| {
                format!(
                    "{} is not built: run cargo build --release -p {function}",
                    binary.display()
                )
            });
            Case {
                cold: Cold {
                    function,
                    request,
                    result: Ok((Vec::new(), 0)),
                    logged: true,
                },
                binary,
                env,
                bytes: event.to_string().into_bytes(),
                expect,
                times: Vec::new(),
                peak: 0,
                failed,
            }
        })
        .collect();
    // Round after round over all functions, so that whatever else the machine
    // does spreads evenly over them; round 0 (unmeasured) puts each binary in
    // the page cache.
    for round in 0..=spawns {
        for case in cases.iter_mut().filter(|c| c.failed.is_none()) {
            match cold::spawn_once(&case.binary, &case.env, &case.bytes) {
                Ok(s) if !s.response.to_string().contains(case.expect) => {
                    case.failed = Some(format!("unexpected response {}", s.response));
                }
                Ok(_) if round == 0 => {}
                Ok(s) => {
                    case.times.push(s.elapsed);
                    case.peak = case.peak.max(s.peak_rss);
                    case.cold.logged &= s.stdout.lines().any(|l| {
                        serde_json::from_str::<Value>(l).is_ok()
                            && l.contains("8476a536-e9f4-11e8-9739-2dfe598c3fcd")
                    });
                }
                Err(e) => case.failed = Some(e),
            }
        }
    }
    cases
        .into_iter()
        .map(|mut c| {
            c.times.sort();
            c.cold.result = match c.failed {
                Some(e) => Err(e),
                None => Ok((c.times, c.peak)),
            };
            c.cold
        })
        .collect()
}
