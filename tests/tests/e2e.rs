//! End to end through `cargo lambda watch`: the contract's routes from
//! Cargo.toml's router, the real function binaries, DynamoDB Local.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use licensing_tests::*;
use serde_json::{json, Value};

struct Watch {
    child: Child,
    relay: Child,
    base: String,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.relay.kill();
        let _ = self.relay.wait();
        // cargo-lambda stops the functions it runs when it gets SIGTERM.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &group])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .status();
        let _ = self.child.wait();
    }
}

fn start_watch(table: &str) -> Watch {
    let root = workspace_root();
    let port = free_port();
    let local = root.join(".venv/bin/cargo-lambda");
    let mut cmd = if local.is_file() {
        let mut c = Command::new(local);
        c.arg("lambda");
        c
    } else {
        let mut c = Command::new("cargo");
        c.arg("lambda");
        c
    };
    std::fs::create_dir_all(root.join(".local")).unwrap();
    let log = std::fs::File::create(root.join(format!(".local/e2e-watch-{port}.log"))).unwrap();
    let child = cmd
        .args([
            "watch",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
            "--ignore-changes",
        ])
        .current_dir(&root)
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint())
        .env("TABLE_NAME", table)
        .env("AUTH_MODE", "local-unverified")
        .env("AWS_ENDPOINT_URL_SESV2", ses_endpoint())
        .env("SES_FROM_ADDRESS", "licensing@example.com")
        .env("PORTAL_URL", "https://portal.example.com/sign-in")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("cargo lambda watch (run `make setup` to install cargo-lambda)");
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The local stand-in for the stream trigger: DynamoDB Local's stream → notify.
    let relay_log =
        std::fs::File::create(root.join(format!(".local/e2e-relay-{port}.log"))).unwrap();
    let relay = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("infra/local/stream_relay.py"))
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint())
        .env("TABLE_NAME", table)
        .env(
            "NOTIFY_INVOKE_URL",
            format!("http://127.0.0.1:{port}/2015-03-31/functions/notify/invocations"),
        )
        .stdin(Stdio::null())
        .stdout(relay_log.try_clone().unwrap())
        .stderr(relay_log)
        .spawn()
        .expect("the stream relay (run `make setup`)");
    Watch {
        child,
        relay,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// Plain curl: the portal's view of the API, with nothing of ours in between.
struct Http {
    base: String,
}

impl Http {
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, String, Value) {
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "--max-time",
            "300",
            "-X",
            method,
            "-w",
            "\n%{http_code}\n%{content_type}",
        ]);
        if let Some(t) = token {
            cmd.arg("-H").arg(format!("authorization: Bearer {t}"));
        }
        if let Some(b) = body {
            cmd.args(["-H", "content-type: application/json", "--data-binary"])
                .arg(b.to_string());
        }
        let out = cmd
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.rsplitn(3, '\n');
        let content_type = lines.next().unwrap_or("").to_string();
        let status = lines.next().unwrap_or("0").parse().unwrap_or(0);
        let body = lines.next().unwrap_or("");
        (
            status,
            content_type,
            serde_json::from_str(body).unwrap_or(Value::Null),
        )
    }
}

#[test]
fn the_seed_story_through_the_http_routes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(fresh_app());
    let watch = start_watch(app.store.table());
    let http = Http {
        base: watch.base.clone(),
    };
    let a = admin(CUSTOMER);

    // Provisioning through the Lambda invoke API, twice: one licence.
    let event = purchase(
        "ORD-E2E",
        CUSTOMER,
        "buyer@example.com",
        5,
        days_from_today(-10),
        days_from_today(300),
    );
    let (status, _, first) = http.send(
        "POST",
        "/2015-03-31/functions/provision/invocations",
        None,
        Some(event.clone()),
    );
    assert_eq!(status, 200, "{first}");
    let (_, _, second) = http.send(
        "POST",
        "/2015-03-31/functions/provision/invocations",
        None,
        Some(event),
    );
    assert_eq!(first, second);
    assert_eq!(first["buyerAssigned"], true);
    let id = first["licenseId"].as_str().unwrap().to_string();

    let (status, ct, list) = http.send("GET", "/licenses", Some(&a), None);
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(list["licenses"][0]["availableSeats"], 4);

    let (anna, bob, carl) = (unique("anna"), unique("bob"), unique("carl"));
    let paste = format!("{anna};\"Meier, Bob\" <{}>\r\n{carl}", bob.to_uppercase());
    let assigned_at = Instant::now();
    let path = format!("/licenses/{id}/assignments");
    let (status, _, assigned) = http.send("POST", &path, Some(&a), Some(json!({"emails": paste})));
    assert_eq!(status, 201, "{assigned}");
    assert_eq!(assigned["license"]["availableSeats"], 1);

    // The stream relay hands the new assignments to notify: one mail each.
    for to in [&anna, &bob, &carl] {
        while mails_to(to).is_empty() {
            assert!(
                assigned_at.elapsed() < Duration::from_secs(60),
                "no invitation for {to}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!(
        "three invitations arrived {:?} after the assign",
        assigned_at.elapsed()
    );
    std::thread::sleep(Duration::from_secs(1));
    for to in [&anna, &bob, &carl] {
        assert_eq!(mails_to(to).len(), 1, "exactly one mail for {to}");
    }
    let (_, _, listed) = http.send("GET", &path, Some(&a), None);
    let sent = listed["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["invitation"]["status"] == "sent")
        .count();
    assert_eq!(sent, 3, "{listed}");

    let encoded = anna.to_uppercase().replace('@', "%40");
    let until = days_from_today(30).to_string();
    let (status, _, changed) = http.send(
        "PATCH",
        &format!("{path}/{encoded}"),
        Some(&a),
        Some(json!({"validUntil": until})),
    );
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["validUntil"], until);

    let (status, _, revoked) = http.send("DELETE", &format!("{path}/{bob}"), Some(&a), None);
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));

    let (status, _, page) = http.send("GET", &format!("{path}?status=active"), Some(&a), None);
    assert_eq!(status, 200);
    assert_eq!(page["assignments"].as_array().unwrap().len(), 3);

    let (status, _, mine) = http.send("GET", "/me/licenses", Some(&user(&carl, CUSTOMER)), None);
    assert_eq!(status, 200);
    assert_eq!(mine["licenses"][0]["licenseId"], id.as_str());

    // A resend goes through the stream again: a second mail for Carl.
    let (status, _, resent) =
        http.send("POST", &format!("{path}/{carl}/invitation"), Some(&a), None);
    assert_eq!(
        (status, resent["invitation"]["status"].as_str()),
        (202, Some("pending"))
    );
    let resent_at = Instant::now();
    while mails_to(&carl).len() < 2 {
        assert!(
            resent_at.elapsed() < Duration::from_secs(60),
            "no second invitation"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Errors are problem+json on every path, including the router's fallbacks.
    for (method, path, token, status) in [
        ("GET", "/licenses".to_string(), None, 401),
        (
            "GET",
            format!("/licenses/{id}"),
            Some(admin(OTHER_CUSTOMER)),
            404,
        ),
        ("PUT", path.clone(), Some(a.clone()), 405),
        ("GET", format!("{path}/{carl}"), Some(a.clone()), 405),
        ("GET", "/no/such/route".to_string(), Some(a.clone()), 404),
    ] {
        let (got, ct, body) = http.send(method, &path, token.as_deref(), None);
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_eq!(ct, "application/problem+json", "{method} {path}");
    }
}
