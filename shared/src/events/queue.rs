//! The webhook queue's SQS events, for `deliver`: each message's body
//! decoded into a [`Job`] at the edge, the attempts run, and the messages
//! to receive again answered as Lambda's partial batch response. A message
//! that is no job at all is logged and dropped (it would never become one).

use serde_json::{Value, json};

use crate::outbound::Job;
use crate::usecase::deliver::Courier;

/// Handles an SQS event; answers `{"batchItemFailures": [{"itemIdentifier":
/// <messageId>}]}` for the jobs whose attempt could not be made or recorded.
pub async fn handle(courier: &Courier, event: &Value) -> Value {
    let records = event.get("Records").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut ids = Vec::new();
    let mut jobs = Vec::new();
    for record in &records {
        let id = record.get("messageId").and_then(Value::as_str).unwrap_or_default();
        match decode(record) {
            Some(job) => {
                ids.push(id.to_string());
                jobs.push(job);
            }
            None => {
                tracing::error!(message_id = id, "a queue message that is no delivery job; dropped")
            }
        }
    }
    let done = courier.run(&jobs).await;
    let failures: Vec<Value> = ids
        .iter()
        .zip(done)
        .filter_map(|(id, done)| match done {
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(message_id = %id, error = %e, "delivery job failed; it comes back");
                Some(json!({ "itemIdentifier": id }))
            }
        })
        .collect();
    json!({ "batchItemFailures": failures })
}

fn decode(record: &Value) -> Option<Job> {
    let body = record.get("body")?.as_str()?;
    let job: Job = serde_json::from_str(body).ok()?;
    let ok = job.attempt >= 1
        && crate::model::is_customer_id(&job.customer_id)
        && job.webhook_id.starts_with("wh_")
        && job.event_id.starts_with("evt_");
    ok.then_some(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_decoded_into_its_job_or_dropped() {
        let job = json!({"customerId": "c1", "webhookId": "wh_1", "eventId": "evt_1",
            "type": "webhook.test", "body": "{}", "attempt": 2, "due": "2026-12-07T10:00:00Z"});
        let record = json!({"messageId": "m1", "body": job.to_string()});
        let decoded = decode(&record).unwrap();
        assert_eq!((decoded.attempt, decoded.kind.as_str()), (2, "webhook.test"));
        assert!(decode(&json!({"messageId": "m2", "body": "not json"})).is_none());
        let foreign = json!({"messageId": "m3", "body": json!({"customerId": "c 1", "webhookId": "wh_1",
            "eventId": "evt_1", "type": "x", "body": "{}", "attempt": 1}).to_string()});
        assert!(decode(&foreign).is_none());
    }
}
