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
use crate::store::{Lease, Store, Turn};

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
    /// Each due job of an enabled endpoint gets a slot the endpoint's
    /// record shows free, no two the same; the jobs that are not due, or
    /// find no slot, go back to the queue together in one call.
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
        let now = Utc::now();
        let mut free: HashMap<&str, Vec<String>> = endpoints
            .iter()
            .map(|(id, w)| (id.as_str(), w.free_slots(now).collect::<Vec<_>>()))
            .collect();
        let plans: Vec<Plan> = jobs
            .iter()
            .map(|job| {
                let endpoint = endpoints.get(&job.webhook_id).filter(|w| w.enabled);
                if job.delay(now) > 0 {
                    Plan::Wait(job.clone())
                } else if let Some(w) = endpoint {
                    match free.get_mut(w.webhook_id.as_str()).and_then(|slots| slots.pop()) {
                        Some(slot) => Plan::Attempt(w, slot),
                        None => Plan::Wait(later(job, now)),
                    }
                } else {
                    Plan::Drop(endpoints.contains_key(&job.webhook_id))
                }
            })
            .collect();
        let waiting: Vec<Job> = plans
            .iter()
            .filter_map(|p| match p {
                Plan::Wait(job) => Some(job.clone()),
                _ => None,
            })
            .collect();
        // The error's text only: each waiting job carries it back.
        let queued = if waiting.is_empty() {
            Ok(())
        } else {
            self.outbound.enqueue(&waiting, now).await.map_err(|e| e.to_string())
        };
        futures_util::stream::iter(jobs.iter().zip(plans))
            .map(|(job, plan)| {
                let queued = queued.clone().map_err(crate::Error::Unavailable);
                async move {
                    match plan {
                        Plan::Wait(again) => {
                            queued?;
                            Ok(if again.due == job.due { Done::Waiting } else { Done::Queued })
                        }
                        Plan::Drop(disabled) => self.drop_job(job, disabled).await,
                        Plan::Attempt(w, slot) => self.attempt(job, w, &slot).await,
                    }
                }
            })
            .buffered(10)
            .collect()
            .await
    }

    async fn drop_job(&self, job: &Job, disabled: bool) -> Result<Done> {
        tracing::info!(webhook_id = %job.webhook_id, event_id = %job.event_id, "endpoint gone or disabled; delivery dropped");
        if disabled {
            // The log says the delivery ended (a retry from it sends it again).
            self.store.abandon_delivery(job).await?;
        }
        Ok(Done::Dropped)
    }

    async fn attempt(&self, job: &Job, w: &Webhook, slot: &str) -> Result<Done> {
        let now = Utc::now();
        let lease_until = now + Duration::seconds(LEASE_SECONDS);
        match self.store.claim_attempt(job, slot, now, lease_until).await? {
            Turn::Claimed => {}
            Turn::Taken => return Ok(Done::Dropped),
            Turn::NoSlot => {
                self.outbound.enqueue(&[later(job, now)], now).await?;
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
        let lease = Lease { slot, until: lease_until };
        let disabled = self.store.record_attempt(job, lease, at, outcome, next, disable).await?;
        if disabled {
            tracing::warn!(webhook_id = %job.webhook_id, reason = disable.unwrap_or_default(), "endpoint disabled");
        }
        Ok(Done::Attempted)
    }
}

/// What a job of a batch comes to before any write.
enum Plan<'a> {
    /// Back to the queue: not due yet, or (due a second later) no free slot.
    Wait(Job),
    /// Dropped: the endpoint is gone (`false`) or disabled (`true`).
    Drop(bool),
    /// An attempt, with the endpoint and the slot it will claim.
    Attempt(&'a Webhook, String),
}

/// The job again, due when a slot may have come free.
fn later(job: &Job, now: chrono::DateTime<Utc>) -> Job {
    Job { due: Some(now + Duration::milliseconds(NO_SLOT_WAIT_MS)), ..job.clone() }
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
