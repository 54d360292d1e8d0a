//! The web console in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `console/tests/browser.mjs` (playwright-core), against the local stack as `make dev`
//! serves it (the functions behind the local gateway, which also serves the built console
//! under /console/). One test walks every flow on the demo data (CSV export and import
//! included) and then checks the result through the API and the SES emulator; one checks the console at scale; one signs in as a
//! deployment does, through an OpenID Connect issuer (the local stub) with code + PKCE.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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

/// Runs the browser suite in `mode` (with its further arguments) against `base`; its report.
fn browse(base: &str, mode: &[&str]) -> String {
    let root = workspace_root();
    let run = Command::new("node")
        .arg(root.join("console/tests/browser.mjs"))
        .arg(base)
        .args(mode)
        // Where the Webhooks flow points its endpoint (a receiver that verifies signatures).
        .env("WEBHOOK_RECEIVER", webhook_receiver())
        .current_dir(root.join("console"))
        .output()
        .expect("node");
    let out = String::from_utf8_lossy(&run.stdout).to_string();
    eprintln!("{out}");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser suite ({mode:?}):\n{out}\n{err}");
    out
}

#[test]
fn every_flow_in_headless_chromium() {
    built();
    let (rt, app) = fresh_app_blocking();
    // Anna holds a seat of the demo's TecDoc licence; a licence with more seats in use
    // than it has: 3 bought, 3 in use, then 1 seat.
    rt.block_on(async {
        provision_demo(&app).await;
        let tecdoc = "lic_6CGKN22FHMWP935DWKR78NWDA8";
        let anna = Client::admin(&app, CUSTOMER).assign(tecdoc, "anna@example.com").await;
        assert_eq!(anna.status, 201, "{:?}", anna.body);
        let (order, id) =
            ordered(&app, CUSTOMER, 3, days_from_today(-10), days_from_today(100)).await;
        let a = Client::admin(&app, CUSTOMER);
        assert_eq!(a.assign(&id, "x@example.com, y@example.com").await.status, 201);
        deliver(&app, quantity_change(&order, "CHG-1", 1)).await.expect("applied");
        team_suite(&app).await;
    });
    // With the stream relay: the invitations reach the SES emulator.
    let watch = start_watch(app.store.table(), true);
    browse(&watch.base, &["flows"]);

    // The Groups flow: Sales linked to Team Suite and unlinked again; Ann's seat (revoked by
    // hand) went to Cat, who waited; the unlink revoked what the group gave.
    let team = rt.block_on(a_licence_named(&app, "Team Suite"));
    let a = Client::admin(&app, CUSTOMER);
    for (email, status) in [
        ("ann@team.example", "revoked"),
        ("ben@team.example", "revoked"),
        ("cat@team.example", "revoked"),
    ] {
        let seat = rt.block_on(a.assignment(&team, email)).unwrap_or_else(|| panic!("{email}"));
        assert_eq!(
            (seat["status"].as_str(), seat["assignedBy"].as_str().map(|b| b.starts_with("group:"))),
            (Some(status), Some(true)),
            "{seat}"
        );
    }
    let cat = rt.block_on(a.all_history(&team, "email=cat@team.example", 50));
    let actions: Vec<&str> = cat
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| !a.starts_with("invitation."))
        .collect();
    // The seat and the end of the wait are one run's entries, of one instant, in either order.
    let mut middle = actions.get(1..3).map(<[&str]>::to_vec).unwrap_or_default();
    middle.sort();
    assert_eq!(
        (actions.first(), middle, actions.get(3), actions.len()),
        (
            Some(&"waiting.added"),
            vec!["assignment.created", "waiting.removed"],
            Some(&"assignment.revoked"),
            4
        ),
        "{cat:?}"
    );

    // What the browser did, through the API and the mails.
    let a = Client::admin(&app, CUSTOMER);
    let id = "lic_6CGKN22FHMWP935DWKR78NWDA8";
    let tecdoc = rt.block_on(a.license(id)).body;
    assert_eq!(tecdoc["assignedUsers"], 6, "the buyer, Bob, Carl, Dora, Erin, Frank: {tecdoc}");
    assert_eq!(
        tecdoc["availableSeats"], 0,
        "Anna's revoked seat went to Erin until Dora's ends, then to Frank: {tecdoc}"
    );
    // The CSV import: each row with its own period (an empty cell: from today; an empty
    // validUntil: the term's end) and its own invitation language, created once.
    let imported = |email: &str| {
        let found = rt.block_on(a.assignment(id, email)).unwrap_or_else(|| panic!("{email}"));
        let field = |name: &str| found[name].as_str().unwrap().to_string();
        [field("validFrom"), field("validUntil"), field("status")]
    };
    assert_eq!(
        imported("erin@example.com"),
        [today().to_string(), "2027-06-30".into(), "active".into()]
    );
    assert_eq!(
        imported("frank@example.com"),
        ["2027-07-01", "2030-12-31", "scheduled"].map(String::from)
    );
    for email in ["erin@example.com", "frank@example.com"] {
        let entries = rt.block_on(a.all_history(id, &format!("email={email}"), 50));
        let created: Vec<_> =
            entries.iter().filter(|e| e["action"] == "assignment.created").collect();
        assert_eq!(created.len(), 1, "imported once, despite the retry: {entries:?}");
    }
    let subjects = [
        ("bob@example.com", "Your access to TecDoc Catalogue"),
        ("carl@example.com", "Your access to TecDoc Catalogue"),
        ("dora@example.com", "Your access to TecDoc Catalogue"),
        ("erin@example.com", "Your access to TecDoc Catalogue"),
        ("frank@example.com", "Ihr Zugang zu TecDoc Catalogue"),
    ];
    for (email, subject) in subjects {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !mails_to(email).iter().any(|m| m["subject"] == subject) {
            assert!(Instant::now() < deadline, "no invitation mail to {email}: {subject}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Team Suite: 3 seats (the buyer's and 2 free), and the directory's group Sales of Ann, Ben
/// and Cat, made over SCIM (in this order: their ids, and so the order they join a licence
/// the group is linked to, follow it).
async fn team_suite(app: &licensing::App) {
    use licensing_tests::scim::scim_with;
    use serde_json::json;
    let mut event = purchase(
        "ORD-TEAM-SUITE",
        CUSTOMER,
        "buyer@example.com",
        3,
        days_from_today(-10),
        days_from_today(300),
    );
    event["detail"]["productName"] = json!("Team Suite");
    provision_event(app, event).await;
    let created = Client::admin(app, CUSTOMER)
        .send("POST", "/tokens", Some(json!({"name": "Entra ID", "scopes": ["scim"]})))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let token = created.body["token"].as_str().unwrap().to_string();
    let mut members = Vec::new();
    for name in ["ann", "ben", "cat"] {
        let email = format!("{name}@team.example");
        let body = json!({"userName": email, "emails": [{"value": email, "primary": true}]});
        let person = scim_with(app, "POST", "/scim/v2/Users", Some(&token), Some(body)).await;
        assert_eq!(person.status, 201, "{:?}", person.body);
        members.push(json!({"value": person.body["id"]}));
        // Ids are ULIDs: a millisecond apart, they sort in the order made.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let body = json!({"displayName": "Sales", "members": members});
    let group = scim_with(app, "POST", "/scim/v2/Groups", Some(&token), Some(body)).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
}

/// The id of [`CUSTOMER`]'s licence of this product.
async fn a_licence_named(app: &licensing::App, product: &str) -> String {
    let all = Client::admin(app, CUSTOMER).send("GET", "/licenses?status=all", None).await;
    let found =
        all.body["licenses"].as_array().unwrap().iter().find(|l| l["productName"] == product);
    found.unwrap_or_else(|| panic!("{product}"))["licenseId"].as_str().unwrap().to_string()
}

/// The other demo customer with 200 licences, one of them with 10,000 assignments: the
/// overview lists all 200, User Management pages the 10,000 (never renders them all).
#[test]
fn two_hundred_licences_and_ten_thousand_assignments() {
    built();
    let (rt, app) = fresh_app_blocking();
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
    browse(&watch.base, &["scale"]);
}

/// A helper process of one test (the stub issuer, the console's own host), stopped with it.
struct Helper(Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python(script: &str, args: &[String]) -> Helper {
    let root = workspace_root();
    let child = Command::new(root.join(".venv/bin/python"))
        .arg(root.join(script))
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{script} (run `make setup`): {e}"));
    Helper(child)
}

fn wait_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A copy of the built console, removed with it.
struct Site(PathBuf);

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The deployed sign-in: the console on an origin of its own (as its static hosting would
/// serve it) with a config.json that names the issuer and the API; the issuer is
/// infra/local/oidc_stub.py (code + PKCE S256 only). The browser signs in through it, the
/// API accepts the ID token as the bearer, and the stub counts what it saw.
#[test]
fn deployed_sign_in_with_openid_connect_code_and_pkce() {
    built();
    let (rt, app) = fresh_app_blocking();
    rt.block_on(provision_demo(&app));
    let watch = start_watch(app.store.table(), false);

    let (site_port, issuer_port) = (free_port(), free_port());
    let home = format!("http://127.0.0.1:{site_port}/console/");
    let issuer = format!("http://127.0.0.1:{issuer_port}");
    let client_id = "portal-console";
    let _issuer = python(
        "infra/local/oidc_stub.py",
        &[issuer_port.to_string(), client_id.to_string(), home.clone()],
    );
    let dir = std::env::temp_dir().join(format!("console-oidc-{}-{site_port}", std::process::id()));
    let site = Site(dir);
    copy_dir(&workspace_root().join("console/dist"), &site.0);
    let config = serde_json::json!({
        "apiUrl": watch.base,
        "oidc": { "authority": issuer, "clientId": client_id, "scope": "openid email profile" },
    });
    std::fs::write(site.0.join("config.json"), config.to_string()).unwrap();
    // The local gateway serves the copy under /console/ (the API stays on watch.base).
    let _site_host = python(
        "infra/local/gateway.py",
        &[site_port.to_string(), watch.port.to_string(), site.0.display().to_string()],
    );
    wait_port(issuer_port, "the OpenID Connect stub");
    wait_port(site_port, "the console's host");

    browse(&format!("http://127.0.0.1:{site_port}"), &["oidc", &issuer, client_id]);

    // What the issuer saw: two refused authorizations without S256 PKCE, three codes
    // redeemed with a wrong verifier (two by the suite, one tampered in the browser), and
    // the console's two sign-ins whose verifiers matched.
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .arg(format!("{issuer}/stats"))
        .output()
        .expect("curl");
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["authorize_refused"], 2, "{stats}");
    assert_eq!(stats["pkce_failed"], 3, "{stats}");
    assert_eq!(stats["tokens_issued"], 2, "{stats}");
    assert_eq!(stats["signed_out"], 1, "{stats}");
}
