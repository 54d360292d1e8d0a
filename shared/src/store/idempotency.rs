//! Records of `Idempotency-Key`s: claimed before a request runs, completed
//! with its response, kept 24 hours (DynamoDB TTL on `expiresAt`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};

use super::{keys, s, sdk, Item, Store};
use crate::error::{Error, Result};

pub const KEEP_SECONDS: i64 = 24 * 3600;
/// The longest a claim can hold a key: API Gateway's 30 s integration
/// timeout. A request that knows its invocation's deadline (in Lambda, 10 s;
/// infra/template.yaml) lets its claim go stale then instead.
pub const STALE_CLAIM_SECONDS: i64 = 30;
/// Responses are stored in parts below DynamoDB's 400 KB item limit.
const PART_BYTES: usize = 300 * 1024;

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

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn num(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

impl Store {
    fn idempotency_key(customer_id: &str, key: &str, sk: String) -> Item {
        HashMap::from([
            (keys::PK.into(), s(keys::idempotency(customer_id, key))),
            (keys::SK.into(), s(sk)),
        ])
    }

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
        let mut item = Self::idempotency_key(customer_id, key, keys::IDEMPOTENCY_SK.into());
        item.insert("fingerprint".into(), s(fingerprint));
        item.insert("state".into(), s("running"));
        item.insert("startedAt".into(), n(now));
        item.insert("staleAt".into(), n(stale_at));
        item.insert("expiresAt".into(), n(now + KEEP_SECONDS));
        item.insert(keys::TYPE.into(), s("Idempotency"));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(#pk) OR expiresAt < :now OR (#state = :running AND staleAt < :now)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":running", s("running"))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Claim::Started),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(sdk(e)),
        }
        let existing = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::idempotency_key(
                customer_id,
                key,
                keys::IDEMPOTENCY_SK.into(),
            )))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?
            .item
            .ok_or_else(|| Error::Unavailable("idempotency record vanished".into()))?;
        if text(&existing, "fingerprint") != Some(fingerprint) {
            return Ok(Claim::Mismatch);
        }
        if text(&existing, "state") != Some("done") {
            let stale_at = num(&existing, "staleAt").unwrap_or(now);
            let left = (stale_at + 1 - now).clamp(1, STALE_CLAIM_SECONDS);
            return Ok(Claim::InProgress {
                retry_after: left as u32,
            });
        }
        let status = num(&existing, "status").unwrap_or(200) as u16;
        let parts = num(&existing, "parts").unwrap_or(0) as usize;
        let mut body = text(&existing, "body").unwrap_or_default().to_string();
        if parts > 0 {
            let keys = (0..parts)
                .map(|i| Self::idempotency_key(customer_id, key, keys::idempotency_part(i)))
                .collect();
            let mut found: Vec<(String, String)> = self
                .batch_get(keys, true)
                .await?
                .iter()
                .filter_map(|i| {
                    Some((text(i, keys::SK)?.to_string(), text(i, "body")?.to_string()))
                })
                .collect();
            found.sort();
            body = found.into_iter().map(|(_, b)| b).collect();
        }
        Ok(Claim::Replay { status, body })
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
        let mut item = Self::idempotency_key(customer_id, key, keys::IDEMPOTENCY_SK.into());
        item.insert("fingerprint".into(), s(fingerprint));
        item.insert("state".into(), s("done"));
        item.insert("status".into(), n(i64::from(status)));
        item.insert("expiresAt".into(), n(now + KEEP_SECONDS));
        item.insert(keys::TYPE.into(), s("Idempotency"));
        if body.len() <= PART_BYTES {
            item.insert("body".into(), s(body));
        } else {
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
            item.insert("parts".into(), n(parts.len() as i64));
            let writes: Vec<WriteRequest> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    let mut p = Self::idempotency_key(customer_id, key, keys::idempotency_part(i));
                    p.insert("body".into(), s(*part));
                    p.insert("expiresAt".into(), n(now + KEEP_SECONDS));
                    let put = PutRequest::builder()
                        .set_item(Some(p))
                        .build()
                        .map_err(Error::unavailable)?;
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
                if out
                    .unprocessed_items
                    .is_some_and(|u| u.values().any(|v| !v.is_empty()))
                {
                    return Err(Error::Unavailable(
                        "idempotency parts left unprocessed".into(),
                    ));
                }
            }
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

    /// Gives a claimed key back (the request failed in a way worth retrying).
    pub async fn release_idempotency(&self, customer_id: &str, key: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::idempotency_key(
                customer_id,
                key,
                keys::IDEMPOTENCY_SK.into(),
            )))
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }
}
