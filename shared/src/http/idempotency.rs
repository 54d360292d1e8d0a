//! `Idempotency-Key`: a write runs at most once per key and body within 24
//! hours; a retry gets the first response back, byte for byte. Written once,
//! as a wrapper around any write's response.

use lambda_http::{Body, Request, RequestExt, Response};

use super::respond;
use crate::App;
use crate::error::{Error, Result};
use crate::store::{Claim, STALE_CLAIM_SECONDS};

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
const MAX_KEY: usize = 255;

/// A request's key, with what makes two requests "the same" and when its
/// invocation must have ended.
pub struct Idempotency {
    key: String,
    fingerprint: String,
    deadline_ms: Option<u64>,
}

impl Idempotency {
    /// The request's key, if it sent one (1 to 255 visible ASCII characters).
    pub fn of(req: &Request) -> Result<Option<Self>> {
        let Some(value) = req.headers().get(IDEMPOTENCY_HEADER) else {
            return Ok(None);
        };
        match value.to_str() {
            Ok(k)
                if !k.is_empty()
                    && k.len() <= MAX_KEY
                    && k.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(Some(Self {
                    key: k.to_string(),
                    fingerprint: fingerprint(req),
                    deadline_ms: req.lambda_context_ref().map(|c| c.deadline),
                }))
            }
            _ => Err(Error::field(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY} visible ASCII characters"),
            )),
        }
    }

    /// Runs `write` at most once per key (scoped to the customer) and body;
    /// a retry gets the first response. Answers worth retrying (5xx, and 429:
    /// a limit that passes) give the key back; every other answer is the
    /// request's for good.
    pub async fn run(
        self,
        app: &App,
        customer_id: &str,
        write: impl Future<Output = Result<Response<Body>>>,
    ) -> Result<Response<Body>> {
        let now = app.now().timestamp();
        // The claim outlives this invocation by a second at most (a deadline
        // that has passed already is no deadline: a context built without one).
        let latest = now + STALE_CLAIM_SECONDS;
        let stale_at = self
            .deadline_ms
            .map(|ms| ms.div_ceil(1000) as i64 + 1)
            .filter(|&at| at > now)
            .map_or(latest, |at| at.min(latest));
        let (key, fingerprint) = (&self.key, &self.fingerprint);
        match app.store.claim_idempotency(customer_id, key, fingerprint, now, stale_at).await? {
            Claim::Mismatch => Err(Error::IdempotencyConflict),
            Claim::InProgress { retry_after } => Err(Error::IdempotencyInProgress { retry_after }),
            Claim::Replay { status, body } => Ok(replay(status, body)),
            Claim::Started => {
                let response = respond(write.await);
                let status = response.status().as_u16();
                let stored = match response.body() {
                    Body::Text(text) if status < 500 && status != 429 => {
                        app.store
                            .complete_idempotency(customer_id, key, fingerprint, now, status, text)
                            .await
                    }
                    _ => app.store.release_idempotency(customer_id, key).await,
                };
                if let Err(e) = stored {
                    tracing::warn!(error = %e, "could not record the idempotency key");
                }
                Ok(response)
            }
        }
    }
}

fn replay(status: u16, body: String) -> Response<Body> {
    let content_type = if status >= 400 { "application/problem+json" } else { "application/json" };
    let mut response = Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("idempotent-replayed", "true")
        .body(Body::Text(body))
        .expect("valid status and headers");
    response.extensions_mut().insert(super::Outcome("replayed"));
    response
}

/// What makes two requests "the same": method, path, query (in any order),
/// `Content-Type` and the exact body. (`serve` has refused a query with a
/// repeated parameter before this runs.)
pub fn fingerprint(req: &Request) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b" ");
    hash.update(req.uri().path());
    for (name, value) in super::decode::query(req).unwrap_or_default() {
        hash.update(format!("\n{}:{name}={}:{value}", name.len(), value.len()));
    }
    hash.update(b"\ncontent-type: ");
    let content_type = req.headers().get("content-type").map(|v| v.as_bytes()).unwrap_or(b"");
    hash.update(content_type.to_ascii_lowercase());
    hash.update(b"\n");
    hash.update(req.body().as_ref());
    hex::encode(hash.finalize())
}
