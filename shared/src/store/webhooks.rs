//! Webhooks: each endpoint's record in its customer's partition (listed with
//! one Query, beside the version of the customer's set, so that two
//! creations cannot both pass the limit), and each delivery in its
//! endpoint's partition, newest first, kept 30 days (TTL). A delivery
//! attempt claims its turn and one of the endpoint's lease slots in one
//! transaction, and records its result under the claim.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};

use super::expr::{self, Expr, KeyRange};
use super::items::{self, from_item, key, to_item};
use super::keys::{self, attr, kind};
use super::{Item, Store, TxError, applied, n, s, sdk};
use crate::error::Result;
use crate::model::{Delivery, DeliveryStatus, LOG_DAYS, Outcome, SealedSecret, Webhook};
use crate::outbound::Job;

/// A customer's endpoints, and the version of their set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookSet {
    pub webhooks: Vec<Webhook>,
    pub version: u64,
}

/// Whether an attempt may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    /// It holds the delivery's turn and a slot until its lease ends.
    Claimed,
    /// Another copy of the job made (or makes) this attempt: drop it.
    Taken,
    /// The endpoint has no free slot, or is gone or disabled.
    NoSlot,
}

/// What a claimed attempt holds: a slot of its endpoint, until when.
#[derive(Clone, Copy, Debug)]
pub struct Lease<'a> {
    pub slot: &'a str,
    pub until: DateTime<Utc>,
}

/// One page of a delivery log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    /// The last event id read, when more may follow.
    pub next: Option<String>,
}

fn record_key(customer_id: &str, webhook_id: &str) -> Item {
    key(keys::customer(customer_id), keys::webhook(webhook_id))
}

fn set_key(customer_id: &str) -> Item {
    key(keys::customer(customer_id), keys::WEBHOOK_SET_SK.into())
}

fn delivery_key(webhook_id: &str, event_id: &str) -> Item {
    key(keys::deliveries(webhook_id), keys::delivery(event_id))
}

fn record_item(w: &Webhook) -> Result<Item> {
    let mut item = to_item(w)?;
    item.extend(record_key(&w.customer_id, &w.webhook_id));
    item.insert(keys::TYPE.into(), s(kind::WEBHOOK));
    Ok(item)
}

fn ms(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp_millis())
}

fn time(at: DateTime<Utc>) -> AttributeValue {
    s(expr::timestamp(at))
}

impl Store {
    /// Every endpoint of a customer and the version of the set, strongly
    /// consistent (one Query).
    pub async fn webhooks(&self, customer_id: &str) -> Result<WebhookSet> {
        let range = KeyRange::table(keys::customer(customer_id)).begins_with(keys::WEBHOOKS_PREFIX);
        let mut set = WebhookSet::default();
        for item in self.query_all(self.query(range).consistent_read(true)).await? {
            match item.get(keys::TYPE).and_then(|t| t.as_s().ok()).map(String::as_str) {
                Some(kind::WEBHOOK) => set.webhooks.push(from_item(item)?),
                Some(kind::WEBHOOK_SET) => {
                    let version = item.get(attr::VERSION).and_then(|v| v.as_n().ok());
                    set.version = version.and_then(|v| v.parse().ok()).unwrap_or(0);
                }
                _ => {}
            }
        }
        Ok(set)
    }

    /// One endpoint of a customer, strongly consistent.
    pub async fn webhook(&self, customer_id: &str, webhook_id: &str) -> Result<Option<Webhook>> {
        self.get(record_key(customer_id, webhook_id), true).await?.map(from_item).transpose()
    }

    /// Endpoints by (customer, id), in one BatchGetItem (those that exist).
    pub async fn webhooks_by_id(&self, ids: &[(String, String)]) -> Result<Vec<Webhook>> {
        let keys = ids.iter().map(|(c, w)| record_key(c, w)).collect();
        self.batch_get(keys, true).await?.into_iter().map(from_item).collect()
    }

    /// The product of each licence (by customer and licence id), in one
    /// BatchGetItem; licences that do not exist are left out.
    pub async fn product_ids(
        &self,
        licenses: &[(String, String)],
    ) -> Result<std::collections::HashMap<(String, String), String>> {
        let keys = licenses.iter().map(|(c, l)| items::license_key(c, l)).collect();
        let text = |item: &Item, name: &str| item.get(name)?.as_s().ok().cloned();
        Ok(self
            .batch_get(keys, false)
            .await?
            .iter()
            .filter_map(|item| {
                let id = (text(item, attr::CUSTOMER_ID)?, text(item, attr::LICENSE_ID)?);
                Some((id, text(item, attr::PRODUCT_ID)?))
            })
            .collect())
    }

    /// Stores a new endpoint and the set's next version, only while the set
    /// is still at `version`.
    pub async fn create_webhook(&self, w: &Webhook, version: u64) -> Result<(), TxError> {
        let table = &self.table;
        let next = Expr::new("SET #version = :next, #type = :set")
            .name("#version", attr::VERSION)
            .name("#type", keys::TYPE)
            .value(":next", n(version + 1))
            .value(":set", s(kind::WEBHOOK_SET));
        let unchanged = if version == 0 {
            Expr::new("attribute_not_exists(#version)").name("#version", attr::VERSION)
        } else {
            Expr::version_is(version)
        };
        let items = vec![
            TransactWriteItem::builder()
                .put(expr::put(table, record_item(w)?, Some(Expr::item_absent()))?)
                .build(),
            TransactWriteItem::builder()
                .update(expr::update(table, set_key(&w.customer_id), next, unchanged)?)
                .build(),
        ];
        self.transact_items(items).await
    }

    /// Changes an endpoint's settings (what an admin may change), only
    /// while its secrets are still `secrets` (a rotation in between makes
    /// the caller read again). `false`: it changed meanwhile, or is gone.
    pub async fn change_webhook(&self, w: &Webhook, secrets: &[SealedSecret]) -> Result<bool> {
        let set = Expr::assigning(&[
            (attr::URL, Some(s(&w.url))),
            (attr::EVENTS, Some(items::value(&w.events)?)),
            (attr::DESCRIPTION, w.description.as_ref().map(s)),
            (attr::ENABLED, Some(AttributeValue::Bool(w.enabled))),
            (attr::DISABLED_REASON, w.disabled_reason.as_ref().map(s)),
            (attr::DISABLED_AT, w.disabled_at.map(time)),
            (attr::SECRETS, Some(items::value(&w.secrets)?)),
            // A re-enabled endpoint starts counting failures afresh.
            (attr::FAILING_SINCE, None),
        ]);
        let unchanged = Expr::item_exists().and(
            Expr::new("#secrets = :read")
                .name("#secrets", attr::SECRETS)
                .value(":read", items::value(&secrets)?),
        );
        let key = record_key(&w.customer_id, &w.webhook_id);
        self.update_one(expr::update(&self.table, key, set, unchanged)?).await
    }

    /// Deletes an endpoint. `false`: there was none.
    pub async fn delete_webhook(&self, customer_id: &str, webhook_id: &str) -> Result<bool> {
        let e = Expr::item_exists();
        applied(
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(record_key(customer_id, webhook_id)))
                .condition_expression(e.text)
                .set_expression_attribute_names(Some(e.names))
                .send()
                .await,
        )
    }

    /// Claims attempt `job.attempt` of its delivery and lease slot `slot`
    /// of its endpoint until `lease_until`, in one transaction (a copy of
    /// the job meets the delivery's turn, whatever slot it tried). The first attempt
    /// writes the delivery's log entry; a later one runs only after the
    /// attempt before it was recorded (or its claim's lease ran out).
    pub async fn claim_attempt(
        &self,
        job: &Job,
        slot: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Turn> {
        let table = &self.table;
        let mut claim = Expr::new(
            "SET #attempts = :n, #lease = :lease, #status = :pending, #delivery_id = if_not_exists(#delivery_id, :delivery_id), \
             #event_id = if_not_exists(#event_id, :event_id), #webhook_id = if_not_exists(#webhook_id, :webhook_id), \
             #customer_id = if_not_exists(#customer_id, :customer_id), #event_type = if_not_exists(#event_type, :event_type), \
             #body = if_not_exists(#body, :body), #created = if_not_exists(#created, :now), #type = :kind, \
             #results = if_not_exists(#results, :none), #expires = if_not_exists(#expires, :expires)",
        )
        .name("#attempts", attr::ATTEMPTS)
        .name("#lease", attr::LEASE_UNTIL)
        .name("#status", attr::STATUS)
        .name("#delivery_id", attr::DELIVERY_ID)
        .name("#event_id", attr::EVENT_ID)
        .name("#webhook_id", attr::WEBHOOK_ID)
        .name("#customer_id", attr::CUSTOMER_ID)
        .name("#event_type", attr::EVENT_TYPE)
        .name("#body", attr::BODY)
        .name("#created", attr::CREATED_AT)
        .name("#type", keys::TYPE)
        .name("#results", attr::RESULTS)
        .name("#expires", attr::EXPIRES_AT)
        .value(":n", n(job.attempt))
        .value(":lease", ms(lease_until))
        .value(":pending", s(DeliveryStatus::Pending.as_str()))
        .value(":delivery_id", s(crate::model::delivery_id(&job.event_id)))
        .value(":event_id", s(&job.event_id))
        .value(":webhook_id", s(&job.webhook_id))
        .value(":customer_id", s(&job.customer_id))
        .value(":event_type", s(&job.kind))
        .value(":body", s(&job.body))
        .value(":now", time(now))
        .value(":kind", s(kind::DELIVERY))
        .value(":none", AttributeValue::L(Vec::new()))
        .value(":expires", n((now + Duration::days(LOG_DAYS)).timestamp()));
        // `nextAttemptAt` is what the log shows while this attempt runs: none.
        claim.text.push_str(" REMOVE #next");
        claim = claim.name("#next", attr::NEXT_ATTEMPT_AT);
        let expired_claim_of_this_attempt = Expr::new("#attempts = :n AND #lease < :now_ms")
            .name("#attempts", attr::ATTEMPTS)
            .name("#lease", attr::LEASE_UNTIL)
            .value(":n", n(job.attempt))
            .value(":now_ms", ms(now));
        let its_turn = if job.attempt == 1 {
            Expr::new("attribute_not_exists(#attempts)").name("#attempts", attr::ATTEMPTS)
        } else {
            Expr::new("#attempts = :previous AND attribute_not_exists(#lease)")
                .name("#attempts", attr::ATTEMPTS)
                .name("#lease", attr::LEASE_UNTIL)
                .value(":previous", n(job.attempt - 1))
        };
        let not_done = Expr::new("attribute_not_exists(#status) OR #status = :pending")
            .name("#status", attr::STATUS)
            .value(":pending", s(DeliveryStatus::Pending.as_str()));
        let condition = its_turn.or(expired_claim_of_this_attempt).and(not_done);
        let lease = Expr::new("SET #slots.#slot = :lease")
            .name("#slots", attr::SLOTS)
            .name("#slot", slot)
            .value(":lease", ms(lease_until));
        let free = Expr::item_exists()
            .and(
                Expr::new("#enabled = :yes")
                    .name("#enabled", attr::ENABLED)
                    .value(":yes", AttributeValue::Bool(true)),
            )
            .and(
                Expr::new("attribute_not_exists(#slots.#slot) OR #slots.#slot < :now_ms")
                    .name("#slots", attr::SLOTS)
                    .name("#slot", slot)
                    .value(":now_ms", ms(now)),
            );
        let items = vec![
            TransactWriteItem::builder()
                .update(expr::update(
                    table,
                    delivery_key(&job.webhook_id, &job.event_id),
                    claim,
                    condition,
                )?)
                .build(),
            TransactWriteItem::builder()
                .update(expr::update(
                    table,
                    record_key(&job.customer_id, &job.webhook_id),
                    lease,
                    free,
                )?)
                .build(),
        ];
        match self.transact_items(items).await {
            Ok(()) => Ok(Turn::Claimed),
            Err(TxError::Condition(failed)) if failed.contains(&0) => Ok(Turn::Taken),
            Err(TxError::Condition(_)) | Err(TxError::Busy) => Ok(Turn::NoSlot),
            Err(TxError::Failed(e)) => Err(e),
        }
    }

    /// Records what attempt `job.attempt`, claimed with `slot` until
    /// `lease_until`, came to: the delivery's status and log (`next`: when the next
    /// attempt is due), and on the endpoint the slot freed, the failures
    /// counted from their first, and `disable` (`gone`, `failing`) while it
    /// is enabled. Both writes side by side. `Ok(true)`: this call disabled
    /// the endpoint.
    pub async fn record_attempt(
        &self,
        job: &Job,
        lease: Lease<'_>,
        at: DateTime<Utc>,
        outcome: Outcome,
        next: Option<DateTime<Utc>>,
        disable: Option<&str>,
    ) -> Result<bool> {
        let (slot, lease_until) = (lease.slot, lease.until);
        let status = if outcome.succeeded() {
            DeliveryStatus::Succeeded
        } else if next.is_some() {
            DeliveryStatus::Pending
        } else {
            DeliveryStatus::Failed
        };
        let entry = items::value(&crate::model::AttemptResult { at, result: outcome.result() })?;
        let mut record = Expr::new(
            "SET #status = :status, #last_at = :at, #last_result = :result, #results = list_append(#results, :entry)",
        )
        .name("#status", attr::STATUS)
        .name("#last_at", attr::LAST_ATTEMPT_AT)
        .name("#last_result", attr::LAST_RESULT)
        .name("#results", attr::RESULTS)
        .name("#lease", attr::LEASE_UNTIL)
        .name("#next", attr::NEXT_ATTEMPT_AT)
        .value(":status", s(status.as_str()))
        .value(":at", time(at))
        .value(":result", s(outcome.result()))
        .value(":entry", AttributeValue::L(vec![entry]));
        match next {
            Some(next) => {
                record.text.push_str(", #next = :next REMOVE #lease");
                record = record.value(":next", time(next));
            }
            None => record.text.push_str(" REMOVE #lease, #next"),
        }
        let ours = Expr::new("#attempts = :n AND #lease = :lease")
            .name("#attempts", attr::ATTEMPTS)
            .name("#lease", attr::LEASE_UNTIL)
            .value(":n", n(job.attempt))
            .value(":lease", ms(lease_until));
        let delivery =
            expr::update(&self.table, delivery_key(&job.webhook_id, &job.event_id), record, ours)?;
        let (mut set, mut remove) = (Vec::new(), vec!["#slots.#slot"]);
        let mut endpoint = Expr::default()
            .name("#slots", attr::SLOTS)
            .name("#slot", slot)
            .name("#failing", attr::FAILING_SINCE);
        if outcome.succeeded() {
            remove.push("#failing");
        } else {
            set.push("#failing = if_not_exists(#failing, :at)");
            endpoint = endpoint.value(":at", time(at));
        }
        let mut exists = Expr::item_exists();
        if let Some(reason) = disable {
            set.push("#enabled = :off");
            set.push("#reason = :reason");
            set.push("#disabled_at = :at");
            endpoint = endpoint
                .name("#enabled", attr::ENABLED)
                .name("#reason", attr::DISABLED_REASON)
                .name("#disabled_at", attr::DISABLED_AT)
                .value(":at", time(at))
                .value(":off", AttributeValue::Bool(false))
                .value(":reason", s(reason));
            exists = exists.and(
                Expr::new("#enabled = :on")
                    .name("#enabled", attr::ENABLED)
                    .value(":on", AttributeValue::Bool(true)),
            );
        }
        endpoint.text = if set.is_empty() {
            format!("REMOVE {}", remove.join(", "))
        } else {
            format!("SET {} REMOVE {}", set.join(", "), remove.join(", "))
        };
        let endpoint = expr::update(
            &self.table,
            record_key(&job.customer_id, &job.webhook_id),
            endpoint,
            exists,
        )?;
        let (recorded, released) =
            tokio::join!(self.update_one(delivery), self.update_one(endpoint));
        recorded?;
        let disabled = released?;
        if disable.is_some() && !disabled {
            // Disabled already (or gone): free the slot all the same.
            let free =
                Expr::new("REMOVE #slots.#slot").name("#slots", attr::SLOTS).name("#slot", slot);
            let key = record_key(&job.customer_id, &job.webhook_id);
            self.update_one(expr::update(&self.table, key, free, Expr::item_exists())?).await?;
        }
        Ok(disable.is_some() && disabled)
    }

    /// One conditional UpdateItem. `false`: its condition did not hold.
    async fn update_one(&self, u: Update) -> Result<bool> {
        applied(
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(u.key))
                .update_expression(u.update_expression)
                .set_condition_expression(u.condition_expression)
                .set_expression_attribute_names(u.expression_attribute_names)
                .set_expression_attribute_values(u.expression_attribute_values)
                .send()
                .await,
        )
    }

    /// Ends a delivery whose endpoint was disabled before its next attempt:
    /// `failed`, nothing more due (only while that attempt is still the
    /// next one and none runs). A first attempt has no log entry to end.
    pub async fn abandon_delivery(&self, job: &Job) -> Result<()> {
        if job.attempt <= 1 {
            return Ok(());
        }
        let set = Expr::new("SET #status = :failed REMOVE #next")
            .name("#status", attr::STATUS)
            .name("#next", attr::NEXT_ATTEMPT_AT)
            .value(":failed", s(DeliveryStatus::Failed.as_str()));
        let waiting = Expr::new(
            "#status = :pending AND #attempts = :previous AND attribute_not_exists(#lease)",
        )
        .name("#status", attr::STATUS)
        .name("#attempts", attr::ATTEMPTS)
        .name("#lease", attr::LEASE_UNTIL)
        .value(":pending", s(DeliveryStatus::Pending.as_str()))
        .value(":previous", n(job.attempt - 1));
        let key = delivery_key(&job.webhook_id, &job.event_id);
        self.update_one(expr::update(&self.table, key, set, waiting)?).await.map(drop)
    }

    /// One delivery of an endpoint, strongly consistent.
    pub async fn delivery(
        &self,
        webhook_id: &str,
        event_id: &str,
    ) -> Result<Option<(Delivery, bool)>> {
        let item = self.get(delivery_key(webhook_id, event_id), true).await?;
        item.map(|item| {
            let leased = item.contains_key(attr::LEASE_UNTIL);
            Ok((from_item(item)?, leased))
        })
        .transpose()
    }

    /// Makes a delivery due now again (an admin's retry), unless an attempt
    /// of it is running or it moved on since it was read. `false`: try again.
    pub async fn reopen_delivery(&self, d: &Delivery, now: DateTime<Utc>) -> Result<bool> {
        let set = Expr::new("SET #status = :pending, #next = :now")
            .name("#status", attr::STATUS)
            .name("#next", attr::NEXT_ATTEMPT_AT)
            .value(":pending", s(DeliveryStatus::Pending.as_str()))
            .value(":now", time(now));
        let unchanged = Expr::new("#attempts = :n AND attribute_not_exists(#lease)")
            .name("#attempts", attr::ATTEMPTS)
            .name("#lease", attr::LEASE_UNTIL)
            .value(":n", n(d.attempts));
        let key = delivery_key(&d.webhook_id, &d.event_id);
        self.update_one(expr::update(&self.table, key, set, unchanged)?).await
    }

    /// A page of an endpoint's delivery log, newest first, after the event
    /// id `after` (the previous page's last), of `status` if given.
    pub async fn deliveries(
        &self,
        webhook_id: &str,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DeliveryPage> {
        let mut range = KeyRange::table(keys::deliveries(webhook_id));
        range = match after {
            Some(after) => range.before(keys::delivery(after)),
            None => range.begins_with(keys::DELIVERY_PREFIX),
        };
        let mut query = self.query(range).scan_index_forward(false);
        if let Some(status) = status {
            // Filtered pages may come back short: read on until the page is
            // full or the log ends.
            query = query
                .filter_expression("#status = :wanted")
                .expression_attribute_names("#status", attr::STATUS)
                .expression_attribute_values(":wanted", s(status.as_str()));
        }
        let mut page = DeliveryPage::default();
        let mut start: Option<Item> = None;
        loop {
            let out = query
                .clone()
                .limit((limit + 1).max(25) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk)?;
            for item in out.items.unwrap_or_default() {
                if page.deliveries.len() == limit {
                    page.next = page.deliveries.last().map(|d| d.event_id.clone());
                    return Ok(page);
                }
                page.deliveries.push(from_item::<Delivery>(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(page);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_item_is_its_record() {
        let w = Webhook {
            webhook_id: "wh_1".into(),
            customer_id: "cust-1".into(),
            url: "https://hooks.example.com/in".into(),
            events: vec!["*".into()],
            description: None,
            enabled: true,
            created_at: "2026-12-01T00:00:00Z".parse().unwrap(),
            disabled_reason: None,
            disabled_at: None,
            secrets: vec![],
            slots: Default::default(),
            failing_since: None,
        };
        let item = record_item(&w).unwrap();
        assert_eq!(item[keys::SK], s("WEBHOOK#wh_1"));
        assert!(item.contains_key(attr::SLOTS), "the slot map exists for `SET slots.n`");
        assert_eq!(from_item::<Webhook>(item).unwrap(), w);
        let log = delivery_key("wh_1", "evt_1");
        assert_eq!((&log[keys::PK], &log[keys::SK]), (&s("WEBHOOK#wh_1"), &s("DELIVERY#evt_1")));
    }
}
