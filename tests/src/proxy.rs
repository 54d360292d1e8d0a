//! A fault-injecting HTTP/1.1 proxy between an App's DynamoDB client and
//! DynamoDB Local, so tests can make DynamoDB drop, throttle, stall or vanish
//! in the middle of a request.
//!
//! Every request is read whole (headers and `Content-Length` body) and named
//! by its `X-Amz-Target` operation (`TransactWriteItems`, `BatchGetItem`...).
//! A [`Rule`] decides per request: requests of other operations pass; the first
//! `pass` requests of the rule's operation are forwarded; every later one gets
//! the rule's [`Fault`] until [`Proxy::reset`]. Each request goes upstream on a
//! connection of its own, so a fault never leaves DynamoDB Local half-talked-to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What happens to a request the rule catches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Wait, then forward (the client may have given up by then: the request
    /// still reaches DynamoDB, as a slow network would deliver it).
    Delay(Duration),
    /// Close the connection without forwarding: DynamoDB never sees it.
    Drop,
    /// Forward, then close the connection without answering: the write may
    /// well have happened, the client cannot know.
    DropAfterForward,
    /// Answer HTTP 400 `ThrottlingException` as DynamoDB does, without forwarding.
    Throttle,
    /// Close the connection and refuse every new one (connection refused)
    /// until [`Proxy::reset`].
    Unreachable,
}

/// Which requests get a fault: those of `operation` (all when `None`), after
/// the first `pass` of them went through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub operation: Option<String>,
    pub pass: usize,
    pub fault: Fault,
}

#[derive(Default)]
struct State {
    rule: Option<Rule>,
    /// Requests the rule matched so far (forwarded or faulted).
    matched: usize,
    seen: HashMap<String, usize>,
    faulted: HashMap<String, usize>,
    in_flight: usize,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    unreachable: Arc<watch::Sender<bool>>,
    upstream: String,
}

enum Action {
    Forward,
    Fault(Fault),
}

impl Shared {
    fn decide(&self, operation: &str) -> Action {
        let mut s = self.state.lock().unwrap();
        *s.seen.entry(operation.to_string()).or_default() += 1;
        s.in_flight += 1;
        if *self.unreachable.borrow() {
            *s.faulted.entry(operation.to_string()).or_default() += 1;
            return Action::Fault(Fault::Drop);
        }
        let Some(rule) = s.rule.clone() else {
            return Action::Forward;
        };
        if rule.operation.as_deref().is_some_and(|op| op != operation) {
            return Action::Forward;
        }
        s.matched += 1;
        if s.matched <= rule.pass {
            return Action::Forward;
        }
        *s.faulted.entry(operation.to_string()).or_default() += 1;
        Action::Fault(rule.fault)
    }

    fn done(&self) {
        self.state.lock().unwrap().in_flight -= 1;
    }
}

pub struct Proxy {
    /// The endpoint URL to hand the SDK client.
    pub url: String,
    shared: Shared,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Proxy {
    /// A proxy on a free local port in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = watch::channel(false);
        let shared = Shared {
            state: Arc::default(),
            unreachable: Arc::new(tx),
            upstream: upstream.trim_start_matches("http://").trim_end_matches('/').to_string(),
        };
        let accept = tokio::spawn(accept_loop(listener, port, rx, shared.clone()));
        Proxy { url: format!("http://127.0.0.1:{port}"), shared, accept }
    }

    /// Faults from now on, by `rule` (the match count starts afresh).
    pub fn set(&self, rule: Rule) {
        let mut s = self.shared.state.lock().unwrap();
        s.rule = Some(rule);
        s.matched = 0;
    }

    /// Forward the first `pass` requests of `operation`, then `fault` every later one.
    pub fn fail_after(&self, operation: &str, pass: usize, fault: Fault) {
        self.set(Rule { operation: Some(operation.into()), pass, fault });
    }

    /// `fault` for every request.
    pub fn fail_all(&self, fault: Fault) {
        self.set(Rule { operation: None, pass: 0, fault });
    }

    /// DynamoDB gone: open connections are closed at their next request, new
    /// ones are refused.
    pub fn unreachable(&self) {
        self.shared.unreachable.send_replace(true);
    }

    /// Everything forwarded again, at full speed.
    pub fn reset(&self) {
        self.shared.state.lock().unwrap().rule = None;
        self.shared.unreachable.send_replace(false);
    }

    /// Requests of `operation` that reached the proxy.
    pub fn seen(&self, operation: &str) -> usize {
        let s = self.shared.state.lock().unwrap();
        s.seen.get(operation).copied().unwrap_or(0)
    }

    /// Requests of `operation` that got a fault.
    pub fn faulted(&self, operation: &str) -> usize {
        let s = self.shared.state.lock().unwrap();
        s.faulted.get(operation).copied().unwrap_or(0)
    }

    pub fn clear_counts(&self) {
        let mut s = self.shared.state.lock().unwrap();
        s.seen.clear();
        s.faulted.clear();
    }

    /// Waits until no request is on its way (e.g. a delayed one that the client
    /// gave up on but that still reaches DynamoDB).
    pub async fn idle(&self) {
        while self.shared.state.lock().unwrap().in_flight > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    port: u16,
    mut unreachable: watch::Receiver<bool>,
    shared: Shared,
) {
    let mut listener = Some(listener);
    loop {
        if *unreachable.borrow_and_update() {
            // Refuse connections: nobody listens on the port any more.
            listener = None;
        } else if listener.is_none() {
            let mut tries = 0;
            listener = loop {
                match TcpListener::bind(("127.0.0.1", port)).await {
                    Ok(l) => break Some(l),
                    Err(e) if tries < 100 => {
                        tries += 1;
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(e) => panic!("proxy cannot listen on port {port} again: {e}"),
                }
            };
        }
        match &listener {
            Some(l) => tokio::select! {
                accepted = l.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(serve(stream, shared.clone()));
                    }
                }
                changed = unreachable.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            },
            None => {
                if unreachable.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

struct HttpRequest {
    head: Vec<String>,
    body: Vec<u8>,
    operation: String,
}

fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads one request from a keep-alive connection; `None` at its end.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<HttpRequest> {
    let mut chunk = [0u8; 16 * 1024];
    let end = loop {
        if let Some(end) = header_end(buf) {
            break end;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head: Vec<String> =
        String::from_utf8_lossy(&buf[..end]).split("\r\n").map(str::to_string).collect();
    let length: usize = header(&head, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < end + 4 + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[end + 4..end + 4 + length].to_vec();
    buf.drain(..end + 4 + length);
    let operation = header(&head, "x-amz-target")
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
        .unwrap_or_default();
    Some(HttpRequest { head, body, operation })
}

/// Sends `req` upstream on a fresh connection and returns the response,
/// re-framed with a `Content-Length` for the client's keep-alive connection.
async fn forward(upstream: &str, req: &HttpRequest) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await.ok()?;
    let mut out = String::new();
    out.push_str(&req.head[0]);
    out.push_str("\r\n");
    for line in &req.head[1..] {
        let name = line.split(':').next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req.body);
    up.write_all(&bytes).await.ok()?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await.ok()?;
    let end = header_end(&response)?;
    let head: Vec<String> =
        String::from_utf8_lossy(&response[..end]).split("\r\n").map(str::to_string).collect();
    let raw = &response[end + 4..];
    let body = if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(raw)?
    } else if let Some(length) = header(&head, "content-length").and_then(|v| v.parse().ok()) {
        raw.get(..length)?.to_vec()
    } else {
        raw.to_vec()
    };
    let mut out = String::new();
    out.push_str(&head[0]);
    out.push_str("\r\n");
    for line in &head[1..] {
        let name = line.split(':').next().unwrap_or("").trim();
        if !["connection", "content-length", "transfer-encoding", "keep-alive"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

fn throttled() -> Vec<u8> {
    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput (fault proxy)."}"#;
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: FAULTPROXY\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve(mut client: TcpStream, shared: Shared) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut client, &mut buf).await {
        let action = shared.decide(&req.operation);
        let keep_open = match action {
            Action::Forward => answer(&mut client, forward(&shared.upstream, &req).await).await,
            Action::Fault(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                answer(&mut client, forward(&shared.upstream, &req).await).await
            }
            Action::Fault(Fault::Drop) => false,
            Action::Fault(Fault::DropAfterForward) => {
                let _ = forward(&shared.upstream, &req).await;
                false
            }
            Action::Fault(Fault::Throttle) => answer(&mut client, Some(throttled())).await,
            Action::Fault(Fault::Unreachable) => {
                shared.unreachable.send_replace(true);
                false
            }
        };
        shared.done();
        if !keep_open {
            return;
        }
    }
}

/// Writes a response; `false` when the connection is to be closed.
async fn answer(client: &mut TcpStream, response: Option<Vec<u8>>) -> bool {
    match response {
        Some(bytes) => client.write_all(&bytes).await.is_ok(),
        None => false,
    }
}
