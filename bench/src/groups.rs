//! The group rule (v3), through the functions' own handlers on DynamoDB
//! Local: 1,000 members added to a group linked to three licences of 500
//! free seats each (round trips against the minimum, time, the waiting
//! lists); a seat freed by an admin's revoke to the first who waits; and a
//! group of 10,000 members read with and without them (time, round trips,
//! answer size, and the `scim` function's memory in a fresh release process).

use std::time::{Duration, Instant};

use licensing::App;
use licensing::model::DirectoryUser;
use licensing::usecase::tokens::Machine;
use licensing_tests::runtime_api as stub;
use licensing_tests::{admin, bare_request};
use serde_json::{Value, json};

use crate::fixtures::provision;
use crate::measure::{Call, invoke};
use crate::probe::Probe;
use crate::root;

const CUSTOMER: &str = "bench-groups";
const LICENCES: usize = 3;
const FREE: u32 = 500;
const JOINING: usize = 1_000;
const BIG: usize = 10_000;

pub struct GroupsRun {
    /// The PATCH that adds the members: its time and round trips.
    pub patch: (Duration, usize),
    /// The runs it left, written by the minute's run: time and round trips.
    pub rest: (Duration, usize),
    pub minimum: usize,
    /// Per licence: seats in use and people waiting afterwards.
    pub outcome: Vec<(u32, usize)>,
    /// An admin's revoke of a rule's seat, which gives it to the first who waits.
    pub freed: Vec<Duration>,
    pub freed_calls: Vec<usize>,
    /// GET /Groups/{id} of the big group, with and without members: median
    /// time, round trips, answer bytes, and the release process's peak RSS
    /// (bytes).
    pub reads: Vec<GroupRead>,
}

pub struct GroupRead {
    pub members: bool,
    pub median: Duration,
    pub calls: usize,
    pub bytes: usize,
    pub peak_rss: Result<u64, String>,
}

fn json_of(response: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}

async fn scim(app: &App, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let mut req = bare_request(method, path, Some(token), body.as_deref());
    req.headers_mut().insert("content-type", "application/scim+json".parse().unwrap());
    let (status, answer) = json_of(licensing::api::scim::handle(app, req).await);
    assert!(status < 300, "{method} {path}: {status} {answer}");
    answer
}

/// `n` people of the customer's directory, written through the use case
/// four at a time (an identity provider's 20 requests a second would take
/// minutes); their ids.
async fn people(app: &App, tag: &str, n: usize) -> Vec<String> {
    let machine = Machine { customer_id: CUSTOMER.into(), token_id: "tok_bench".into() };
    let mut tasks = tokio::task::JoinSet::new();
    let names: Vec<String> = (0..n).map(|i| format!("{tag}{i:05}@groups.bench.example")).collect();
    for chunk in names.chunks(n.div_ceil(4)) {
        let (app, machine, chunk) = (app.clone(), machine.clone(), chunk.to_vec());
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for email in &chunk {
                let person = DirectoryUser { user_name: email.clone(), ..Default::default() };
                let mut tries = 0;
                loop {
                    match licensing::usecase::directory::create(&app, &machine, person.clone())
                        .await
                    {
                        Ok(u) => break ids.push(u.id),
                        Err(e) => {
                            tries += 1;
                            assert!(tries < 5, "{email}: {e}");
                        }
                    }
                }
            }
            ids
        });
    }
    let mut ids: Vec<String> = tasks.join_all().await.into_iter().flatten().collect();
    ids.sort();
    ids
}

fn members(ids: &[String]) -> Value {
    ids.iter().map(|id| json!({"value": id})).collect()
}

pub async fn run(app: &App, probe: &Probe, endpoint: &str, cold: bool) -> GroupsRun {
    eprintln!("groups: setting up {LICENCES} licences, {JOINING} people and a linked group");
    let created = licensing::api::tokens::handle(
        app,
        licensing_tests::request(
            "POST",
            "/tokens",
            Some(&admin(CUSTOMER)),
            Some(&json!({"name": "bench", "scopes": ["scim"]}).to_string()),
        ),
    )
    .await;
    let token = json_of(created).1["token"].as_str().expect("a SCIM token").to_string();
    let mut licences = Vec::new();
    for i in 0..LICENCES {
        let order = format!("ORD-G{i}-{}", ulid::Ulid::new());
        let buyer = format!("buyer@{CUSTOMER}.example.com");
        licences.push(provision(app, &order, CUSTOMER, &buyer, FREE + 1).await);
    }
    let group =
        scim(app, &token, "POST", "/scim/v2/Groups", Some(json!({"displayName": "Everyone"})))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
    for licence in &licences {
        let path = format!("/licenses/{licence}/groups/{group}");
        let req = licensing_tests::request("PUT", &path, Some(&admin(CUSTOMER)), Some("{}"));
        assert_eq!(json_of(licensing::api::change::handle(app, req).await).0, 200);
    }
    let mut joining = people(app, "join", JOINING).await;
    // The order given is not the ids' order: the rule follows the order given.
    joining.reverse();

    // The PATCH, then what it left for the minute's run.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": members(&joining)}]});
    let path = format!("/scim/v2/Groups/{group}");
    probe.take();
    let started = Instant::now();
    scim(app, &token, "PATCH", &path, Some(patch)).await;
    let patch_time = started.elapsed();
    let patch_calls = probe.take().calls.len();
    let started = Instant::now();
    let settled = licensing::usecase::rule::settle_waiting(app).await.expect("settled");
    assert_eq!(settled as usize, LICENCES, "every licence has people waiting");
    let rest = (started.elapsed(), probe.take().calls.len());
    let today = chrono::Utc::now().date_naive();
    let mut outcome = Vec::new();
    for licence in &licences {
        let l = app.store.license(CUSTOMER, licence).await.unwrap().unwrap();
        let waiting = app.store.waiting_entries(CUSTOMER, licence).await.unwrap();
        let shown = waiting.iter().filter(|e| e.shown_with(&l)).count();
        outcome.push((l.counts(today).assigned_seats, shown));
    }

    // Seats freed one at a time on the first licence: each revoke gives its seat to the first who waits.
    let samples = 50;
    let (mut freed, mut freed_calls) = (Vec::new(), Vec::new());
    for who in joining.iter().take(samples) {
        let email = who_address(app, who).await;
        let path = format!("/licenses/{}/assignments/{email}", licences[0]);
        let req = licensing_tests::request("DELETE", &path, Some(&admin(CUSTOMER)), None);
        probe.take();
        let started = Instant::now();
        assert_eq!(invoke(app, Call::Http("revoke", Box::new(req))).await, 200);
        freed.push(started.elapsed());
        freed_calls.push(probe.take().calls.len());
    }
    let l = app.store.license(CUSTOMER, &licences[0]).await.unwrap().unwrap();
    assert_eq!(
        l.waiting as usize,
        JOINING - FREE as usize - samples,
        "each revoke seated the first who waited"
    );

    // A group of 10,000, read with and without its members.
    eprintln!("groups: a group of {BIG} members");
    let mut everyone = joining.clone();
    everyone.extend(people(app, "big", BIG - JOINING).await);
    let big = scim(
        app,
        &token,
        "POST",
        "/scim/v2/Groups",
        Some(json!({"displayName": "All staff", "members": members(&everyone)})),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut reads = Vec::new();
    for with in [true, false] {
        let path = if with {
            format!("/scim/v2/Groups/{big}")
        } else {
            format!("/scim/v2/Groups/{big}?excludedAttributes=members")
        };
        let mut times = Vec::new();
        let (mut calls, mut bytes) = (0, 0);
        for _ in 0..20 {
            probe.take();
            let started = Instant::now();
            let answer = scim(app, &token, "GET", &path, None).await;
            times.push(started.elapsed());
            calls = probe.take().calls.len();
            bytes = answer.to_string().len();
            let listed = answer["members"].as_array().map_or(0, Vec::len);
            assert_eq!(listed, if with { BIG } else { 0 });
        }
        times.sort();
        // The token's 20 requests a second: the next second's, for the fresh process.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let peak_rss =
            if cold { spawn_read(app, endpoint, &token, &path) } else { Err("--no-cold".into()) };
        reads.push(GroupRead {
            members: with,
            median: times[times.len() / 2],
            calls,
            bytes,
            peak_rss,
        });
    }
    GroupsRun {
        patch: (patch_time, patch_calls),
        rest,
        minimum: minimum(),
        outcome,
        freed,
        freed_calls,
        reads,
    }
}

async fn who_address(app: &App, id: &str) -> String {
    let found = app.store.directory_users(CUSTOMER, &[id.to_string()]).await.unwrap();
    found[0].seat_address().expect("an address")
}

/// The fewest round trips the whole change needs. The request: the token
/// and its budget (2), the group with its pages (1 BatchGetItem), its 1,000
/// new members checked (10 BatchGetItem), the linked licences (1), the
/// commit (1). Each licence: its seats, waiting list and exclusions (3
/// Queries), its run's parts stored (1 BatchWriteItem: 21 parts), the items
/// of the 500 it seats (5 BatchGetItem), 21 transactions of 49 changes with
/// their entries, and the clear (1).
fn minimum() -> usize {
    let parts = (JOINING).div_ceil(licensing::usecase::pending::CHUNK);
    let seated = (FREE as usize).div_ceil(100);
    15 + LICENCES * (3 + 1 + seated + parts + 1)
}

/// `GET path` in a fresh release `scim` process: its peak RSS.
fn spawn_read(app: &App, endpoint: &str, token: &str, path: &str) -> Result<u64, String> {
    let binary = root().join("target/release/scim");
    if !binary.is_file() {
        return Err(format!("{} is not built", binary.display()));
    }
    let mut env = stub::lambda_env(endpoint, app.store.table());
    stub::name_function(&mut env, "scim");
    let file = root().join("events/scim-service-provider-config.json");
    let mut event: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let (raw, query) = path.split_once('?').unwrap_or((path, ""));
    event["rawPath"] = json!(raw);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["path"] = json!(raw);
    event["requestContext"]["http"]["method"] = json!("GET");
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let out = stub::spawn_once(&binary, &env, event.to_string().as_bytes())?;
    if out.response["statusCode"] != 200 {
        return Err(format!("answered {}", out.response["statusCode"]));
    }
    Ok(out.peak_rss)
}

fn percentile(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

impl GroupsRun {
    pub fn print(&self) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!();
        println!("Group rule (the functions' handlers on DynamoDB Local):");
        println!(
            "  {JOINING} members added to a group linked to {LICENCES} licences of {FREE} free seats: \
             the PATCH {:.0} ms, {} round trips; the rest of the runs (the minute's run) {:.0} ms, {} round trips; \
             {} in all (minimum {})",
            ms(self.patch.0),
            self.patch.1,
            ms(self.rest.0),
            self.rest.1,
            self.patch.1 + self.rest.1,
            self.minimum
        );
        for (i, (seats, waiting)) in self.outcome.iter().enumerate() {
            println!("    licence {}: {seats} seats in use, {waiting} waiting", i + 1);
        }
        let calls = {
            let mut c = self.freed_calls.clone();
            c.sort();
            c[c.len() / 2]
        };
        println!(
            "  a seat freed by an admin's revoke → the first who waits holds it (before the revoke answers), {} revokes: \
             p50 {:.0} ms, p99 {:.0} ms, {calls} round trips (median)",
            self.freed.len(),
            ms(percentile(&self.freed, 50.0)),
            ms(percentile(&self.freed, 99.0)),
        );
        for r in &self.reads {
            let what = if r.members { "with its members" } else { "excludedAttributes=members" };
            let rss = match &r.peak_rss {
                Ok(bytes) => format!(
                    "{:.1} MiB peak RSS in a fresh release process",
                    *bytes as f64 / (1024.0 * 1024.0)
                ),
                Err(e) => format!("memory not measured ({e})"),
            };
            println!(
                "  GET /Groups/{{id}} of {BIG} members, {what}: median {:.0} ms, {} round trips, {} bytes; {rss}",
                ms(r.median),
                r.calls,
                r.bytes
            );
        }
    }
}
