//! The table's DynamoDB Stream, for `notify`: each record decoded into the
//! assignment it is about when that assignment has an invitation to send
//! ([`Pending`]), the use case run on it, and the records to retry answered
//! as Lambda's partial batch response.

use serde_json::{Value, json};

use crate::notify::Notifier;
pub use crate::notify::Pending;

/// Handles a DynamoDB Streams event; answers the records to retry as
/// `{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}`.
pub async fn handle(notifier: &Notifier, event: &Value) -> Value {
    let mut failures = Vec::new();
    let records = event.get("Records").and_then(Value::as_array).cloned().unwrap_or_default();
    for record in &records {
        let Some(pending) = Pending::from_record(record) else {
            continue;
        };
        if let Err(reason) = notifier.deliver(&pending).await {
            tracing::warn!(license_id = %pending.license_id, %reason, "invitation not sent yet; will retry");
            let id = record
                .get("dynamodb")
                .and_then(|d| d.get("SequenceNumber"))
                .and_then(Value::as_str)
                .unwrap_or(&pending.event_id);
            failures.push(json!({ "itemIdentifier": id }));
        }
    }
    json!({ "batchItemFailures": failures })
}

fn s<'a>(image: &'a Value, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

impl Pending {
    /// New or changed assignment items whose invitation is pending, not
    /// claimed (our own claim writes come back through the stream too) and
    /// not waiting for its window (the minute's sweep sends those).
    pub fn from_record(record: &Value) -> Option<Self> {
        if !matches!(record.get("eventName")?.as_str()?, "INSERT" | "MODIFY") {
            return None;
        }
        let image = record.get("dynamodb")?.get("NewImage")?;
        let status = image.get("invitation")?.get("M")?.get("status")?.get("S")?.as_str()?;
        let revoked = image.get("revokedAt").and_then(|r| r.get("S")).is_some();
        if s(image, "type")? != "Assignment"
            || status != "pending"
            || revoked
            || image.get("invitationClaim").is_some()
            || image.get("invitationDueAt").is_some()
        {
            return None;
        }
        let event_id = record
            .get("eventID")
            .and_then(Value::as_str)
            .or_else(|| record.get("dynamodb")?.get("SequenceNumber")?.as_str())?;
        Some(Self {
            event_id: event_id.to_string(),
            customer_id: s(image, "customerId")?.to_string(),
            license_id: s(image, "licenseId")?.to_string(),
            email: s(image, "email")?.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[test]
    fn revoked_assignments_are_not_picked_up() {
        let mut r = record("MODIFY", "pending", false);
        r["dynamodb"]["NewImage"]["revokedAt"] = json!({"S": "2026-11-29T10:00:00Z"});
        assert!(Pending::from_record(&r).is_none());
        r["dynamodb"]["NewImage"]["revokedAt"] = json!({"NULL": true});
        assert!(Pending::from_record(&r).is_some());
    }

    fn record(event: &str, status: &str, claimed: bool) -> Value {
        let mut image = json!({
            "PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "ASSIGNMENT#lic_1#a@example.com"},
            "type": {"S": "Assignment"}, "customerId": {"S": "c1"}, "licenseId": {"S": "lic_1"},
            "email": {"S": "a@example.com"}, "invitation": {"M": {"status": {"S": status}}}
        });
        if claimed {
            image["invitationClaim"] = json!({"M": {"id": {"S": "x"}, "at": {"N": "1"}}});
        }
        json!({"eventID": "e1", "eventName": event, "eventSource": "aws:dynamodb",
               "dynamodb": {"SequenceNumber": "100", "NewImage": image}})
    }

    #[test]
    fn only_unclaimed_pending_assignments_are_picked_up() {
        let p = Pending::from_record(&record("INSERT", "pending", false)).unwrap();
        assert_eq!(
            (p.event_id.as_str(), p.customer_id.as_str(), p.email.as_str()),
            ("e1", "c1", "a@example.com")
        );
        assert!(Pending::from_record(&record("MODIFY", "pending", false)).is_some());
        assert!(Pending::from_record(&record("MODIFY", "pending", true)).is_none());
        assert!(Pending::from_record(&record("MODIFY", "sent", false)).is_none());
        assert!(Pending::from_record(&record("INSERT", "none", false)).is_none());
        assert!(Pending::from_record(&record("REMOVE", "pending", false)).is_none());
        assert!(Pending::from_record(&json!({"eventName": "INSERT"})).is_none());
        // Waiting for its window: the minute's sweep sends it, not the stream.
        let mut waiting = record("MODIFY", "pending", false);
        waiting["dynamodb"]["NewImage"]["invitationDueAt"] = json!({"S": "2026-12-06T10:00:00Z"});
        assert!(Pending::from_record(&waiting).is_none());
    }
}
