//! Each entity as an item and back: its keys (from `keys`), its `type`, and
//! the serde form of the domain type (serde_dynamo).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use serde::{Serialize, de::DeserializeOwned};

use super::keys::{self, kind};
use super::{Item, Order, OrderEvent, ParkedEvent, s};
use crate::error::{Error, Result};
use crate::model::{Assignment, Entry, License};
use crate::reminders;

pub fn to_item<T: Serialize>(value: &T) -> Result<Item> {
    serde_dynamo::to_item(value).map_err(Error::unavailable)
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Unavailable(format!("unreadable item: {e}")))
}

/// One value in its item form.
pub fn value<T: Serialize>(value: &T) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(Error::unavailable)
}

pub(super) fn key(pk: String, sk: String) -> Item {
    HashMap::from([(keys::PK.into(), s(pk)), (keys::SK.into(), s(sk))])
}

pub fn license_key(customer_id: &str, license_id: &str) -> Item {
    key(keys::customer(customer_id), keys::license(license_id))
}

pub fn assignment_key(customer_id: &str, license_id: &str, email: &str) -> Item {
    key(keys::customer(customer_id), keys::assignment(license_id, email))
}

pub fn order_key(order_id: &str) -> Item {
    key(keys::order(order_id), keys::ORDER_SK.into())
}

pub fn entry_key(customer_id: &str, license_id: &str, entry_id: &str) -> Item {
    key(keys::customer(customer_id), keys::history(license_id, entry_id))
}

pub fn order_event_key(order_id: &str, detail_type: &str, event_id: &str) -> Item {
    key(keys::order(order_id), keys::order_event(detail_type, event_id))
}

pub fn budget_key(customer_id: &str, kind: &str, window: i64) -> Item {
    key(keys::customer(customer_id), keys::budget(kind, window))
}

pub fn idempotency_key(customer_id: &str, idempotency_key: &str, sk: String) -> Item {
    key(keys::idempotency(customer_id, idempotency_key), sk)
}

/// GSI2's keys of an item first due for a reminder on `day`.
pub fn reminder_index(day: NaiveDate) -> [(&'static str, AttributeValue); 2] {
    [(keys::GSI2PK, s(keys::reminders_of_month(day))), (keys::GSI2SK, s(keys::reminder_day(day)))]
}

/// GSI3's keys of an assignment of `email` the daily run may act on from `day`.
pub fn idle_index(email: &str, day: NaiveDate) -> [(&'static str, AttributeValue); 2] {
    [(keys::GSI3PK, s(keys::idle_shard_of(email))), (keys::GSI3SK, s(day.to_string()))]
}

/// A licence; one that does not renew is a reminder candidate (GSI2).
pub fn license_item(license: &License) -> Result<Item> {
    let mut item = to_item(license)?;
    item.extend(license_key(&license.customer_id, &license.license_id));
    if let Some(day) = reminders::license_index_day(license) {
        item.extend(reminder_index(day).map(|(k, v)| (k.to_string(), v)));
    }
    // While an operation is being written, the minute's finisher finds it.
    if let Some(started) = license.operation.as_ref().map(|op| op.started()) {
        let since = keys::pending_since(
            &super::expr::timestamp(started),
            &license.customer_id,
            &license.license_id,
        );
        item.insert(keys::GSI1PK.into(), s(keys::PENDING_OPERATIONS));
        item.insert(keys::GSI1SK.into(), s(since));
    }
    // While people wait for a seat, a rule's run is being written, or the
    // rules are to run again on a day, the minute's run finds it (v3).
    let run = matches!(license.operation, Some(crate::model::Operation::Rule(_)));
    if license.waiting > 0 || run || license.rule_recheck_on.is_some() {
        let id = keys::waiting_license(&license.customer_id, &license.license_id);
        item.insert(keys::GSI3PK.into(), s(keys::WAITING_LICENSES));
        item.insert(keys::GSI3SK.into(), s(id));
    }
    item.insert(keys::TYPE.into(), s(kind::LICENSE));
    Ok(item)
}

/// An assignment, findable by its user across customers (GSI1), unless
/// revoked a reminder candidate (GSI2), and under a reclaim rule in the idle
/// index from the day it may be due (GSI3).
pub fn assignment_item(a: &Assignment) -> Result<Item> {
    let mut item = to_item(a)?;
    item.extend(assignment_key(&a.customer_id, &a.license_id, &a.email));
    item.insert(keys::GSI1PK.into(), s(keys::user(&a.email)));
    item.insert(keys::GSI1SK.into(), s(keys::license(&a.license_id)));
    if let Some(day) = reminders::assignment_index_day(a) {
        item.extend(reminder_index(day).map(|(k, v)| (k.to_string(), v)));
    }
    if let Some(day) = a.reclaim_rule.and_then(|rule| rule.due_on(a)) {
        item.extend(idle_index(&a.email, day).map(|(k, v)| (k.to_string(), v)));
    }
    item.insert(keys::TYPE.into(), s(kind::ASSIGNMENT));
    Ok(item)
}

/// A history entry; one about an address is findable by it (GSI1).
pub fn entry_item(e: &Entry) -> Result<Item> {
    let mut item = to_item(e)?;
    item.extend(entry_key(&e.customer_id, &e.license_id, &e.id));
    if let Some(email) = &e.email {
        let gsi = keys::history_of_email(&e.customer_id, &e.license_id, email);
        item.insert(keys::GSI1PK.into(), s(gsi));
        item.insert(keys::GSI1SK.into(), s(&e.id));
    }
    item.insert(keys::TYPE.into(), s(kind::HISTORY_ENTRY));
    Ok(item)
}

pub fn order_event_item(event: &OrderEvent) -> Result<Item> {
    let mut item = to_item(event)?;
    item.extend(order_event_key(&event.order_id, &event.detail_type, &event.event_id));
    item.insert(keys::TYPE.into(), s(kind::ORDER_EVENT));
    Ok(item)
}

pub fn parked_key(order_id: &str, sequence: u64) -> Item {
    key(keys::order(order_id), keys::parked(sequence))
}

pub fn parked_item(event: &ParkedEvent) -> Result<Item> {
    let mut item = to_item(event)?;
    item.extend(parked_key(&event.order_id, event.sequence));
    item.insert(keys::TYPE.into(), s(kind::PARKED_EVENT));
    item.insert(keys::GSI2PK.into(), s(keys::PARKED_EVENTS));
    item.insert(keys::GSI2SK.into(), s(super::expr::timestamp(event.parked_at)));
    Ok(item)
}

pub fn order_item(order: &Order) -> Result<Item> {
    let mut item = to_item(order)?;
    item.extend(order_key(&order.order_id));
    item.insert(keys::TYPE.into(), s(kind::ORDER));
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InvitationStatus, Language, Period};
    use keys::attr;

    /// The attribute names the expressions use are the ones serde writes.
    #[test]
    fn expressions_and_items_agree_on_attribute_names() {
        let l = License::sample(2);
        let has_all = |item: &Item, names: &[&str]| names.iter().all(|n| item.contains_key(*n));
        let item = license_item(&l).unwrap();
        let licence_names = [attr::VERSION, attr::PRODUCT_ID, attr::LICENSE_ID, keys::PK, keys::SK];
        assert!(has_all(&item, &licence_names), "{item:?}");
        let now = "2026-06-01T00:00:00Z".parse().unwrap();
        let period = Period::new(l.term.start, l.term.end);
        let seat_of = |l: &License| {
            let pending = InvitationStatus::Pending;
            Assignment::new(l, "a@example.com", period, now, "x", Language::En, pending)
        };
        let a = seat_of(&l);
        let item = assignment_item(&a).unwrap();
        let assignment_names = [
            attr::VALID_FROM,
            attr::VALID_UNTIL,
            attr::REVOKED_AT,
            attr::INVITATION,
            attr::INVITED_AT,
            attr::LICENSE_ID,
            keys::GSI1PK,
        ];
        assert!(has_all(&item, &assignment_names), "{item:?}");
        let invitation = item[attr::INVITATION].as_m().unwrap();
        assert_eq!(invitation[attr::STATUS], s("pending"));
        assert_eq!(item[keys::TYPE], s(kind::ASSIGNMENT));
        let back: Assignment = from_item(item).unwrap();
        assert_eq!(back, a);
        // Under a reclaim rule: the rule's and the warning's names, and GSI3.
        let mut reclaiming = l.clone();
        let ask = crate::model::ReclaimAsk { enabled: true, inactive_days: 30, grace_days: 7 };
        reclaiming.reclaim = l.reclaim.asked(ask, l.term.start);
        let mut a = seat_of(&reclaiming);
        a.reclaim_warned_at = Some(now);
        let item = assignment_item(&a).unwrap();
        let names = [attr::RECLAIM_RULE, attr::RECLAIM_WARNED_AT, keys::GSI3PK, keys::GSI3SK];
        assert!(has_all(&item, &names), "{item:?}");
        let rule = item[attr::RECLAIM_RULE].as_m().unwrap();
        assert_eq!(rule[attr::INACTIVE_DAYS], AttributeValue::N("30".into()));
        assert_eq!(item[keys::GSI3SK], s(a.reclaim_rule.unwrap().due_on(&a).unwrap().to_string()));
        a.reclaim_exempt = true;
        assert!(!assignment_item(&a).unwrap().contains_key(keys::GSI3PK), "exempt: never due");
    }

    #[test]
    fn keys_of_each_entity() {
        assert_eq!(license_key("c1", "l1")[keys::SK], s("LICENSE#l1"));
        assert_eq!(assignment_key("c1", "l1", "a@x.de")[keys::SK], s("ASSIGNMENT#l1#a@x.de"));
        assert_eq!(order_key("o1")[keys::PK], s("ORDER#o1"));
        assert_eq!(budget_key("c1", keys::ASSIGN_BUDGET, 60)[keys::SK], s("BUDGET#ASSIGN#60"));
    }
}
