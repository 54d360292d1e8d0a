//! The local stack as a new user runs it: `cargo lambda watch`, the stream
//! relay, curl.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{aws_endpoint, dynamodb_endpoint, free_port, ses_endpoint, workspace_root};

/// The cargo-lambda the project installed (`make setup`), else the one on PATH.
pub fn cargo_lambda() -> Command {
    let local = workspace_root().join(".venv/bin/cargo-lambda");
    let mut c = if local.is_file() { Command::new(local) } else { Command::new("cargo") };
    c.arg("lambda");
    c
}

pub struct Watch {
    child: Child,
    gateway: Child,
    relay: Option<Child>,
    queue_relay: Option<Child>,
    /// The webhook queue of this stack (on the local AWS emulator).
    pub queue_url: String,
    /// The API as the portal sees it: the local gateway in front of the watch.
    pub base: String,
    pub port: u16,
    /// What the functions wrote (JSON logs, as in Lambda with `LogFormat: JSON`).
    pub log: std::path::PathBuf,
}

impl Watch {
    /// Starts every HTTP function with one request each (any answer will do). Under
    /// `cargo lambda watch` a function's first request starts it with `cargo run`, which can
    /// wait on cargo's locks for seconds while other tests start theirs; a test that holds
    /// requests to a time limit starts the functions first.
    pub fn start_http_functions(&self) {
        let http = Http { base: self.base.clone() };
        let some = "/licenses/lic_0/assignments/a@example.com";
        for (function, method, path) in [
            ("list", "GET", "/licenses".to_string()),
            ("assign", "POST", format!("{some}/invitation")),
            ("change", "PATCH", some.to_string()),
            ("revoke", "DELETE", some.to_string()),
            ("entitlements", "GET", "/me/entitlements/x".to_string()),
            ("tokens", "GET", "/tokens".to_string()),
            ("scim", "GET", "/scim/v2/Users".to_string()),
            ("webhooks", "GET", "/webhooks".to_string()),
        ] {
            let (status, _) = http.headers(method, &path, &[]);
            assert_ne!(status, 0, "{function} did not start ({method} {path})");
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for child in
            self.relay.iter_mut().chain(self.queue_relay.iter_mut()).chain([&mut self.gateway])
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        // cargo-lambda stops the functions it runs when it gets SIGTERM.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-s", "TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// `cargo lambda watch` on a free port over `table`, behind the local gateway
/// (infra/local/gateway.py, API Gateway's request limits) as `make dev` runs
/// it (also serving the built console under /console/), with the SES emulator,
/// and (if `relay`) the stream relay feeding `notify`.
pub fn start_watch(table: &str, relay: bool) -> Watch {
    start_watch_with(table, relay, &[])
}

/// [`start_watch`] with more environment for the functions (the bench raises the
/// per-customer assign budget this way).
pub fn start_watch_with(table: &str, relay: bool, env: &[(&str, &str)]) -> Watch {
    let root = workspace_root();
    let port = free_port();
    // Webhooks' queue, key and bus on the local AWS emulator, as `make dev` makes them.
    let setup = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("infra/local/aws_setup.py"))
        .args([format!("webhooks-{port}"), format!("licensing-{port}")])
        .env("AWS_ENDPOINT_URL_SQS", aws_endpoint())
        .output()
        .expect("infra/local/aws_setup.py (run `make setup`)");
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    let outbound: Vec<(String, String)> = String::from_utf8(setup.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let queue_url = outbound.iter().find(|(k, _)| k == "WEBHOOK_QUEUE_URL").unwrap().1.clone();
    let mut cmd = cargo_lambda();
    std::fs::create_dir_all(root.join(".local")).unwrap();
    let log_path = root.join(format!(".local/e2e-watch-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = cmd
        .args([
            "watch",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
            "--ignore-changes",
            // Local mode (AUTH_MODE=local-unverified) exists only with this feature.
            "--features",
            "licensing/local",
            // Several instances per function, as Lambda runs (deliver's batches side by side).
            "--concurrency",
            "4",
        ])
        .current_dir(&root)
        .envs(outbound.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_ENDPOINT_URL_SQS", aws_endpoint())
        .env("AWS_ENDPOINT_URL_KMS", aws_endpoint())
        .env("AWS_ENDPOINT_URL_EVENTBRIDGE", aws_endpoint())
        .env("WEBHOOK_RETRY_SCALE", "0.001")
        .envs(env.iter().copied())
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint())
        .env("TABLE_NAME", table)
        .env("AUTH_MODE", "local-unverified")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
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
        assert!(Instant::now() < deadline, "cargo lambda watch did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    let gateway_port = free_port();
    let gateway = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("infra/local/gateway.py"))
        .args([gateway_port.to_string(), port.to_string()])
        // The console, when built (tests/tests/console.rs builds it), under /console/.
        .arg(root.join("console/dist"))
        .stdin(Stdio::null())
        .spawn()
        .expect("the local gateway (run `make setup`)");
    while std::net::TcpStream::connect(("127.0.0.1", gateway_port)).is_err() {
        assert!(Instant::now() < deadline, "the local gateway did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The local stand-in for the stream trigger: DynamoDB Local's stream → notify.
    let relay_log =
        std::fs::File::create(root.join(format!(".local/e2e-relay-{port}.log"))).unwrap();
    let relay = relay.then(|| {
        Command::new(root.join(".venv/bin/python"))
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
            .expect("the stream relay (run `make setup`)")
    });
    // The local stand-in for the queue trigger: the webhook queue → deliver.
    let queue_log =
        std::fs::File::create(root.join(format!(".local/e2e-queue-relay-{port}.log"))).unwrap();
    let queue_relay = relay.is_some().then(|| {
        Command::new(root.join(".venv/bin/python"))
            .arg(root.join("infra/local/queue_relay.py"))
            .env("AWS_ENDPOINT_URL_SQS", aws_endpoint())
            .env("WEBHOOK_QUEUE_URL", &queue_url)
            .env(
                "DELIVER_INVOKE_URL",
                format!("http://127.0.0.1:{port}/2015-03-31/functions/deliver/invocations"),
            )
            .stdin(Stdio::null())
            .stdout(queue_log.try_clone().unwrap())
            .stderr(queue_log)
            .spawn()
            .expect("the queue relay (run `make setup`)")
    });
    Watch {
        child,
        gateway,
        relay,
        queue_relay,
        queue_url,
        base: format!("http://127.0.0.1:{gateway_port}"),
        port: gateway_port,
        log: log_path,
    }
}

/// Plain curl: the portal's view of the API, with nothing of ours in between.
pub struct Http {
    pub base: String,
}

impl Http {
    /// The status and the response headers (lower-cased names) of a request
    /// with these extra headers, e.g. a browser's CORS preflight.
    pub fn headers(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
    ) -> (u16, Vec<(String, String)>) {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "60", "-o", "/dev/null", "-D", "-", "-X", method]);
        for h in headers {
            cmd.arg("-H").arg(h);
        }
        let out = cmd.arg(format!("{}{path}", self.base)).output().expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (status, headers)
    }

    pub fn send(
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
            cmd.args(["-H", "content-type: application/json", "--data-binary"]).arg(b.to_string());
        }
        let out = cmd.arg(format!("{}{path}", self.base)).output().expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.rsplitn(3, '\n');
        let content_type = lines.next().unwrap_or("").to_string();
        let status = lines.next().unwrap_or("0").parse().unwrap_or(0);
        let body = lines.next().unwrap_or("");
        (status, content_type, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}
