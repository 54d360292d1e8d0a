//! The warm-latency and scaling scenarios, as a table: what each measures,
//! how often, what it must answer, its round-trip minimum, and the call.

use licensing::App;
use serde_json::json;

use crate::fixtures::{Fixture, addresses, export, import, purchase, request};
use crate::measure::{Call, Measured, Minimum, invoke, measure};
use crate::probe::Probe;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Single-item operations and assign 100, with the overhead budgets.
    Warm,
    /// How the cost grows with request and data size.
    Scaling,
}

/// How many calls: warm-ups, then measured ones.
#[derive(Clone, Copy, Debug)]
pub struct Samples {
    pub warmup: usize,
    pub measured: usize,
}

impl Samples {
    pub fn total(&self) -> usize {
        self.warmup + self.measured
    }
}

/// The single-item warm rows' samples.
pub fn warm_samples(quick: bool) -> Samples {
    if quick { Samples { warmup: 5, measured: 30 } } else { Samples { warmup: 30, measured: 300 } }
}

/// The SCIM deactivations: each call takes another person's seats.
pub fn scim_samples(quick: bool) -> Samples {
    Samples { warmup: 1, measured: if quick { 3 } else { 10 } }
}

pub struct Scenario<'a> {
    pub name: String,
    pub group: Group,
    pub samples: Samples,
    pub expect: u16,
    pub minimum: Minimum,
    /// The i-th call (warm-ups count from 0).
    pub call: Box<dyn Fn(usize) -> Call + 'a>,
}

const PAGE: &str = "GetItem licence, then Query page (the licence first: see usecase::query)";
const HISTORY: &str = "GetItem licence, then Query entries (one page)";
const DRY_RUN: &str = "GetItem licence, then BatchGetItem address, and the budget's UpdateItem alongside (a dry run commits nothing to ride in)";
const EXPORT: &str =
    "UpdateItem the export budget ‖ GetItem licence, then Query all assignments (1 MB pages)";
const ONE: &str =
    "GetItem licence, then BatchGetItem (consistent) the assignment + TransactWriteItems";

/// Every scenario, in the order they run (`assign 1` writes what `revoke`
/// takes back; the ten `assign 1000` fill `big` before it is paged).
pub fn table(f: &Fixture, quick: bool) -> Vec<Scenario<'_>> {
    let n = warm_samples(quick);
    let bulk_n = if quick {
        Samples { warmup: 2, measured: 10 }
    } else {
        Samples { warmup: 5, measured: 200 }
    };
    let once = Samples { warmup: 0, measured: 10 };
    let adm = f.admin.as_str();
    let assignments = |id: &str| format!("/licenses/{id}/assignments");
    let singles = addresses("one", n.warmup + n.measured);
    let run = ulid::Ulid::new().to_string();
    let (paste, entries) = paste(255 * 1024);
    let mut rows = vec![
        scenario("list licences", Group::Warm, n, 200, Minimum::new(1, "1 Query"), move |_| {
            request("GET", "/licenses", adm, None)
        }),
        scenario("get one licence", Group::Warm, n, 200, Minimum::new(1, "1 GetItem"), move |_| {
            request("GET", &format!("/licenses/{}", f.small), adm, None)
        }),
        scenario("assignments page", Group::Warm, n, 200, Minimum::new(2, PAGE), move |_| {
            request("GET", &format!("{}?limit=10", assignments(&f.small)), adm, None)
        }),
        scenario(
            "me/licenses",
            Group::Warm,
            n,
            200,
            Minimum::new(2, "Query GSI1 + BatchGetItem licences"),
            move |_| request("GET", "/me/licenses", &f.member, None),
        ),
        scenario("assign 1", Group::Warm, n, 201, Minimum::assign(1), {
            let singles = singles.clone();
            move |i| {
                request("POST", &assignments(&f.single), adm, Some(json!({"emails": singles[i]})))
            }
        }),
        assign_new(Group::Warm, bulk_n, &f.bulk, adm, "h", 100),
        scenario("change", Group::Warm, n, 200, Minimum::new(3, ONE), move |i| {
            let changeable = f.small_emails.len() + 1;
            let email = f.small_emails.get(i % changeable).unwrap_or(&f.member_email);
            let path = format!("{}/{}", assignments(&f.small), email.replace('@', "%40"));
            request("PATCH", &path, adm, Some(json!({"validUntil": f.change_until(i)})))
        }),
        scenario("revoke", Group::Warm, n, 200, Minimum::new(3, ONE), move |i| {
            request(
                "DELETE",
                &format!("{}/{}", assignments(&f.single), singles[i].replace('@', "%40")),
                adm,
                None,
            )
        }),
        // A product's check at sign-in: each person's first of the day, then again.
        scenario(
            "entitlement check, first today",
            Group::Warm,
            n,
            200,
            Minimum::new(
                2,
                "Query GSI1 (the person's seats of the product) + UpdateItem the day's activity \
                 (on a first use a TransactWriteItems, with the acceptance's history entry)",
            ),
            move |i| {
                request("GET", &format!("/me/entitlements/{}", f.product), &f.entitled[i], None)
            },
        ),
        scenario(
            "entitlement check, again today",
            Group::Warm,
            n,
            200,
            Minimum::new(1, "Query GSI1 (the day's activity is recorded: nothing to write)"),
            move |i| {
                request("GET", &format!("/me/entitlements/{}", f.product), &f.entitled[i], None)
            },
        ),
        scenario(
            "provision",
            Group::Warm,
            n,
            200,
            Minimum::new(
                4,
                "GetItem order + Query the customer's licences of the product (consistent) + TransactWriteItems \
                 + GetItem the event parked as number 1 (v3: events may come before their purchase)",
            ),
            move |i| {
                Call::Provision(purchase(
                    &format!("ORD-P{i}-{run}"),
                    "bench-prov",
                    &format!("p{i}@prov.example.com"),
                    5,
                ))
            },
        ),
        assign_new(Group::Scaling, n, &f.single, adm, "t", 10),
        // Ten bulk requests of 1000 give `big` its 10,000 assignments.
        assign_new(Group::Scaling, once, &f.big, adm, "k", 1000),
    ];
    // A scaling scenario: `n` GETs of `path` by the admin, each answered 200.
    let page = |name: String, minimum: Minimum, path: String| {
        scenario(&name, Group::Scaling, n, 200, minimum, move |_| request("GET", &path, adm, None))
    };
    for (label, id) in [("10", &f.small), ("10,000", &f.big)] {
        let name = format!("assignments page, licence with {label}");
        rows.push(page(name, Minimum::new(2, PAGE), format!("{}?limit=10", assignments(id))));
        rows.push(scenario(
            &format!("capacity check (dryRun), licence with {label}"),
            Group::Scaling,
            n,
            200,
            Minimum::new(3, DRY_RUN),
            move |i| {
                let body = json!({"emails": format!("dry{i}@bench.example.com"), "dryRun": true});
                request("POST", &assignments(id), adm, Some(body))
            },
        ));
    }
    // A paste the contract refuses: 256 KiB of distinct entries, past 1000.
    rows.push(scenario(
        &format!("assign, 256 KiB paste of {entries} entries (400)"),
        Group::Scaling,
        n,
        400,
        Minimum::new(0, "refused while parsing, before any read"),
        move |_| request("POST", &assignments(&f.small), adm, Some(json!({ "emails": paste }))),
    ));
    rows.push(scenario(
        "list licences, customer with 200",
        Group::Scaling,
        n,
        200,
        Minimum::new(1, "1 Query"),
        move |_| request("GET", "/licenses", &f.many_admin, None),
    ));
    for (label, id) in [("10", &f.quiet), ("10,000", &f.big)] {
        let name = format!("history page, licence with {label} entries");
        rows.push(page(name, Minimum::new(2, HISTORY), format!("/licenses/{id}/history?limit=10")));
    }
    // `big` holds 10,002 assignments by now (the buyer, the member and the
    // ten `assign 1000`); the export reads them all, page by page.
    let exports = Samples { warmup: 1, measured: if quick { 3 } else { 10 } };
    for (label, gzip) in [("", false), (", gzip", true)] {
        rows.push(scenario(
            &format!("CSV export, licence with 10,000{label}"),
            Group::Scaling,
            exports,
            200,
            Minimum::paged(2, EXPORT),
            move |_| export(&f.big, adm, gzip),
        ));
    }
    rows.push(scenario(
        "CSV import, 1000 rows (300 periods)",
        Group::Scaling,
        once,
        201,
        Minimum::assign(1000),
        move |_| import(&f.bulk, adm, 1000),
    ));
    // The reminder run: what is due costs the reads, not the table's size.
    let (licences, due) = (f.reminders.licences, f.reminders.due);
    let today = chrono::Utc::now().date_naive();
    let window_start = today - chrono::Days::new(licensing::reminders::LOOKBACK_DAYS);
    let months = if window_start.format("%Y-%m").to_string() == today.format("%Y-%m").to_string() {
        1
    } else {
        2
    };
    let shards = licensing::store::keys::IDLE_SHARDS as usize;
    let reads = format!(
        "{months} Query GSI2 (the window's months) ‖ 1 Query GSI2 (events parked over a day), \
         BatchGetItem licences, BatchGetItem assignments, BatchGetItem their records, \
         {shards} Query GSI3 (nothing due for reclaim)"
    );
    rows.push(scenario(
        &format!("reminder run, {licences} licences, {due} due"),
        Group::Scaling,
        Samples { warmup: 0, measured: 1 },
        200,
        Minimum::new(
            months + 4 + shards + 2 * due,
            format!("{reads}, then per reminder 2 UpdateItem (claim, record)"),
        ),
        move |_| f.remind(),
    ));
    rows.push(scenario(
        &format!("reminder run again, {licences} licences, {due} sent"),
        Group::Scaling,
        Samples { warmup: 0, measured: 3 },
        200,
        Minimum::new(months + 4 + shards, format!("{reads} (all sent: no writes)")),
        move |_| f.remind(),
    ));
    // The run's reclaim: what is due costs the reads, not the number of seats.
    for idle in &f.idle {
        let shards = licensing::store::keys::IDLE_SHARDS as usize;
        rows.push(scenario(
            &format!("reclaim run, {} seats, {} due", idle.seats, idle.due),
            Group::Scaling,
            Samples { warmup: 0, measured: 1 },
            200,
            Minimum::new(
                shards + 2 + idle.due.div_ceil(49),
                format!(
                    "{shards} Query GSI3 (the idle index's partitions, up to today) ‖, \
                     BatchGetItem licences ‖ BatchGetItem the seats (consistent), then \
                     1 TransactWriteItems per 49 warnings of a licence (each seat and its \
                     history entry)"
                ),
            ),
            move |_| idle.run(),
        ));
    }
    // Each renewal moves every default period of `big` (10,002) to its new end.
    let renewals = Samples { warmup: 0, measured: if quick { 1 } else { 3 } };
    let moves = 10_002;
    let chunks = usize::div_ceil(moves, 49);
    let why = format!(
        "GetItem order, GetItem event record ‖ licence, Query all assignments (pages), \
         TransactWriteItems commit point, {chunks} chunks of 49 moves with their entries, clear, \
         GetItem the next number's parked event (v3)"
    );
    rows.push(scenario(
        "renewal, licence with 10,000 default periods",
        Group::Scaling,
        renewals,
        200,
        Minimum::paged(6 + chunks, why),
        move |i| Call::OrderEvent(f.renewal(i)),
    ));
    rows.extend(f.scim.rows(scim_samples(quick), n));
    rows
}

/// `assign {count}`: each call assigns `count` new addresses (tagged `tag`)
/// to the licence `id`, by `token`.
fn assign_new<'a>(
    group: Group,
    samples: Samples,
    id: &'a str,
    token: &'a str,
    tag: &'static str,
    count: usize,
) -> Scenario<'a> {
    let name = format!("assign {count}");
    scenario(&name, group, samples, 201, Minimum::assign(count), move |_| {
        let body = json!({"emails": addresses(tag, count)});
        request("POST", &format!("/licenses/{id}/assignments"), token, Some(body))
    })
}

pub fn scenario<'a>(
    name: &str,
    group: Group,
    samples: Samples,
    expect: u16,
    minimum: Minimum,
    call: impl Fn(usize) -> Call + 'a,
) -> Scenario<'a> {
    Scenario { name: name.to_string(), group, samples, expect, minimum, call: Box::new(call) }
}

/// Runs every scenario in order; each measured row with its group.
pub async fn run(app: &App, probe: &Probe, scenarios: Vec<Scenario<'_>>) -> Vec<(Group, Measured)> {
    let mut rows = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        eprintln!(
            "{} ({} samples after {} warm-up calls)",
            s.name, s.samples.measured, s.samples.warmup
        );
        let call = &s.call;
        let measured = measure(
            probe,
            &s.name,
            (s.samples.warmup, s.samples.measured),
            s.expect,
            s.minimum,
            |i| invoke(app, call(i)),
        )
        .await;
        rows.push((s.group, measured));
    }
    rows
}

/// About `bytes` of distinct short entries (hex numbers and `;`), and how many.
fn paste(bytes: usize) -> (String, usize) {
    let mut text = String::new();
    let mut entries = 0;
    while text.len() < bytes {
        text.push_str(&format!("{entries:x};"));
        entries += 1;
    }
    (text, entries)
}
