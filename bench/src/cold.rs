//! Cold starts: each function's release binary spawned against a minimal
//! Lambda Runtime API (the harness's), time to its first response and peak
//! RSS; and the first use of aws-lc's randomness in a fresh process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use licensing::App;
use licensing_tests::NotifierEvents;
use licensing_tests::runtime_api as stub;
use serde_json::{Value, json};

use crate::measure::{Call, invoke};
use crate::root;

pub struct Cold {
    pub function: &'static str,
    pub request: &'static str,
    pub result: Result<(Vec<Duration>, u64), String>,
    pub logged: bool,
}

fn event(name: &str) -> Value {
    let path = root().join("events").join(name);
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("event JSON")
}

/// One function's cold-start case: the event it is handed and what its
/// answer must contain.
struct Case {
    function: &'static str,
    request: &'static str,
    event: Value,
    expect: &'static str,
}

/// The events in `events/`, pointed at the licence the bench provisioned.
async fn cases(app: &App) -> Vec<Case> {
    // The events name cust-1001's licence of order ORD-1001: provision it.
    let provision = event("provision.json");
    let license_id = licensing_tests::provision(app, provision.clone())
        .await
        .expect("provision the events' licence")
        .license_id;
    let fix = |v: Value| {
        let text = v.to_string().replace("lic_6CGKN22FHMWP935DWKR78NWDA8", &license_id);
        serde_json::from_str(&text).unwrap()
    };
    let mut assign: Value = fix(event("assign.json"));
    assign["body"] = json!(json!({"emails": "dora@example.com", "dryRun": true}).to_string());
    let case = |function, request, event, expect| Case { function, request, event, expect };
    vec![
        case(
            "list",
            "GET /licenses/{id}: 1 GetItem",
            fix(event("get-license.json")),
            "\"statusCode\":200",
        ),
        case(
            "assign",
            "POST assignments, dryRun: GetItem, then BatchGetItem ‖ UpdateItem (budget)",
            assign,
            "\"statusCode\":200",
        ),
        case(
            "change",
            "PATCH an unassigned address: GetItem, then BatchGetItem, 404",
            fix(event("change.json")),
            "\"statusCode\":404",
        ),
        case(
            "revoke",
            "DELETE an unassigned address: GetItem, then BatchGetItem, 404",
            fix(event("revoke.json")),
            "\"statusCode\":404",
        ),
        case("provision", "a redelivered order: 1 GetItem", provision, "licenseId"),
        case(
            "notify",
            "a record of an unknown assignment: 1 UpdateItem",
            fix(event("notify.json")),
            "batchItemFailures",
        ),
        case(
            "remind",
            "a run with nothing due: 2 Query GSI2 (this month and the last) ‖ 8 Query GSI3 (nothing idle)",
            event("remind.json"),
            "candidates",
        ),
    ]
    .into_iter()
    .chain(machine_cases())
    .collect()
}

/// The functions a machine calls: the tokens, SCIM (with a token this
/// stack does not know), and a product's entitlement check (of a person
/// without seats: one Query of GSI1, nothing to record).
fn machine_cases() -> Vec<Case> {
    let case = |function, request, event, expect| Case { function, request, event, expect };
    vec![
        case(
            "tokens",
            "GET /tokens: 1 Query (the customer's tokens)",
            event("list-tokens.json"),
            "\"statusCode\":200",
        ),
        case(
            "scim",
            "GET /scim/v2/ServiceProviderConfig with an unknown token: 1 GetItem, 401",
            event("scim-service-provider-config.json"),
            "\"statusCode\":401",
        ),
        case(
            "entitlements",
            "GET /me/entitlements/{productId} of a person without seats: 1 Query (GSI1)",
            event("my-entitlement.json"),
            "\"statusCode\":200",
        ),
        case(
            "webhooks",
            "GET /webhooks: 1 Query (the customer's endpoints)",
            event("list-webhooks.json"),
            "\"statusCode\":200",
        ),
        case(
            "deliver",
            "a job of an endpoint that is not there: 1 BatchGetItem, dropped",
            event("deliver.json"),
            "batchItemFailures",
        ),
    ]
}

/// DynamoDB Local is a JVM: until its JIT has seen these requests, its
/// answers are several times slower than later (and than DynamoDB's). The
/// same requests in-process first, so a cold start measures the function.
async fn warm_dynamodb_local(app: &App, cases: &[Case]) {
    let notifier = licensing_tests::notifier_on(&app.store, "http://127.0.0.1:9");
    let courier = licensing::usecase::deliver::Courier {
        store: app.store.clone(),
        outbound: licensing::outbound::Outbound::from_env(),
        sender: licensing::outbound::Sender::new(Box::new(licensing::outbound::SystemResolver)),
        scale: 1.0,
    };
    for _ in 0..300 {
        for case in cases {
            match case.function {
                "provision" => {
                    invoke(app, Call::Provision(case.event.clone())).await;
                }
                "notify" => {
                    notifier.handle(&case.event).await;
                }
                "remind" => {
                    notifier.handle_reminders(&case.event).await.expect("nothing to send");
                }
                "deliver" => {
                    licensing::events::queue::handle(&courier, &case.event).await;
                }
                http => {
                    let req = lambda_http::request::from_str(&case.event.to_string())
                        .expect("an API Gateway event");
                    invoke(app, Call::Http(http, Box::new(req))).await;
                }
            }
        }
    }
}

/// What the spawns of one function found.
struct Spawns {
    binary: PathBuf,
    env: HashMap<String, String>,
    times: Vec<Duration>,
    peak: u64,
    logged: bool,
    failed: Option<String>,
}

pub async fn cold_starts(app: &App, endpoint: &str, spawns: usize) -> Vec<Cold> {
    eprintln!("cold starts ({spawns} spawns per function)");
    let cases = cases(app).await;
    warm_dynamodb_local(app, &cases).await;
    let env = stub::lambda_env(endpoint, app.store.table());
    let mut found: Vec<Spawns> = cases
        .iter()
        .map(|case| {
            let binary = root().join("target/release").join(case.function);
            let mut env = env.clone();
            stub::name_function(&mut env, case.function);
            let failed = (!binary.is_file()).then(|| {
                format!(
                    "{} is not built: run cargo build --release -p {}",
                    binary.display(),
                    case.function
                )
            });
            Spawns { binary, env, times: Vec::new(), peak: 0, logged: true, failed }
        })
        .collect();
    // Round after round over all functions, so that whatever else the machine
    // does spreads evenly over them; round 0 (unmeasured) puts each binary in
    // the page cache.
    for round in 0..=spawns {
        for (case, s) in cases.iter().zip(found.iter_mut()).filter(|(_, s)| s.failed.is_none()) {
            spawn(case, s, round == 0);
        }
    }
    cases
        .into_iter()
        .zip(found)
        .map(|(case, mut s)| {
            s.times.sort();
            Cold {
                function: case.function,
                request: case.request,
                result: s.failed.map_or(Ok((s.times, s.peak)), Err),
                logged: s.logged,
            }
        })
        .collect()
}

/// One spawn of a case's binary, recorded unless it only warms the page cache.
fn spawn(case: &Case, s: &mut Spawns, warming: bool) {
    match stub::spawn_once(&s.binary, &s.env, case.event.to_string().as_bytes()) {
        Ok(out) if !out.response.to_string().contains(case.expect) => {
            s.failed = Some(format!("unexpected response {}", out.response));
        }
        Ok(_) if warming => {}
        Ok(out) => {
            s.times.push(out.elapsed);
            s.peak = s.peak.max(out.peak_rss);
            s.logged &= out.stdout.lines().any(|l| {
                serde_json::from_str::<Value>(l).is_ok()
                    && l.contains("8476a536-e9f4-11e8-9739-2dfe598c3fcd")
            });
        }
        Err(e) => s.failed = Some(e),
    }
}

/// A CSV export in a fresh release `list` process: what a real invocation
/// answers (the Runtime API payload) and the memory it takes.
pub struct ExportSpawn {
    pub gzip: bool,
    pub elapsed: Duration,
    pub peak_rss: u64,
    /// The invocation's response payload (the JSON envelope API Gateway reads).
    pub payload_bytes: usize,
    /// The CSV file itself, uncompressed, and its rows.
    pub csv_bytes: usize,
    pub rows: usize,
}

impl ExportSpawn {
    /// How many rows like these fit the largest answer the function gives
    /// (`licensing::api::csv::MAX_PAYLOAD`), at this payload per row.
    pub fn rows_that_fit(&self) -> usize {
        let per_row = self.payload_bytes as f64 / self.rows.max(1) as f64;
        (licensing::api::csv::MAX_PAYLOAD as f64 / per_row) as usize
    }
}

/// Exports `license` of `customer` once in a fresh `list` process, as an
/// API Gateway event with `Accept: text/csv` (and gzip if asked).
pub fn export_spawn(
    app: &App,
    endpoint: &str,
    customer: &str,
    license: &str,
    gzip: bool,
) -> Result<ExportSpawn, String> {
    let binary = root().join("target/release/list");
    if !binary.is_file() {
        return Err(format!("{} is not built", binary.display()));
    }
    let mut env = stub::lambda_env(endpoint, app.store.table());
    stub::name_function(&mut env, "list");
    // The bench exports `big` more often than a customer's 10 a minute.
    env.insert("EXPORT_BUDGET_PER_MINUTE".into(), u32::MAX.to_string());
    let mut event = event("get-license.json");
    let path = format!("/licenses/{license}/assignments");
    event["routeKey"] = json!("GET /licenses/{licenseId}/assignments");
    event["requestContext"]["routeKey"] = event["routeKey"].clone();
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["pathParameters"]["licenseId"] = json!(license);
    event["headers"]["accept"] = json!("text/csv");
    if gzip {
        event["headers"]["accept-encoding"] = json!("gzip, deflate, br");
    }
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:customer_id"] = json!(customer);
    let out = stub::spawn_once(&binary, &env, event.to_string().as_bytes())?;
    let response = &out.response;
    if response["statusCode"] != 200 {
        return Err(format!("the export answered {}", response["statusCode"]));
    }
    let body = response["body"].as_str().unwrap_or("");
    let csv = if response["isBase64Encoded"] == true {
        use base64::Engine;
        use std::io::Read;
        let zipped =
            base64::engine::general_purpose::STANDARD.decode(body).map_err(|e| e.to_string())?;
        let mut csv = Vec::new();
        flate2::read::GzDecoder::new(zipped.as_slice())
            .read_to_end(&mut csv)
            .map_err(|e| e.to_string())?;
        csv
    } else {
        body.as_bytes().to_vec()
    };
    Ok(ExportSpawn {
        gzip,
        elapsed: out.elapsed,
        peak_rss: out.peak_rss,
        payload_bytes: response.to_string().len(),
        csv_bytes: csv.len(),
        rows: csv.split(|b| *b == b'\n').count().saturating_sub(2),
    })
}

/// `bench --rng-probe`: the time of aws-lc's first random bytes in a fresh
/// process (the seeding a function pays in its first TLS handshake), in µs.
pub fn rng_probe() -> ! {
    let started = Instant::now();
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    println!("{}", started.elapsed().as_micros());
    std::process::exit(0)
}

/// Median of `rng_probe` over fresh processes, in ms.
pub fn first_rng_use(spawns: usize) -> Option<f64> {
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
