//! `cargo run --release -p bench [-- --quick] [--json PATH] [--no-cold | --cold-only] [--no-webhooks] [--strict]`
//!
//! Measures every function against DynamoDB Local on this machine and checks
//! the performance budgets: cold start and peak RSS of the release binaries
//! (spawned against a Lambda Runtime API stub), warm latency of the real
//! handlers driven in-process with DynamoDB time split out, DynamoDB round
//! trips per operation against the minimum the access pattern needs, scaling
//! with request and data size, and the size of the arm64 binaries.
//! Prints a table and PASS/FAIL lines, writes JSON (default `.local/bench.json`).

mod budgets;
mod cold;
mod fixtures;
mod groups;
mod idle;
mod measure;
mod pending;
mod probe;
mod report;
mod scenarios;
mod scim;
mod webhooks;

use std::path::{Path, PathBuf};

use licensing::App;
use licensing::http::identity::AuthMode;
use licensing::store::Store;
use licensing_tests::{FUNCTIONS, dynamodb_endpoint};

use budgets::Budgets;
use fixtures::Fixture;
use probe::Probe;
use report::Run;

const MIB: f64 = 1024.0 * 1024.0;

struct Opts {
    quick: bool,
    warm: bool,
    cold: bool,
    /// The webhooks on the local stack (`--no-webhooks`: not run).
    webhooks: bool,
    strict: bool,
    json: PathBuf,
    /// Only the warm and scaling rows whose name contains this.
    only: Option<String>,
}

fn opts() -> Opts {
    let mut o = Opts {
        quick: std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0"),
        warm: true,
        cold: true,
        webhooks: true,
        strict: false,
        json: root().join(".local/bench.json"),
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-cold" => o.cold = false,
            "--no-webhooks" => o.webhooks = false,
            "--cold-only" => o.warm = false,
            "--strict" => o.strict = true,
            "--json" => o.json = PathBuf::from(args.next().expect("--json PATH")),
            "--only" => o.only = Some(args.next().expect("--only TEXT")),
            "-h" | "--help" => {
                println!(
                    "bench [--quick] [--no-cold | --cold-only] [--no-webhooks] [--strict] [--json PATH] [--only TEXT]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--rng-probe") {
        cold::rng_probe();
    }
    let opts = opts();
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run(opts));
}

async fn run(opts: Opts) {
    let endpoint = dynamodb_endpoint().to_string();
    let probe = Probe::default();
    let client = licensing::app::dynamodb_client_with(Some(endpoint.clone()), probe.clone());
    let table = format!("bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    licensing::store::create_table(&client, &table).await.expect("create table");
    let mut app = App::new(Store::new(client, table.clone()), AuthMode::Verified);
    // The bench puts far more than a customer's 5,000 addresses a minute through
    // assign; the budget's conditional update still rides in every commit.
    app.assign_budget = u32::MAX;
    // Likewise for CSV exports (10 a customer a minute): the bench exports
    // `big` more often than that; the counter's update is still paid.
    app.export_budget = u32::MAX;
    // And for SCIM (20 requests a second per token): the `userName eq` row
    // asks faster than that.
    app.scim_budget = u32::MAX;
    let app = &app;
    let mode = if opts.quick { "quick" } else { "full" };
    eprintln!("bench ({mode}): DynamoDB Local at {endpoint}, table {table}");

    // Webhooks on the local stack first, while DynamoDB Local is fresh: ten
    // bulk assigns of 1,000 (one in quick mode). `--only webhooks` runs them alone.
    let only_hooks = opts.only.as_deref() == Some("webhooks");
    let hooks = if opts.warm && opts.webhooks && (opts.only.is_none() || only_hooks) {
        let (latency, bulks) = if opts.quick { (20, 1) } else { (50, 10) };
        Some(webhooks::run(app, latency, bulks).await)
    } else {
        None
    };
    // The group rule (v3): its own customer, `--only groups` alone.
    let only_groups = opts.only.as_deref() == Some("groups");
    let group_rule = if opts.warm && (opts.only.is_none() || only_groups) {
        Some(groups::run(app, &probe, &endpoint, opts.cold).await)
    } else {
        None
    };
    let mut meets_fanout = None;
    let (rows, exports) = if opts.warm && !only_hooks && !only_groups {
        let fixture = Fixture::set_up(app, opts.quick).await;
        probe.take();
        let mut table = scenarios::table(&fixture, opts.quick);
        if let Some(only) = &opts.only {
            table.retain(|s| s.name.contains(only.as_str()));
        }
        let rows = scenarios::run(app, &probe, table).await;
        if opts.only.is_some() {
            (rows, Vec::new())
        } else {
            // The CSV export of the 10,000 in a fresh release process: its
            // memory and the size of its answer (`--no-cold` spawns no release binary).
            let exports = if opts.cold {
                [false, true]
                    .map(|gzip| {
                        cold::export_spawn(app, &endpoint, "bench-cust", &fixture.big, gzip)
                    })
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            meets_fanout = Some(pending::writer_meets_renewal(app, &endpoint, &fixture).await);
            (rows, exports)
        }
    } else {
        (Vec::new(), Vec::new())
    };
    let spawns = if opts.quick { 5 } else { 20 };
    let (cold, rng_ms) = if opts.cold {
        (cold::cold_starts(app, &endpoint, spawns).await, cold::first_rng_use(spawns))
    } else {
        (Vec::new(), None)
    };
    let run = Run { mode, rows, exports, cold, rng_ms, sizes: arm64_sizes() };
    let mut budgets = Budgets::default();
    if let Some(h) = &hooks {
        budgets.webhooks(h);
    }
    budgets.rows(&run.rows);
    budgets.cold(&run.cold);
    budgets.exports(&run.exports);
    budgets.sizes(&run.sizes);
    run.print(&budgets);
    if let Some(meets) = &meets_fanout {
        pending::MeetsFanout::print(meets);
    }
    if let Some(h) = &hooks {
        h.print();
    }
    if let Some(g) = &group_rule {
        g.print();
    }
    run.write_json(&budgets, &opts.json);
    if budgets.failed(opts.strict) {
        std::process::exit(1);
    }
}

/// The stripped arm64 binaries `make build-arm64` left, if any.
fn arm64_sizes() -> Vec<(String, Option<u64>)> {
    FUNCTIONS
        .iter()
        .map(|f| {
            let path = root().join(format!("target/lambda/{f}/bootstrap"));
            (f.to_string(), std::fs::metadata(path).ok().map(|m| m.len()))
        })
        .collect()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}
