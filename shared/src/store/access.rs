//! How the store talks to DynamoDB, for every record family: one item by
//! key, items by key (BatchGetItem in parallel chunks of 100), and every
//! Query by its key range ([`KeyRange`]), page after page.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::expr::KeyRange;
use super::{Item, Store, sdk};
use crate::error::{Error, Result};

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

    /// A Query of one key range (of the table or an index).
    pub(super) fn query(&self, range: KeyRange) -> QueryFluentBuilder {
        let KeyRange { index, condition, .. } = range;
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression(condition.text)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(Some(condition.values))
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
