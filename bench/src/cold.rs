//! Cold starts: spawn a function's release binary against a minimal Lambda
//! Runtime API served here, and time spawn → first response POSTed back.
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

/// Starts the binary once, hands it `event`, and stops it after it answered.
pub fn spawn_once(
    binary: &Path,
    env: &HashMap<String, String>,
    event: &[u8],
) -> Result<Spawned, String> {
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
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
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
