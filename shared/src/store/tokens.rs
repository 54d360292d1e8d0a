//! Provisioning tokens: each token's record in its customer's partition
//! (listed with one Query, with the version of the customer's set of tokens
//! beside them), and, while it is usable, the item under its digest that
//! finds it when a machine presents it (one strongly consistent GetItem, so
//! a revocation holds from the next request on). The secret itself is never
//! stored.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use chrono::{DateTime, Days, NaiveDate, Utc};

use super::expr::{self, Expr, KeyRange};
use super::items::{self, from_item, key, to_item};
use super::keys::{self, attr, kind};
use super::{Item, Store, TxError, n, s};
use crate::error::{Error, Result};
use crate::model::{Scope, Token};

/// A customer's tokens, and the version of their set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenSet {
    pub tokens: Vec<Token>,
    pub version: u64,
}

/// What the item under a presented token's digest says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    pub customer_id: String,
    pub token_id: String,
    pub scopes: Vec<Scope>,
    pub last_day: NaiveDate,
    /// The minute of its last recorded use (RFC 3339), if any.
    pub last_used: Option<String>,
}

impl Presented {
    /// Whether a use at `at` is recorded already (this minute's).
    pub fn used_in_minute_of(&self, at: DateTime<Utc>) -> bool {
        self.last_used.as_deref() == Some(minute(at).as_str())
    }
}

fn record_key(customer_id: &str, token_id: &str) -> Item {
    key(keys::customer(customer_id), keys::token(token_id))
}

fn digest_key(digest: &str) -> Item {
    key(keys::token_digest(digest), keys::TOKEN_DIGEST_SK.into())
}

fn set_key(customer_id: &str) -> Item {
    key(keys::customer(customer_id), keys::TOKEN_SET_SK.into())
}

fn record_item(token: &Token) -> Result<Item> {
    let mut item = to_item(token)?;
    item.extend(record_key(&token.customer_id, &token.token_id));
    item.insert(keys::TYPE.into(), s(kind::TOKEN));
    Ok(item)
}

/// The item that finds a token by its digest; DynamoDB's TTL removes it a
/// day after the token's last day.
fn digest_item(token: &Token) -> Result<Item> {
    let mut item = digest_key(&token.digest);
    let gone = token.expires_at + Days::new(2);
    let gone = gone.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp();
    item.extend([
        (keys::TYPE.to_string(), s(kind::TOKEN_DIGEST)),
        (attr::CUSTOMER_ID.to_string(), s(&token.customer_id)),
        (attr::TOKEN_ID.to_string(), s(&token.token_id)),
        (attr::SCOPES.to_string(), items::value(&token.scopes)?),
        (attr::LAST_DAY.to_string(), s(token.expires_at.to_string())),
        (attr::EXPIRES_AT.to_string(), n(gone)),
    ]);
    Ok(item)
}

fn presented(item: Item) -> Option<Presented> {
    let text = |name: &str| Some(item.get(name)?.as_s().ok()?.clone());
    let scopes = item.get(attr::SCOPES)?.as_l().ok()?;
    Some(Presented {
        customer_id: text(attr::CUSTOMER_ID)?,
        token_id: text(attr::TOKEN_ID)?,
        scopes: scopes.iter().filter_map(|v| Scope::parse(v.as_s().ok()?)).collect(),
        last_day: text(attr::LAST_DAY)?.parse().ok()?,
        last_used: text(attr::LAST_USED_AT),
    })
}

fn minute(at: DateTime<Utc>) -> String {
    let start = at.timestamp() - at.timestamp().rem_euclid(60);
    expr::timestamp(DateTime::from_timestamp(start, 0).unwrap_or(at))
}

impl Store {
    /// Every token of a customer and the version of the set, strongly
    /// consistent (one Query: the set's item sorts beside the tokens).
    pub async fn tokens(&self, customer_id: &str) -> Result<TokenSet> {
        let range = KeyRange::table(keys::customer(customer_id)).begins_with(keys::TOKENS_PREFIX);
        let mut set = TokenSet::default();
        for item in self.query_all(self.query(range).consistent_read(true)).await? {
            match item.get(keys::TYPE).and_then(|t| t.as_s().ok()).map(String::as_str) {
                Some(kind::TOKEN) => set.tokens.push(from_item(item)?),
                Some(kind::TOKEN_SET) => {
                    let version = item.get(attr::VERSION).and_then(|v| v.as_n().ok());
                    set.version = version.and_then(|v| v.parse().ok()).unwrap_or(0);
                }
                _ => {}
            }
        }
        Ok(set)
    }

    /// One token of a customer, strongly consistent.
    pub async fn token(&self, customer_id: &str, token_id: &str) -> Result<Option<Token>> {
        self.get(record_key(customer_id, token_id), true).await?.map(from_item).transpose()
    }

    /// Stores a new token: its record, its digest's item, and the set's
    /// next version, only if the set is still at `version` (so two
    /// creations that both counted nine cannot both pass the limit).
    pub async fn create_token(&self, token: &Token, version: u64) -> Result<(), TxError> {
        let table = &self.table;
        let absent = || Some(Expr::item_absent());
        let next = Expr::new("SET #version = :next, #type = :set")
            .name("#version", attr::VERSION)
            .name("#type", keys::TYPE)
            .value(":next", n(version + 1))
            .value(":set", s(kind::TOKEN_SET));
        let unchanged = if version == 0 {
            Expr::new("attribute_not_exists(#version)").name("#version", attr::VERSION)
        } else {
            Expr::version_is(version)
        };
        let items = vec![
            TransactWriteItem::builder().put(expr::put(table, record_item(token)?, absent())?),
            TransactWriteItem::builder().put(expr::put(table, digest_item(token)?, absent())?),
            TransactWriteItem::builder().update(expr::update(
                table,
                set_key(&token.customer_id),
                next,
                unchanged,
            )?),
        ];
        self.transact_items(items.into_iter().map(|i| i.build()).collect()).await
    }

    /// Revokes a token: its record says who and when, and its digest's item
    /// is gone, in one transaction. `false`: it was revoked already.
    pub async fn revoke_token(&self, token: &Token, at: DateTime<Utc>, by: &str) -> Result<bool> {
        let table = &self.table;
        let update = Expr::new("SET #at = :at, #by = :by")
            .name("#at", attr::REVOKED_AT)
            .name("#by", attr::REVOKED_BY)
            .value(":at", s(expr::timestamp(at)))
            .value(":by", s(by));
        let not_yet = Expr::item_exists()
            .and(Expr::new("attribute_not_exists(#at)").name("#at", attr::REVOKED_AT));
        let key = record_key(&token.customer_id, &token.token_id);
        let items = vec![
            TransactWriteItem::builder().update(expr::update(table, key, update, not_yet)?).build(),
            TransactWriteItem::builder()
                .delete(expr::delete(table, digest_key(&token.digest), None)?)
                .build(),
        ];
        match self.transact_items(items).await {
            Ok(()) => Ok(true),
            Err(TxError::Condition(_)) => Ok(false),
            Err(TxError::Busy) => Err(Error::Unavailable("token revocation conflicted".into())),
            Err(TxError::Failed(e)) => Err(e),
        }
    }

    /// The token presented under `digest`, while it is usable (revoked ones
    /// have no such item), read strongly consistently.
    pub async fn token_by_digest(&self, digest: &str) -> Result<Option<Presented>> {
        Ok(self.get(digest_key(digest), true).await?.and_then(presented))
    }

    /// Records that the token `p` was used at `at`, to the minute, on its
    /// record (what the list shows) and on its digest's item (what the next
    /// use reads, so that it writes nothing within the same minute). One
    /// transaction; a use recorded for this minute by another request
    /// meanwhile changes nothing.
    pub async fn touch_token(&self, p: &Presented, digest: &str, at: DateTime<Utc>) -> Result<()> {
        let minute = minute(at);
        let update = || {
            Expr::new("SET #used = :minute")
                .name("#used", attr::LAST_USED_AT)
                .value(":minute", AttributeValue::S(minute.clone()))
        };
        let older = || {
            Expr::item_exists().and(
                Expr::new("attribute_not_exists(#used) OR #used < :minute")
                    .name("#used", attr::LAST_USED_AT)
                    .value(":minute", AttributeValue::S(minute.clone())),
            )
        };
        let record = record_key(&p.customer_id, &p.token_id);
        let items = [record, digest_key(digest)]
            .into_iter()
            .map(|key| {
                Ok(TransactWriteItem::builder()
                    .update(expr::update(&self.table, key, update(), older())?)
                    .build())
            })
            .collect::<Result<Vec<_>>>()?;
        match self.transact_items(items).await {
            Ok(()) | Err(TxError::Condition(_)) | Err(TxError::Busy) => Ok(()),
            Err(TxError::Failed(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_use_is_kept_to_the_minute() {
        let at = "2026-12-06T21:05:42.5Z".parse().unwrap();
        assert_eq!(minute(at), "2026-12-06T21:05:00Z");
    }
}
