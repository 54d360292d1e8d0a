//! One delivery attempt (API.md v3, Webhooks), as the queue brings it: claim
//! the delivery's turn and a slot of the endpoint (at most 10 at once),
//! sign with every secret that signs now, post to the checked address,
//! queue the next attempt on the contract's schedule, record the result.
//! A job that is not due yet goes back to the queue for its wait (hops of
//! at most 15 minutes); a copy of a job that already ran is dropped.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, Utc};
use futures_util::StreamExt;

use crate::error::Result;
use crate::model::{ATTEMPTS, Webhook, disables, next_attempt, signature};
use crate::outbound::{Job, Outbound, Resolve, Sender, SystemResolver};
use crate::store::{Store, Turn};

/// How long a claimed attempt holds its turn and slot: the answer's 10 s
/// and the writes around it, with room to spare. A crash frees both then.
const LEASE_SECONDS: i64 = 60;
/// How long a job waits for a free slot of its endpoint.
const NO_SLOT_WAIT_MS: i64 = 1_000;

/// What the delivery function holds: the table, the queue and key, the
/// sender, and the scale of the retry waits.
pub struct Courier {
    pub store: Store,
    pub outbound: Outbound,
    pub sender: Sender,
    /// 1 in the deployed functions; `WEBHOOK_RETRY_SCALE` in builds with
    /// local mode, so that a local run sees retries within seconds.
    pub scale: f64,
}

/// What became of one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// The attempt ran (whatever the endpoint answered).
    Attempted,
    /// Not due yet: queued again for its wait.
    Waiting,
    /// Its endpoint had no free slot: queued again a second later.
    Queued,
    /// Dropped: a copy already ran, or the endpoint is gone or disabled.
    Dropped,
}

impl Courier {
    pub fn from_env() -> Self {
        Self::with_resolver(Box::new(SystemResolver))
    }

    /// The same, with another resolver (tests answer names themselves).
    pub fn with_resolver(resolver: Box<dyn Resolve>) -> Self {
        let app = crate::App::from_env();
        Self {
            store: app.store,
            outbound: Outbound::from_env(),
            sender: Sender::new(resolver),
            scale: retry_scale(),
        }
    }

    /// Runs a batch of jobs (up to 10 at once). Each job's outcome, or the
    /// error that should bring it back (a failure of DynamoDB, SQS or KMS).
    pub async fn run(&self, jobs: &[Job]) -> Vec<Result<Done>> {
        let ids: BTreeSet<(String, String)> =
            jobs.iter().map(|j| (j.customer_id.clone(), j.webhook_id.clone())).collect();
        let ids: Vec<(String, String)> = ids.into_iter().collect();
        let endpoints: HashMap<String, Webhook> = match self.store.webhooks_by_id(&ids).await {
            Ok(found) => found.into_iter().map(|w| (w.webhook_id.clone(), w)).collect(),
            Err(e) => {
                return jobs
                    .iter()
                    .map(|_| Err(crate::Error::Unavailable(e.to_string())))
                    .collect();
            }
        };
        futures_util::stream::iter(jobs)
            .map(|job| self.attempt(job, endpoints.get(&job.webhook_id)))
            .buffered(10)
            .collect()
            .await
    }

    async fn attempt(&self, job: &Job, endpoint: Option<&Webhook>) -> Result<Done> {
        let now = Utc::now();
        if job.delay(now) > 0 {
            self.outbound.enqueue(std::slice::from_ref(job), now).await?;
            return Ok(Done::Waiting);
        }
        let Some(w) = endpoint.filter(|w| w.enabled) else {
            tracing::info!(webhook_id = %job.webhook_id, event_id = %job.event_id, "endpoint gone or disabled; delivery dropped");
            if endpoint.is_some() {
                // Disabled: the log says the delivery ended (a retry from it sends it again).
                self.store.abandon_delivery(job).await?;
            }
            return Ok(Done::Dropped);
        };
        let lease_until = now + Duration::seconds(LEASE_SECONDS);
        match self.store.claim_attempt(job, now, lease_until).await? {
            Turn::Claimed => {}
            Turn::Taken => return Ok(Done::Dropped),
            Turn::NoSlot => {
                let later =
                    Job { due: Some(now + Duration::milliseconds(NO_SLOT_WAIT_MS)), ..job.clone() };
                self.outbound.enqueue(&[later], now).await?;
                return Ok(Done::Queued);
            }
        }
        let signing: Vec<_> = w.signing(now).collect();
        let keys = self.outbound.open(&w.webhook_id, &signing).await?;
        let timestamp = Utc::now().timestamp();
        let headers = [
            ("webhook-id", job.event_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature(&keys, &job.event_id, timestamp, &job.body)),
        ];
        let outcome = self.sender.post(&w.url, &headers, job.body.clone()).await;
        let at = Utc::now();
        let disable = disables(outcome, w.failing_since.unwrap_or(at), at);
        let next = (!outcome.succeeded() && disable.is_none() && job.attempt < ATTEMPTS)
            .then(|| next_attempt(job.attempt, at, self.scale))
            .flatten();
        tracing::info!(
            webhook_id = %job.webhook_id, event_id = %job.event_id, attempt = job.attempt,
            result = %outcome.result(), retry = next.is_some(), "delivery attempt"
        );
        // The next attempt is queued before this one is recorded: it can
        // only run once this record is in (it claims after it), and a
        // crash in between brings this job back to be made again.
        if let Some(due) = next {
            let retry = Job { attempt: job.attempt + 1, due: Some(due), ..job.clone() };
            self.outbound.enqueue(&[retry], at).await?;
        }
        let disabled =
            self.store.record_attempt(job, lease_until, at, outcome, next, disable).await?;
        if disabled {
            tracing::warn!(webhook_id = %job.webhook_id, reason = disable.unwrap_or_default(), "endpoint disabled");
        }
        Ok(Done::Attempted)
    }
}

/// `WEBHOOK_RETRY_SCALE` (a factor, e.g. 0.01) in builds with local mode;
/// always 1 in release builds.
fn retry_scale() -> f64 {
    if cfg!(feature = "local") {
        crate::app::env("WEBHOOK_RETRY_SCALE")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 1.0)
            .unwrap_or(1.0)
    } else {
        1.0
    }
}
