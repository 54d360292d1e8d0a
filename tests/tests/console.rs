//! The web console in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `console/tests/browser.mjs` (playwright-core), against the local stack as `make dev`
//! serves it (the functions behind the local gateway, which also serves the built console
//! under /console/). One test walks every flow on the demo data and then checks the result
//! through the API and the SES emulator; one checks the console at scale.

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use licensing::App;
use licensing::model::{Assignment, InvitationStatus, Language};
use licensing::store::Write;
use licensing_tests::local::start_watch;
use licensing_tests::*;

/// Builds the console once per test process (its types checked against the contract).
fn built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Command::new("npm")
            .args(["run", "--silent", "build"])
            .current_dir(workspace_root().join("console"))
            .output()
            .expect("npm (run `make setup`)");
        assert!(out.status.success(), "console build: {}", String::from_utf8_lossy(&out.stderr));
    });
}

/// Runs the browser suite in `mode` against `base`; its report.
fn browse(base: &str, mode: &str) -> String {
    let root = workspace_root();
    let run = Command::new("node")
        .arg(root.join("console/tests/browser.mjs"))
        .args([base, mode])
        .current_dir(root.join("console"))
        .output()
        .expect("node");
    let out = String::from_utf8_lossy(&run.stdout).to_string();
    eprintln!("{out}");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser suite ({mode}):\n{out}\n{err}");
    out
}

/// The demo purchases of events/demo/.
async fn demo(app: &App) {
    let mut files: Vec<_> = std::fs::read_dir(workspace_root().join("events/demo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in &files {
        let event = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        licensing::provision::handle_event(app, event).await.unwrap();
    }
}

#[test]
fn every_flow_in_headless_chromium() {
    built();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(fresh_app());
    // Anna holds a seat of the demo's TecDoc licence; a licence with more seats in use
    // than it has: 3 bought, 3 in use, then 1 seat.
    rt.block_on(async {
        demo(&app).await;
        let tecdoc = "lic_6CGKN22FHMWP935DWKR78NWDA8";
        let anna = Client::admin(&app, CUSTOMER).assign(tecdoc, "anna@example.com").await;
        assert_eq!(anna.status, 201, "{:?}", anna.body);
        let (order, id) =
            ordered(&app, CUSTOMER, 3, days_from_today(-10), days_from_today(100)).await;
        let a = Client::admin(&app, CUSTOMER);
        assert_eq!(a.assign(&id, "x@example.com, y@example.com").await.status, 201);
        deliver(&app, quantity_change(&order, "CHG-1", 1)).await.expect("applied");
    });
    // With the stream relay: the invitations reach the SES emulator.
    let watch = start_watch(app.store.table(), true);
    browse(&watch.base, "flows");

    // What the browser did, through the API and the mails.
    let a = Client::admin(&app, CUSTOMER);
    let tecdoc = rt.block_on(a.license("lic_6CGKN22FHMWP935DWKR78NWDA8")).body;
    assert_eq!(tecdoc["assignedUsers"], 4, "the buyer, Bob, Carl, Dora: {tecdoc}");
    assert_eq!(tecdoc["availableSeats"], 1, "Anna's revoked seat is free again: {tecdoc}");
    for email in ["bob@example.com", "carl@example.com", "dora@example.com"] {
        let deadline = Instant::now() + Duration::from_secs(30);
        while mails_to(email).is_empty() {
            assert!(Instant::now() < deadline, "no invitation mail to {email}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The other demo customer with 200 licences, one of them with 10,000 assignments: the
/// overview lists all 200, User Management pages the 10,000 (never renders them all).
#[test]
fn two_hundred_licences_and_ten_thousand_assignments() {
    built();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(fresh_app());
    rt.block_on(async {
        for i in 0..199 {
            ordered(&app, OTHER_CUSTOMER, 5, days_from_today(-1), days_from_today(300 + i)).await;
        }
        let (_, big) =
            ordered(&app, OTHER_CUSTOMER, 20_000, days_from_today(-1), days_from_today(365)).await;
        // Written as a fixture, in transactions of 99 items, with the licence's seats.
        let mut license = app.store.license(OTHER_CUSTOMER, &big).await.unwrap().unwrap();
        let period = license.default_period(today());
        let items: Vec<Write> = (0..10_000)
            .map(|i| {
                let email = format!("u{i:05}@scale.example.com");
                let by = "owner@other.example";
                let (at, en, none) = (chrono::Utc::now(), Language::En, InvitationStatus::None);
                Write::Assignment(Assignment::new(&license, &email, period, at, by, en, none))
            })
            .collect();
        for chunk in items.chunks(99) {
            app.store.transact(chunk).await.expect("a chunk of the fixture");
        }
        let expected_version = Some(license.version);
        license.seats.add(period, 10_000);
        license.version += 1;
        app.store.transact(&[Write::License { license, expected_version }]).await.unwrap();
    });
    let watch = start_watch(app.store.table(), false);
    browse(&watch.base, "scale");
}
