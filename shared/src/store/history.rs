//! A licence's history: its entries, newest first, whole or of one address.

use aws_sdk_dynamodb::types::AttributeValue;

use super::expr::KeyRange;
use super::items::{self, from_item};
use super::keys;
use super::{Item, Store, s, sdk};
use crate::error::Result;
use crate::model::Entry;

/// Which entries of a licence, newest first, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryQuery<'a> {
    pub customer_id: &'a str,
    pub license_id: &'a str,
    /// Only the entries about this address.
    pub email: Option<&'a str>,
    /// The id of the entry after which (older than which) the page starts.
    pub before: Option<String>,
    pub limit: i32,
}

impl Store {
    /// One page of a licence's entries, newest first, and whether DynamoDB
    /// has more. The whole history reads the table strongly consistently;
    /// one address's entries read GSI1, which may lag a change by a moment.
    pub async fn history_page(&self, q: &HistoryQuery<'_>) -> Result<(Vec<Entry>, bool)> {
        let query = match q.email {
            None => {
                let start =
                    q.before.as_deref().map(|id| items::entry_key(q.customer_id, q.license_id, id));
                let range = KeyRange::table(keys::customer(q.customer_id))
                    .begins_with(keys::history_of(q.license_id));
                self.query(range).consistent_read(true).set_exclusive_start_key(start)
            }
            Some(email) => {
                let partition = keys::history_of_email(q.customer_id, q.license_id, email);
                let start = q.before.as_deref().map(|id| {
                    let mut key: Item = items::entry_key(q.customer_id, q.license_id, id);
                    key.insert(keys::GSI1PK.into(), s(&partition));
                    key.insert(keys::GSI1SK.into(), AttributeValue::S(id.to_string()));
                    key
                });
                self.query(KeyRange::gsi1(partition)).set_exclusive_start_key(start)
            }
        };
        let out = query.scan_index_forward(false).limit(q.limit).send().await.map_err(sdk)?;
        let found = out.items.unwrap_or_default().into_iter().map(from_item);
        Ok((found.collect::<Result<_>>()?, out.last_evaluated_key.is_some()))
    }
}
