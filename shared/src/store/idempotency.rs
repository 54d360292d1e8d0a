//! Records of `Idempotency-Key`s: claimed before a request runs, completed
//! with its response, kept 24 hours (DynamoDB TTL on `expiresAt`).

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use super::expr::{self, Expr};
use super::items::idempotency_key;
use super::keys::{self, attr, kind};
use super::{Item, Store, applied, n, s, sdk};
use crate::error::{Error, Result};

pub const KEEP_SECONDS: i64 = 24 * 3600;
/// The longest a claim can hold a key: API Gateway's 30 s integration
/// timeout. A request that knows its invocation's deadline (in Lambda, 10 s;
/// infra/template.yaml) lets its claim go stale then instead.
pub const STALE_CLAIM_SECONDS: i64 = 30;
/// Responses are stored in parts below DynamoDB's 400 KB item limit.
const PART_BYTES: usize = 300 * 1024;
const RUNNING: &str = "running";
const DONE: &str = "done";

/// What a claim found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then `complete` or `release`.
    Started,
    /// The same request ran before: its response.
    Replay { status: u16, body: String },
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key is still running (or died): retry
    /// after this many seconds, when its claim would go stale.
    InProgress { retry_after: u32 },
}

fn num(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// The record of a key, before its own attributes.
fn record(customer_id: &str, key: &str, fingerprint: &str, state: &str, now: i64) -> Item {
    let mut item = idempotency_key(customer_id, key, keys::IDEMPOTENCY_SK.into());
    item.insert(attr::FINGERPRINT.into(), s(fingerprint));
    item.insert(attr::STATE.into(), s(state));
    item.insert(attr::EXPIRES_AT.into(), n(now + KEEP_SECONDS));
    item.insert(keys::TYPE.into(), s(kind::IDEMPOTENCY));
    item
}

/// `body` cut into parts below the item size limit, on character boundaries.
fn parts(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let mut cut = rest.len().min(PART_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        parts.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    parts
}

impl Store {
    /// Claims `key` for a request with this fingerprint at `now` (epoch
    /// seconds), until `stale_at`: the latest moment the claiming request can
    /// still be running (its invocation's deadline). A claim past it belongs to
    /// a request that died, or that answered 503 and could not give the key
    /// back because DynamoDB was gone; the next request takes it over.
    pub async fn claim_idempotency(
        &self,
        customer_id: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        stale_at: i64,
    ) -> Result<Claim> {
        let mut item = record(customer_id, key, fingerprint, RUNNING, now);
        item.insert(attr::STARTED_AT.into(), n(now));
        item.insert(attr::STALE_AT.into(), n(stale_at));
        let free = Expr::new(
            "attribute_not_exists(#pk) OR #expires_at < :now OR (#state = :running AND #stale_at < :now)",
        )
        .name("#pk", keys::PK)
        .name("#expires_at", attr::EXPIRES_AT)
        .name("#state", attr::STATE)
        .name("#stale_at", attr::STALE_AT)
        .value(":now", n(now))
        .value(":running", s(RUNNING));
        let put = expr::put(&self.table, item, Some(free))?;
        let claimed = self
            .client
            .put_item()
            .table_name(put.table_name())
            .set_item(Some(put.item().clone()))
            .set_condition_expression(put.condition_expression().map(str::to_string))
            .set_expression_attribute_names(put.expression_attribute_names().cloned())
            .set_expression_attribute_values(put.expression_attribute_values().cloned())
            .send()
            .await;
        if applied(claimed)? {
            return Ok(Claim::Started);
        }
        let key_item = idempotency_key(customer_id, key, keys::IDEMPOTENCY_SK.into());
        let existing = self
            .get(key_item, true)
            .await?
            .ok_or_else(|| Error::Unavailable("idempotency record vanished".into()))?;
        if text(&existing, attr::FINGERPRINT) != Some(fingerprint) {
            return Ok(Claim::Mismatch);
        }
        if text(&existing, attr::STATE) != Some(DONE) {
            let stale_at = num(&existing, attr::STALE_AT).unwrap_or(now);
            let left = (stale_at + 1 - now).clamp(1, STALE_CLAIM_SECONDS);
            return Ok(Claim::InProgress { retry_after: left as u32 });
        }
        let status = num(&existing, attr::STATUS).unwrap_or(200) as u16;
        let body = match num(&existing, attr::PARTS).unwrap_or(0) as usize {
            0 => text(&existing, attr::BODY).unwrap_or_default().to_string(),
            count => self.stored_parts(customer_id, key, count).await?,
        };
        Ok(Claim::Replay { status, body })
    }

    async fn stored_parts(&self, customer_id: &str, key: &str, count: usize) -> Result<String> {
        let keys = (0..count)
            .map(|i| idempotency_key(customer_id, key, keys::idempotency_part(i)))
            .collect();
        let mut found: Vec<(String, String)> = self
            .batch_get(keys, true)
            .await?
            .iter()
            .filter_map(|i| {
                Some((text(i, keys::SK)?.to_string(), text(i, attr::BODY)?.to_string()))
            })
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, b)| b).collect())
    }

    /// Stores the response of a claimed key.
    pub async fn complete_idempotency(
        &self,
        customer_id: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        status: u16,
        body: &str,
    ) -> Result<()> {
        let mut item = record(customer_id, key, fingerprint, DONE, now);
        item.insert(attr::STATUS.into(), n(status));
        if body.len() <= PART_BYTES {
            item.insert(attr::BODY.into(), s(body));
        } else {
            let parts = parts(body);
            item.insert(attr::PARTS.into(), n(parts.len()));
            self.store_parts(customer_id, key, now, &parts).await?;
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }

    async fn store_parts(
        &self,
        customer_id: &str,
        key: &str,
        now: i64,
        parts: &[&str],
    ) -> Result<()> {
        let writes: Vec<WriteRequest> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let mut p = idempotency_key(customer_id, key, keys::idempotency_part(i));
                p.insert(attr::BODY.into(), s(*part));
                p.insert(attr::EXPIRES_AT.into(), n(now + KEEP_SECONDS));
                let put =
                    PutRequest::builder().set_item(Some(p)).build().map_err(Error::unavailable)?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_>>()?;
        for chunk in writes.chunks(25) {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, chunk.to_vec())
                .send()
                .await
                .map_err(sdk)?;
            if out.unprocessed_items.is_some_and(|u| u.values().any(|v| !v.is_empty())) {
                return Err(Error::Unavailable("idempotency parts left unprocessed".into()));
            }
        }
        Ok(())
    }

    /// Gives a claimed key back (the request failed in a way worth retrying).
    pub async fn release_idempotency(&self, customer_id: &str, key: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(idempotency_key(customer_id, key, keys::IDEMPOTENCY_SK.into())))
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_bodies_are_cut_on_character_boundaries() {
        let body = "ä".repeat(PART_BYTES);
        let cut = parts(&body);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut.concat(), body);
        assert!(cut.iter().all(|p| p.len() <= PART_BYTES));
    }
}
