//! The table's DynamoDB Stream, for `notify`: each record decoded into the
//! assignment it is about when that assignment has an invitation to send
//! ([`Pending`]), or into a provisioning token created or revoked
//! ([`TokenNotice`]); the use case run on it, and the records to retry
//! answered as Lambda's partial batch response.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::model::{Entry, EntryNotice, TokenEvent, TokenNotice, Told, WebhookDisabled};
use crate::notify::Notifier;
pub use crate::notify::Pending;

/// What a stream record asks of `notify`.
#[derive(Debug, PartialEq, Eq)]
pub enum Notice {
    Invitation(Pending),
    Token(TokenNotice),
    Entry(EntryNotice),
    WebhookDisabled(WebhookDisabled),
}

impl Notice {
    pub fn from_record(record: &Value) -> Option<Self> {
        Pending::from_record(record)
            .map(Self::Invitation)
            .or_else(|| token_notice(record).map(Self::Token))
            .or_else(|| entry_notice(record).map(Self::Entry))
            .or_else(|| webhook_disabled(record).map(Self::WebhookDisabled))
    }
}

/// Handles a DynamoDB Streams event; answers the records to retry as
/// `{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}`. Every
/// history entry of the batch goes out as events first (the outbox, in
/// one go: `usecase::outbox`); then each record's mail, if any.
pub async fn handle(notifier: &Notifier, event: &Value) -> Value {
    let records = event.get("Records").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut failed = BTreeSet::new();
    let entries: Vec<(usize, Entry)> =
        records.iter().enumerate().filter_map(|(i, r)| Some((i, history_entry(r)?))).collect();
    if !entries.is_empty() {
        let only: Vec<Entry> = entries.iter().map(|(_, e)| e.clone()).collect();
        if let Err(reason) = notifier.publish(&only).await {
            tracing::warn!(%reason, entries = only.len(), "entries not out as events yet; will retry");
            failed.extend(entries.iter().map(|(i, _)| *i));
        }
    }
    for (i, record) in records.iter().enumerate() {
        let done = match Notice::from_record(record) {
            None => continue,
            Some(Notice::Invitation(pending)) => notifier.deliver(&pending).await,
            Some(Notice::Token(notice)) => notifier.tell_buyers(&notice).await,
            Some(Notice::Entry(notice)) => notifier.tell_of_entry(&notice).await,
            Some(Notice::WebhookDisabled(notice)) => notifier.tell_webhook_disabled(&notice).await,
        };
        if let Err(reason) = done {
            tracing::warn!(%reason, "stream record not done yet; will retry");
            failed.insert(i);
        }
    }
    let failures: Vec<Value> = failed
        .into_iter()
        .map(|i| {
            let record = &records[i];
            let sequence = record.get("dynamodb").and_then(|d| d.get("SequenceNumber"));
            let id = sequence.or_else(|| record.get("eventID")).and_then(Value::as_str);
            json!({ "itemIdentifier": id.unwrap_or_default() })
        })
        .collect();
    json!({ "batchItemFailures": failures })
}

/// A history entry inserted: every one is an event (the outbox).
fn history_entry(record: &Value) -> Option<Entry> {
    if record.get("eventName")?.as_str()? != "INSERT" {
        return None;
    }
    let image = record.get("dynamodb")?.get("NewImage")?;
    if s(image, "type")? != "HistoryEntry" {
        return None;
    }
    let item: HashMap<String, AttributeValue> = image
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), attribute(v)?)))
        .collect::<Option<_>>()?;
    match crate::store::items::from_item::<Entry>(item) {
        Ok(entry) => Some(entry),
        Err(e) => {
            tracing::error!(error = %e, "a history entry the outbox cannot read; not sent as an event");
            None
        }
    }
}

/// A value of a stream image (DynamoDB's JSON) as the SDK's value.
fn attribute(v: &Value) -> Option<AttributeValue> {
    let (kind, inner) = v.as_object()?.iter().next()?;
    let text = |x: &Value| x.as_str().map(str::to_string);
    let texts = |x: &Value| x.as_array()?.iter().map(text).collect::<Option<Vec<_>>>();
    Some(match kind.as_str() {
        "S" => AttributeValue::S(text(inner)?),
        "N" => AttributeValue::N(text(inner)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool()?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(texts(inner)?),
        "NS" => AttributeValue::Ns(texts(inner)?),
        "L" => AttributeValue::L(inner.as_array()?.iter().map(attribute).collect::<Option<_>>()?),
        "M" => AttributeValue::M(
            inner
                .as_object()?
                .iter()
                .map(|(k, v)| Some((k.clone(), attribute(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// An endpoint that its deliveries disabled just now (`gone`, `failing`):
/// not one an admin disabled, not a later change of a disabled one.
fn webhook_disabled(record: &Value) -> Option<WebhookDisabled> {
    if record.get("eventName")?.as_str()? != "MODIFY" {
        return None;
    }
    let dynamodb = record.get("dynamodb")?;
    let image = dynamodb.get("NewImage")?;
    let reason = s(image, "disabledReason")?;
    let before = dynamodb.get("OldImage").and_then(|old| s(old, "disabledReason"));
    if s(image, "type")? != "Webhook" || !matches!(reason, "gone" | "failing") || before.is_some() {
        return None;
    }
    Some(WebhookDisabled {
        customer_id: s(image, "customerId")?.to_string(),
        webhook_id: s(image, "webhookId")?.to_string(),
        url: s(image, "url")?.to_string(),
        reason: reason.to_string(),
        at: s(image, "disabledAt")?.parse().ok()?,
    })
}

fn s<'a>(image: &'a Value, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

/// A token's record inserted (created) or newly revoked; its other changes
/// (`lastUsedAt`) tell nobody anything.
fn token_notice(record: &Value) -> Option<TokenNotice> {
    let dynamodb = record.get("dynamodb")?;
    let image = dynamodb.get("NewImage")?;
    if s(image, "type")? != "Token" {
        return None;
    }
    let revoked_now = || {
        let before = dynamodb.get("OldImage").and_then(|old| s(old, "revokedAt"));
        s(image, "revokedAt").is_some() && before.is_none()
    };
    let (event, by, at) = match record.get("eventName")?.as_str()? {
        "INSERT" => (TokenEvent::Created, "createdBy", "createdAt"),
        "MODIFY" if revoked_now() => (TokenEvent::Revoked, "revokedBy", "revokedAt"),
        _ => return None,
    };
    Some(TokenNotice {
        event,
        customer_id: s(image, "customerId")?.to_string(),
        token_id: s(image, "tokenId")?.to_string(),
        name: s(image, "name")?.to_string(),
        by: s(image, by)?.to_string(),
        at: s(image, at)?.parse().ok()?,
        last_day: s(image, "lastDay")?.parse().ok()?,
    })
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

/// A history entry inserted that someone hears of (v3): a seat the daily run
/// warned or revoked for inactivity (its person), a licence whose seats ran
/// out, or someone who started waiting for one of its seats (its buyer).
fn entry_notice(record: &Value) -> Option<EntryNotice> {
    if record.get("eventName")?.as_str()? != "INSERT" {
        return None;
    }
    let image = record.get("dynamodb")?.get("NewImage")?;
    if s(image, "type")? != "HistoryEntry" {
        return None;
    }
    let told = match (s(image, "action")?, s(image, "reason")) {
        ("assignment.reclaim-warned", _) => Told::ReclaimWarned,
        ("assignment.revoked", Some(crate::idle::INACTIVE)) => Told::Reclaimed,
        ("license.seats-exhausted", _) => Told::SeatsExhausted,
        ("waiting.added", _) => Told::PeopleWaiting,
        _ => return None,
    };
    let email = s(image, "email").map(str::to_string);
    let to_buyer = matches!(told, Told::SeatsExhausted | Told::PeopleWaiting);
    if !to_buyer && email.is_none() {
        return None;
    }
    Some(EntryNotice {
        told,
        customer_id: s(image, "customerId")?.to_string(),
        license_id: s(image, "licenseId")?.to_string(),
        email,
        entry_id: s(image, "id")?.to_string(),
        at: s(image, "at")?.parse().ok()?,
    })
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

    fn token_record(event: &str, revoked_before: bool, revoked_now: bool) -> Value {
        let mut image = json!({
            "PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "TOKEN#tok_1"}, "type": {"S": "Token"},
            "customerId": {"S": "c1"}, "tokenId": {"S": "tok_1"}, "name": {"S": "Okta"},
            "createdBy": {"S": "admin@example.com"}, "createdAt": {"S": "2026-12-06T21:00:00Z"},
            "lastDay": {"S": "2027-12-06"}
        });
        let mut old = image.clone();
        if revoked_before {
            old["revokedAt"] = json!({"S": "2026-12-06T21:30:00Z"});
        }
        if revoked_now {
            image["revokedAt"] = json!({"S": "2026-12-06T21:30:00Z"});
            image["revokedBy"] = json!({"S": "other@example.com"});
        }
        json!({"eventID": "e2", "eventName": event,
               "dynamodb": {"SequenceNumber": "200", "NewImage": image, "OldImage": old}})
    }

    #[test]
    fn tokens_created_or_newly_revoked_are_told() {
        let told = |event, before, now| match Notice::from_record(&token_record(event, before, now))
        {
            Some(Notice::Token(n)) => Some((n.event, n.by, n.last_day.to_string())),
            _ => None,
        };
        let day = "2027-12-06".to_string();
        let admin = "admin@example.com".to_string();
        assert_eq!(told("INSERT", false, false), Some((TokenEvent::Created, admin, day.clone())));
        let other = "other@example.com".to_string();
        assert_eq!(told("MODIFY", false, true), Some((TokenEvent::Revoked, other, day)));
        // A use (lastUsedAt), or a change after the revocation, tells nothing.
        assert_eq!(Notice::from_record(&token_record("MODIFY", false, false)), None);
        assert_eq!(Notice::from_record(&token_record("MODIFY", true, true)), None);
        assert_eq!(Notice::from_record(&token_record("REMOVE", false, false)), None);
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

    fn entry_record(action: &str, reason: Option<&str>) -> Value {
        let mut image = json!({
            "type": {"S": "HistoryEntry"}, "customerId": {"S": "c1"}, "licenseId": {"S": "l1"},
            "email": {"S": "anna@example.com"}, "id": {"S": "01E"}, "action": {"S": action},
            "at": {"S": "2026-12-01T03:00:00Z"}
        });
        if let Some(reason) = reason {
            image["reason"] = json!({"S": reason});
        }
        json!({"eventID": "e3", "eventName": "INSERT", "dynamodb": {"NewImage": image}})
    }

    #[test]
    fn the_runs_warnings_and_reclaims_tell_the_person() {
        let warned = Notice::from_record(&entry_record("assignment.reclaim-warned", None));
        let Some(Notice::Entry(n)) = warned else { panic!("{warned:?}") };
        assert_eq!((n.told, n.email.as_deref()), (Told::ReclaimWarned, Some("anna@example.com")));
        assert_eq!(n.entry_id, "01E");
        let revoked = Notice::from_record(&entry_record("assignment.revoked", Some("inactive")));
        assert!(matches!(revoked, Some(Notice::Entry(EntryNotice { told: Told::Reclaimed, .. }))));
        let full = Notice::from_record(&entry_record("license.seats-exhausted", None));
        assert!(matches!(
            full,
            Some(Notice::Entry(EntryNotice { told: Told::SeatsExhausted, .. }))
        ));
        assert_eq!(Notice::from_record(&entry_record("assignment.revoked", None)), None);
        let by_admin = entry_record("assignment.revoked", Some("deprovisioned"));
        assert_eq!(Notice::from_record(&by_admin), None);
    }
}
