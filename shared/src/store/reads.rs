//! Reads: by key (GetItem, BatchGetItem in parallel chunks of 100) and by
//! key range (one pager for every Query), mapped to entities.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::items::{self, from_item};
use super::keys::{self, attr};
use super::{Item, Store, s, sdk};
use crate::error::{Error, Result};
use crate::model::{Assignment, License};

const MAX_BATCH_GET_KEYS: usize = 100;

impl Store {
    /// One item by key.
    pub(super) async fn get(&self, key: Item, consistent: bool) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(sdk)?;
        Ok(out.item)
    }

    /// The licences whose pending operation started before `before`, as
    /// GSI1 finds them (eventually consistent: read each again).
    pub async fn stalled_operations(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, String)>> {
        let query = self.index_range(
            keys::GSI1,
            keys::PENDING_OPERATIONS,
            "<",
            super::expr::timestamp(before),
        );
        let text = |item: &Item, name: &str| Some(item.get(name)?.as_s().ok()?.clone());
        Ok(self
            .query_all(query)
            .await?
            .iter()
            .filter_map(|item| {
                Some((text(item, attr::CUSTOMER_ID)?, text(item, attr::LICENSE_ID)?))
            })
            .collect())
    }

    /// A Query of one partition of `index` (GSI1 or GSI2) whose sort keys
    /// compare to `bound` by `op` (`<`, `<=`, …).
    pub(super) fn index_range(
        &self,
        index: &str,
        pk: &str,
        op: &str,
        bound: String,
    ) -> QueryFluentBuilder {
        let (pk_name, sk_name) = if index == keys::GSI1 {
            (keys::GSI1PK, keys::GSI1SK)
        } else {
            (keys::GSI2PK, keys::GSI2SK)
        };
        self.client
            .query()
            .index_name(index)
            .key_condition_expression(format!("#pk = :pk AND #sk {op} :bound"))
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#sk", sk_name)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":bound", s(bound))
    }

    /// Every item a Query finds, page after page (more than one page only
    /// beyond 1 MB of items).
    pub(super) async fn query_all(&self, query: QueryFluentBuilder) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = query
                .clone()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk)?;
            found.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// A Query of one partition's items whose sort key starts with `prefix`.
    pub(super) fn query_prefix(&self, pk: String, prefix: String) -> QueryFluentBuilder {
        self.client
            .query()
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// Items by key, in parallel BatchGetItem calls of 100 keys.
    pub(super) async fn batch_get(&self, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>> {
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in keys.chunks(MAX_BATCH_GET_KEYS) {
            let (client, table, chunk) = (self.client.clone(), self.table.clone(), chunk.to_vec());
            tasks.spawn(async move { batch_get_chunk(&client, &table, chunk, consistent).await });
        }
        let mut items = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            items.extend(joined.map_err(Error::unavailable)??);
        }
        Ok(items)
    }

    /// One licence, read strongly consistently.
    pub async fn license(&self, customer_id: &str, license_id: &str) -> Result<Option<License>> {
        let key = items::license_key(customer_id, license_id);
        self.get(key, true).await?.map(from_item).transpose()
    }

    /// Every licence of a customer (one Query; it never reads assignments).
    pub async fn licenses(&self, customer_id: &str) -> Result<Vec<License>> {
        let query = self.query_prefix(keys::customer(customer_id), keys::LICENSE_PREFIX.into());
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// The ids of a customer's licences of `product_id`, read strongly
    /// consistently (filtered and projected to the id, so the answer is small).
    pub async fn license_ids_of_product(
        &self,
        customer_id: &str,
        product_id: &str,
    ) -> Result<Vec<String>> {
        let query = self
            .query_prefix(keys::customer(customer_id), keys::LICENSE_PREFIX.into())
            .filter_expression("#product = :product")
            .projection_expression("#id")
            .expression_attribute_names("#product", attr::PRODUCT_ID)
            .expression_attribute_names("#id", attr::LICENSE_ID)
            .expression_attribute_values(":product", s(product_id))
            .consistent_read(true);
        Ok(self
            .query_all(query)
            .await?
            .into_iter()
            .filter_map(|item| item.get(attr::LICENSE_ID)?.as_s().ok().cloned())
            .collect())
    }

    /// One page of a licence's assignments in e-mail order, after `after`.
    /// Returns the items and whether DynamoDB has more.
    pub async fn assignments_page(
        &self,
        customer_id: &str,
        license_id: &str,
        after: Option<&str>,
        limit: Option<i32>,
    ) -> Result<(Vec<Assignment>, bool)> {
        let start = after.map(|email| items::assignment_key(customer_id, license_id, email));
        let out = self
            .query_prefix(keys::customer(customer_id), keys::assignments_of(license_id))
            .table_name(&self.table)
            .set_exclusive_start_key(start)
            .set_limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        let found = out.items.unwrap_or_default().into_iter().map(from_item);
        Ok((found.collect::<Result<_>>()?, out.last_evaluated_key.is_some()))
    }

    /// A user's assignments across all customers (GSI1, eventually consistent).
    pub async fn assignments_of_user(&self, email: &str) -> Result<Vec<Assignment>> {
        let query = self
            .client
            .query()
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_values(":pk", s(keys::user(email)));
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// A licence and the assignments of `emails` on it, as a writer decides
    /// on them: the licence first (GetItem), then the items (BatchGetItem,
    /// strongly consistent), so that a commit conditioned on the licence's
    /// version also stands for the items. Every write that changes an
    /// assignment's seat changes the licence's version in the same
    /// transaction, or comes after a pending marker did; so an item newer
    /// than the licence read fails the commit, and none can be older. (One
    /// BatchGetItem of both is read-committed per item: it could pair a
    /// licence after a transaction with an assignment from before it, and
    /// the commit would not notice.)
    pub async fn license_and_assignments(
        &self,
        customer_id: &str,
        license_id: &str,
        emails: &[String],
    ) -> Result<(Option<License>, HashMap<String, Assignment>)> {
        let license = self.license(customer_id, license_id).await?;
        let mut assignments = HashMap::new();
        if license.is_none() || emails.is_empty() {
            return Ok((license, assignments));
        }
        let keys = emails.iter().map(|e| items::assignment_key(customer_id, license_id, e));
        for item in self.batch_get(keys.collect(), true).await? {
            let a: Assignment = from_item(item)?;
            assignments.insert(a.email.clone(), a);
        }
        Ok((license, assignments))
    }

    /// The assignments of `email` on each of `license_ids` (one customer's),
    /// read strongly consistently.
    pub async fn assignments_of(
        &self,
        customer_id: &str,
        license_ids: &[String],
        email: &str,
    ) -> Result<Vec<Assignment>> {
        let keys =
            license_ids.iter().map(|l| items::assignment_key(customer_id, l, email)).collect();
        self.batch_get(keys, true).await?.into_iter().map(from_item).collect()
    }

    /// Licences by (customer, licence id), eventually consistent.
    pub async fn licenses_by_id(&self, ids: &[(String, String)]) -> Result<Vec<License>> {
        let keys = ids.iter().map(|(c, l)| items::license_key(c, l)).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }
}

async fn batch_get_chunk(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
    consistent: bool,
) -> Result<Vec<Item>> {
    let mut request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(consistent)
        .build()
        .map_err(Error::unavailable)?;
    let mut items = Vec::new();
    for attempt in 0u32.. {
        let out =
            client.batch_get_item().request_items(table, request).send().await.map_err(sdk)?;
        if let Some(mut responses) = out.responses {
            items.extend(responses.remove(table).unwrap_or_default());
        }
        match out.unprocessed_keys.and_then(|mut u| u.remove(table)) {
            Some(rest) if !rest.keys.is_empty() => {
                if attempt >= 8 {
                    return Err(Error::Unavailable("BatchGetItem left keys unprocessed".into()));
                }
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
                request = rest;
            }
            _ => return Ok(items),
        }
    }
    unreachable!("the loop returns")
}
