//! The group rule's records of a licence (v3, `model::rule`): who waits,
//! in order; who is out of the rules; and the parts of a rule's run still
//! to write, each one transaction's worth. All in the customer's
//! partition, beside the licence; every write that changes them goes with
//! the licence's own (its version, or its pending run).

use aws_sdk_dynamodb::types::builders::TransactWriteItemBuilder;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use serde::{Deserialize, Serialize};

use super::expr::{self, Expr, KeyRange};
use super::items::{from_item, key, to_item};
use super::keys::{self, attr, kind};
use super::{Item, Store, Write, n, s, sdk};
use crate::error::{Error, Result};
use crate::model::{Exclusion, RuleWork, WaitingEntry};

/// How long a part of a run, or a person taken off a waiting list, is kept:
/// a run is done within minutes, and readers of a licence older than a day
/// do not exist.
const KEEP_SECONDS: i64 = 86_400;

/// A part of a rule's run, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct Part {
    work: Vec<RuleWork>,
}

fn waiting_key(e: &WaitingEntry) -> Item {
    key(keys::customer(&e.customer_id), keys::waiting(&e.license_id, e.seq))
}

fn exclusion_key(customer_id: &str, license_id: &str, email: &str) -> Item {
    key(keys::customer(customer_id), keys::exclusion(license_id, email))
}

fn part_key(customer_id: &str, license_id: &str, op: &str, part: u32) -> Item {
    key(keys::customer(customer_id), keys::rule_part(license_id, op, part))
}

fn typed<T: Serialize>(value: &T, key: Item, kind: &str) -> Result<Item> {
    let mut item = to_item(value)?;
    item.extend(key);
    item.insert(keys::TYPE.into(), s(kind));
    Ok(item)
}

impl Store {
    /// Everyone on a licence's waiting list, taken off lately or not, in
    /// order; strongly consistent.
    pub async fn waiting_entries(
        &self,
        customer_id: &str,
        license_id: &str,
    ) -> Result<Vec<WaitingEntry>> {
        let range =
            KeyRange::table(keys::customer(customer_id)).begins_with(keys::waiting_of(license_id));
        let query = self.query(range).consistent_read(true);
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// Who is out of a licence's rules; strongly consistent.
    pub async fn exclusions(&self, customer_id: &str, license_id: &str) -> Result<Vec<Exclusion>> {
        let range = KeyRange::table(keys::customer(customer_id))
            .begins_with(keys::exclusions_of(license_id));
        let query = self.query(range).consistent_read(true);
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// Stores the parts of a run `op` of a licence before its marker
    /// commits (a run that never commits leaves them to expire).
    pub async fn put_rule_parts(
        &self,
        customer_id: &str,
        license_id: &str,
        op: &str,
        parts: &[Vec<RuleWork>],
        now: i64,
    ) -> Result<()> {
        let writes: Vec<WriteRequest> = parts
            .iter()
            .enumerate()
            .map(|(i, work)| {
                let key = part_key(customer_id, license_id, op, i as u32);
                let mut item = typed(&Part { work: work.clone() }, key, kind::RULE_PART)?;
                item.insert(attr::EXPIRES_AT.into(), n(now + KEEP_SECONDS));
                let put = PutRequest::builder().set_item(Some(item)).build();
                Ok(WriteRequest::builder().put_request(put.map_err(Error::unavailable)?).build())
            })
            .collect::<Result<_>>()?;
        for chunk in writes.chunks(25) {
            let mut request = chunk.to_vec();
            for attempt in 0u32.. {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(sdk)?;
                match out.unprocessed_items.and_then(|mut u| u.remove(&self.table)) {
                    Some(rest) if !rest.is_empty() => {
                        if attempt >= 8 {
                            return Err(Error::Unavailable("rule parts left unprocessed".into()));
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
                        request = rest;
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// The parts of run `op` still to write, in order; strongly consistent.
    pub async fn rule_parts(
        &self,
        customer_id: &str,
        license_id: &str,
        op: &str,
    ) -> Result<Vec<(u32, Vec<RuleWork>)>> {
        let prefix = keys::rule_parts_of(license_id, op);
        let range = KeyRange::table(keys::customer(customer_id)).begins_with(&prefix);
        let query = self.query(range).consistent_read(true);
        let mut parts = Vec::new();
        for item in self.query_all(query).await? {
            let sk = item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let number = sk.strip_prefix(&prefix).and_then(|n| n.parse().ok());
            let part: Part = from_item(item)?;
            parts.push((number.unwrap_or_default(), part.work));
        }
        Ok(parts)
    }

    pub(super) fn rule_write(
        &self,
        item: TransactWriteItemBuilder,
        write: &Write,
    ) -> Result<TransactWriteItemBuilder> {
        let table = &self.table;
        Ok(match write {
            Write::Waiting(entry) => {
                let mut stored = typed(entry, waiting_key(entry), kind::WAITING)?;
                if entry.gone.is_some() {
                    stored.insert(
                        attr::EXPIRES_AT.into(),
                        n(entry.since.timestamp().max(chrono::Utc::now().timestamp())
                            + KEEP_SECONDS),
                    );
                }
                item.put(expr::put(table, stored, None)?)
            }
            Write::Exclude(x) => {
                let key = exclusion_key(&x.customer_id, &x.license_id, &x.email);
                item.put(expr::put(table, typed(x, key, kind::EXCLUSION)?, None)?)
            }
            Write::Readmit { customer_id, license_id, email } => {
                let key = exclusion_key(customer_id, license_id, email);
                item.delete(expr::delete(table, key, None)?)
            }
            Write::PartDone { customer_id, license_id, op, part } => {
                let key = part_key(customer_id, license_id, op, *part);
                item.delete(expr::delete(table, key, Some(Expr::item_exists()))?)
            }
            other => unreachable!("transact_item sends only rule writes here: {other:?}"),
        })
    }
}
