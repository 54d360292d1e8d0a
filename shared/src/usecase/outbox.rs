//! The history is the outbox (API.md v3, Webhooks): every entry the table's
//! stream brings becomes its events; each goes to the account's event bus
//! and, as a first attempt, to every endpoint of its customer that hears
//! it. Nothing is written for this beyond the entry itself: a job queued
//! twice (the stream delivers again after a failure) makes its attempt
//! once (`deliver` claims it).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::model::{Entry, Event, Webhook};
use crate::outbound::{Job, Outbound};
use crate::store::Store;

/// What one batch of entries became.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    pub events: usize,
    pub jobs: usize,
}

/// The events of `entries`, to the bus and to their customers' endpoints:
/// one read of the entries' licences (their products) and one of each
/// customer's endpoints, side by side; then the queue and the bus, side by
/// side. `Err`: nothing is known to be out; the caller retries the batch.
pub async fn publish(
    store: &Store,
    outbound: &Outbound,
    entries: &[Entry],
    now: DateTime<Utc>,
) -> Result<Published> {
    if entries.is_empty() {
        return Ok(Published::default());
    }
    let licenses: BTreeSet<(String, String)> =
        entries.iter().map(|e| (e.customer_id.clone(), e.license_id.clone())).collect();
    let customers: BTreeSet<&str> = entries.iter().map(|e| e.customer_id.as_str()).collect();
    let licenses: Vec<(String, String)> = licenses.into_iter().collect();
    let endpoints = futures_util::future::try_join_all(customers.iter().map(|c| async move {
        Ok::<_, crate::Error>((c.to_string(), store.webhooks(c).await?.webhooks))
    }));
    let (products, endpoints) = tokio::try_join!(store.product_ids(&licenses), endpoints)?;
    let endpoints: HashMap<String, Vec<Webhook>> = endpoints.into_iter().collect();
    let mut events = Vec::new();
    let mut jobs = Vec::new();
    for entry in entries {
        let key = (entry.customer_id.clone(), entry.license_id.clone());
        let product = products.get(&key).map_or("", String::as_str);
        for event in Event::of_entry(entry, product) {
            for w in endpoints.get(&entry.customer_id).into_iter().flatten() {
                if w.hears(&event.kind) {
                    jobs.push(Job::first(&w.customer_id, &w.webhook_id, &event));
                }
            }
            events.push(event);
        }
    }
    tokio::try_join!(outbound.enqueue(&jobs, now), outbound.publish(&events))?;
    Ok(Published { events: events.len(), jobs: jobs.len() })
}
