//! A minimal Lambda Runtime API: spawn a function's binary against it, hand
//! it one event, and take the response it POSTs back (with the time from
//! spawn to response). The bench times cold starts with it; the tests run the
//! release binaries with it (tests/tests/release.rs).
//! Peak RSS is the child's `VmHWM` (the high-water mark of its own address
//! space), read after it answered and before it is stopped. (`ru_maxrss`
//! from `wait4` would not do: Linux carries the RSS of the pre-`exec` image
//! into it, and Rust spawns with `vfork`, which shares the bench's memory.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Spawned {
    /// Spawn → the function POSTed its first response.
    pub elapsed: Duration,
    /// Peak resident set of the process, bytes.
    pub peak_rss: u64,
    /// The response the function POSTed.
    pub response: Value,
    /// What the function wrote to stdout (its log lines).
    pub stdout: String,
}

enum Outcome {
    Response(Instant, Vec<u8>),
    Error(String),
}

const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

struct HttpRequest {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<HttpRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(HttpRequest { method, path, body })
}

fn serve_connection(
    stream: TcpStream,
    event: &[u8],
    handed_out: &std::sync::atomic::AtomicBool,
    tx: mpsc::Sender<Outcome>,
) {
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let now = Instant::now();
        if req.method == "GET" && req.path.ends_with("/runtime/invocation/next") {
            if handed_out.swap(true, std::sync::atomic::Ordering::SeqCst) {
                // One invocation per process: leave the next poll hanging
                // until the process is stopped.
                continue;
            }
            let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: {REQUEST_ID}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:eu-central-1:123456789012:function:bench\r\n\
                 lambda-runtime-trace-id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n\
                 content-length: {}\r\n\r\n",
                event.len()
            );
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.write_all(event);
        } else if req.method == "POST" && req.path.ends_with("/response") {
            let _ = tx.send(Outcome::Response(now, req.body));
            let _ = writer.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{\"status\":\"OK\"}\n");
        } else if req.method == "POST" {
            let _ = tx.send(Outcome::Error(format!(
                "{} {}",
                req.path,
                String::from_utf8_lossy(&req.body)
            )));
            let _ = writer.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n");
        } else {
            let _ = writer.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        }
    }
}

/// The environment Lambda gives a function (128 MB, JSON logs, dummy
/// credentials), over DynamoDB at `endpoint` and `table`.
pub fn lambda_env(endpoint: &str, table: &str) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("AWS_REGION", "eu-central-1"),
        ("AWS_DEFAULT_REGION", "eu-central-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_SESSION_TOKEN", "local"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/29/[$LATEST]0123456789abcdef"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("_HANDLER", "bootstrap"),
        ("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:9"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert("AWS_ENDPOINT_URL_DYNAMODB".into(), endpoint.into());
    env.insert("TABLE_NAME".into(), table.into());
    env
}

/// Names the function in a [`lambda_env`].
pub fn name_function(env: &mut HashMap<String, String>, function: &str) {
    env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), function.into());
    env.insert("AWS_LAMBDA_LOG_GROUP_NAME".into(), format!("/aws/lambda/{function}"));
}

/// Starts the binary once, hands it `event`, and stops it after it answered.
pub fn spawn_once(
    binary: &Path,
    env: &HashMap<String, String>,
    event: &[u8],
) -> Result<Spawned, String> {
    let mut command = Command::new(binary);
    command.env_clear().envs(env);
    spawn_command(command, event)
}

/// [`spawn_once`] for a command of the caller's (e.g. a binary of another
/// architecture under an emulator); its environment is left as given.
pub fn spawn_command(mut command: Command, event: &[u8]) -> Result<Spawned, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let event: &'static [u8] = Box::leak(event.to_vec().into_boxed_slice());
    let handed_out: &'static std::sync::atomic::AtomicBool =
        Box::leak(Box::new(std::sync::atomic::AtomicBool::new(false)));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let tx = tx.clone();
            std::thread::spawn(move || serve_connection(stream, event, handed_out, tx));
        }
    });
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("{program}: {e}"))?;
    let outcome = rx.recv_timeout(Duration::from_secs(15));
    // Its peak RSS, then stop it.
    let peak_rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    match outcome {
        Ok(Outcome::Response(at, body)) => Ok(Spawned {
            elapsed: at - started,
            peak_rss,
            response: serde_json::from_slice(&body).unwrap_or(Value::Null),
            stdout,
        }),
        Ok(Outcome::Error(e)) => Err(format!("the function reported an error: {e}")),
        Err(_) => Err(format!("no response within 15 s; stdout: {stdout}")),
    }
}
