//! The web console in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `console/tests/browser.mjs` (playwright-core), against the local stack as `make dev`
//! serves it (the functions behind the local gateway, which also serves the built console
//! under /console/), with the demo data of events/demo/.

use std::process::Command;

use licensing_tests::local::start_watch;
use licensing_tests::*;

#[test]
fn the_console_in_headless_chromium() {
    let root = workspace_root();
    // The console's build checks its types against infra/openapi.yaml first.
    let built = Command::new("npm")
        .args(["run", "--silent", "build"])
        .current_dir(root.join("console"))
        .output()
        .expect("npm (run `make setup`)");
    assert!(built.status.success(), "console build: {}", String::from_utf8_lossy(&built.stderr));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(fresh_app());
    let mut demo: Vec<_> = std::fs::read_dir(root.join("events/demo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    demo.sort();
    for file in &demo {
        let event = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        rt.block_on(licensing::provision::handle_event(&app, event)).unwrap();
    }
    // Anna holds a seat of the demo's TecDoc licence; a licence with more seats in
    // use than it has: 3 bought, 3 in use, then 1 seat.
    rt.block_on(async {
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
    let run = Command::new("node")
        .arg(root.join("console/tests/browser.mjs"))
        .arg(&watch.base)
        .current_dir(root.join("console"))
        .output()
        .expect("node");
    let out = String::from_utf8_lossy(&run.stdout);
    eprintln!("{out}");
    assert!(
        run.status.success(),
        "browser suite:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // What the browser did, through the API and the mails.
    let a = Client::admin(&app, CUSTOMER);
    let tecdoc = rt.block_on(a.license("lic_6CGKN22FHMWP935DWKR78NWDA8")).body;
    assert_eq!(tecdoc["assignedUsers"], 4, "the buyer, Bob, Carl, Dora: {tecdoc}");
    assert_eq!(tecdoc["availableSeats"], 1, "Anna's revoked seat is free again: {tecdoc}");
    for email in ["bob@example.com", "carl@example.com", "dora@example.com"] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while mails_to(email).is_empty() {
            assert!(std::time::Instant::now() < deadline, "no invitation mail to {email}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}
