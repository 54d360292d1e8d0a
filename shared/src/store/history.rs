//! Reads of a licence's history, and of all its assignments.

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{self, from_item};
use super::keys;
use super::{Item, Store, s, sdk};
use crate::error::Result;
use crate::model::{Assignment, Entry};

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
        let query = self.client.query().table_name(&self.table).scan_index_forward(false);
        let query = match q.email {
            None => {
                let start =
                    q.before.as_deref().map(|id| items::entry_key(q.customer_id, q.license_id, id));
                query
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#pk", keys::PK)
                    .expression_attribute_names("#sk", keys::SK)
                    .expression_attribute_values(":pk", s(keys::customer(q.customer_id)))
                    .expression_attribute_values(":prefix", s(keys::history_of(q.license_id)))
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
            }
            Some(email) => {
                let partition = keys::history_of_email(q.customer_id, q.license_id, email);
                let start = q.before.as_deref().map(|id| {
                    let mut key: Item = items::entry_key(q.customer_id, q.license_id, id);
                    key.insert(keys::GSI1PK.into(), s(&partition));
                    key.insert(keys::GSI1SK.into(), AttributeValue::S(id.to_string()));
                    key
                });
                query
                    .index_name(keys::GSI1)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", keys::GSI1PK)
                    .expression_attribute_values(":pk", s(partition))
                    .set_exclusive_start_key(start)
            }
        };
        let out = query.limit(q.limit).send().await.map_err(sdk)?;
        let found = out.items.unwrap_or_default().into_iter().map(from_item);
        Ok((found.collect::<Result<_>>()?, out.last_evaluated_key.is_some()))
    }

    /// Every assignment of a licence, read strongly consistently (a renewal
    /// or cancellation decides over all of them).
    pub async fn all_assignments(
        &self,
        customer_id: &str,
        license_id: &str,
    ) -> Result<Vec<Assignment>> {
        let query = self
            .query_prefix(keys::customer(customer_id), keys::assignments_of(license_id))
            .consistent_read(true);
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }
}
