//! Webhooks' way out, beside the store: the delivery queue (SQS), the
//! secrets' envelope (KMS), the account's event bus (EventBridge), and the
//! HTTP client that posts to a customer's endpoint only at an address it
//! checked (SSRF). The use cases (`outbox`, `deliver`, `webhooks`) decide;
//! this module only talks to the services.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::env;
use crate::error::{Error, Result};
use crate::model::{ANSWER_SECONDS, Event, Outcome, SealedSecret, check_url, is_blocked};

/// The longest delay SQS gives one message; longer waits hop.
pub const MAX_QUEUE_DELAY: i64 = 900;
/// Entries in one SendMessageBatch or PutEvents call.
const BATCH: usize = 10;

/// One attempt to make: what the queue carries (its body, as JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub customer_id: String,
    pub webhook_id: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The event's body, the same on every attempt.
    pub body: String,
    /// The attempt this job makes (1-based).
    pub attempt: u32,
    /// Not before this time (a retry's wait; hops of at most 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
}

impl Job {
    /// The first attempt of `event` at the endpoint `webhook_id`.
    pub fn first(customer_id: &str, webhook_id: &str, event: &Event) -> Self {
        Self {
            customer_id: customer_id.to_string(),
            webhook_id: webhook_id.to_string(),
            event_id: event.id.clone(),
            kind: event.kind.clone(),
            body: event.body(),
            attempt: 1,
            due: None,
        }
    }

    /// Seconds to wait from `now` before this job may run (0: now), at most
    /// [`MAX_QUEUE_DELAY`].
    pub fn delay(&self, now: DateTime<Utc>) -> i64 {
        let wait = self.due.map_or(0, |due| (due - now).num_milliseconds());
        ((wait + 999) / 1000).clamp(0, MAX_QUEUE_DELAY)
    }
}

/// The AWS side of webhooks: the queue, the key, the bus.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub kms: aws_sdk_kms::Client,
    pub key_id: String,
    pub events: aws_sdk_eventbridge::Client,
    pub bus: String,
    opened: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Outbound {
    /// The services as given (tests make a queue of their own).
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        queue_url: String,
        kms: aws_sdk_kms::Client,
        key_id: String,
        events: aws_sdk_eventbridge::Client,
        bus: String,
    ) -> Self {
        Self { sqs, queue_url, kms, key_id, events, bus, opened: Arc::default() }
    }

    /// `WEBHOOK_QUEUE_URL`, `WEBHOOK_KEY_ID` (the stack's KMS key),
    /// `EVENT_BUS_NAME`, and each service's standard endpoint variable.
    pub fn from_env() -> Self {
        let endpoint = |name: &str| env(name).or_else(|| env("AWS_ENDPOINT_URL"));
        Self {
            sqs: crate::app::sqs_client(endpoint("AWS_ENDPOINT_URL_SQS")),
            queue_url: env("WEBHOOK_QUEUE_URL").unwrap_or_default(),
            kms: crate::app::kms_client(endpoint("AWS_ENDPOINT_URL_KMS")),
            key_id: env("WEBHOOK_KEY_ID").unwrap_or_default(),
            events: crate::app::eventbridge_client(endpoint("AWS_ENDPOINT_URL_EVENTBRIDGE")),
            bus: env("EVENT_BUS_NAME").unwrap_or_default(),
            opened: Arc::default(),
        }
    }

    /// Queues each job after its delay, ten to a call, the calls side by
    /// side. `Err` when any was not accepted (the caller retries them all:
    /// a job queued twice makes its attempt once, see `deliver`).
    pub async fn enqueue(&self, jobs: &[Job], now: DateTime<Utc>) -> Result<()> {
        let calls = jobs.chunks(BATCH).map(|chunk| async move {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, job)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(serde_json::to_string(job).expect("a job serialises"))
                        .delay_seconds(job.delay(now) as i32)
                        .build()
                        .map_err(Error::unavailable)
                })
                .collect::<Result<Vec<_>>>()?;
            let out = self
                .sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| Error::Unavailable(format!("SQS: {e:?}")))?;
            match out.failed.first() {
                Some(f) => Err(Error::Unavailable(format!("SQS refused a job: {}", f.code))),
                None => Ok(()),
            }
        });
        futures_util::future::try_join_all(calls).await.map(drop)
    }

    /// Puts each event on the account's bus (`source: licensing.seats`,
    /// `detail-type` = its type), ten to a call. Without a bus configured
    /// (a test without one), nothing.
    pub async fn publish(&self, events: &[Event]) -> Result<()> {
        if self.bus.is_empty() {
            return Ok(());
        }
        let calls = events.chunks(BATCH).map(|chunk| async move {
            let entries = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source("licensing.seats")
                        .detail_type(&e.kind)
                        .detail(e.body())
                        .build()
                })
                .collect();
            let out = self
                .events
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| Error::Unavailable(format!("EventBridge: {e:?}")))?;
            match out.failed_entry_count {
                0 => Ok(()),
                n => Err(Error::Unavailable(format!("EventBridge refused {n} events"))),
            }
        });
        futures_util::future::try_join_all(calls).await.map(drop)
    }

    /// Seals a secret's bytes with the stack's key, bound to its endpoint.
    pub async fn seal(&self, webhook_id: &str, secret: &[u8]) -> Result<String> {
        let out = self
            .kms
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(secret))
            .encryption_context("webhookId", webhook_id)
            .send()
            .await
            .map_err(|e| Error::Unavailable(format!("KMS encrypt: {e:?}")))?;
        let sealed = out.ciphertext_blob.ok_or_else(|| Error::unavailable("KMS: no ciphertext"))?;
        Ok(BASE64.encode(sealed.as_ref()))
    }

    /// The bytes of each sealed secret, from memory once opened (a sealed
    /// text names one secret for good).
    pub async fn open(&self, webhook_id: &str, secrets: &[&SealedSecret]) -> Result<Vec<Vec<u8>>> {
        let mut keys = Vec::with_capacity(secrets.len());
        for secret in secrets {
            let known = self.opened.lock().expect("not poisoned").get(&secret.sealed).cloned();
            let key = match known {
                Some(key) => key,
                None => {
                    let sealed = BASE64.decode(&secret.sealed).map_err(Error::unavailable)?;
                    let out = self
                        .kms
                        .decrypt()
                        .ciphertext_blob(Blob::new(sealed))
                        .encryption_context("webhookId", webhook_id)
                        .send()
                        .await
                        .map_err(|e| Error::Unavailable(format!("KMS decrypt: {e:?}")))?;
                    let plain =
                        out.plaintext.ok_or_else(|| Error::unavailable("KMS: no plaintext"))?;
                    let key = plain.into_inner();
                    self.opened
                        .lock()
                        .expect("not poisoned")
                        .insert(secret.sealed.clone(), key.clone());
                    key
                }
            };
            keys.push(key);
        }
        Ok(keys)
    }
}

/// Names to addresses. The system's resolver in the functions; tests give
/// answers of their own (a name that rebinds to 169.254.169.254).
pub trait Resolve: Send + Sync {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::BoxFuture<'a, std::io::Result<Vec<SocketAddr>>>;
}

/// The system's resolver (getaddrinfo, on a blocking thread).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// Posts an event to an endpoint: resolves its name, refuses every address
/// outside the public Internet, and connects to the checked address with
/// the name as SNI and `Host` (no second lookup that DNS could rebind).
pub struct Sender {
    resolver: Box<dyn Resolve>,
    tls: rustls::ClientConfig,
    /// Builds with local mode: `http://127.0.0.1:<port>` is taken as is.
    local: bool,
}

impl Sender {
    /// The system's resolver, the public CA roots (webpki-roots), and
    /// rustls on aws-lc (the provider the AWS clients use).
    pub fn new(resolver: Box<dyn Resolve>) -> Self {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("rustls supports its default versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self { resolver, tls, local: cfg!(feature = "local") }
    }

    /// One attempt: `POST url` with `headers` and `body`.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: String) -> Outcome {
        let Ok(parsed) = check_url(url, self.local) else { return Outcome::BlockedAddress };
        let Some(host) = parsed.host_str().map(str::to_string) else {
            return Outcome::BlockedAddress;
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        let mut client = reqwest::Client::builder()
            .use_preconfigured_tls(self.tls.clone())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(ANSWER_SECONDS));
        let loopback_literal = self.local && host == "127.0.0.1";
        if !loopback_literal {
            let addrs = match self.resolver.resolve(&host, port).await {
                Ok(addrs) if !addrs.is_empty() => addrs,
                _ => return Outcome::Connection,
            };
            if addrs.iter().any(|a| is_blocked(canonical(a.ip()))) {
                return Outcome::BlockedAddress;
            }
            client = client.resolve_to_addrs(&host, &addrs[..1]);
        }
        let Ok(client) = client.build() else { return Outcome::Connection };
        let mut request = client
            .post(parsed)
            .header("content-type", "application/json")
            .header("user-agent", "licensing-webhooks/1");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.body(body).send().await {
            Ok(answer) => Outcome::Status(answer.status().as_u16()),
            Err(e) if e.is_timeout() => Outcome::Timeout,
            Err(_) => Outcome::Connection,
        }
    }
}

/// An address as the checks judge it: an IPv4-mapped IPv6 address as its IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
