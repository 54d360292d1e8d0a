//! The single-table DynamoDB store. Items are (de)serialised with
//! serde_dynamo; every key comes from [`keys`]. All capacity decisions read the
//! base table strongly consistently and commit with a version condition.

mod idempotency;
mod invitations;
pub mod keys;
mod table;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Assignment, Invitation, InvitationError, InvitationStatus, License, Period};
pub use idempotency::{Claim, KEEP_SECONDS, STALE_CLAIM_SECONDS};
pub use invitations::{InvitationClaim, STALE_INVITATION_CLAIM_SECONDS};
pub use table::create_table;

pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit on items in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;
const MAX_BATCH_GET_KEYS: usize = 100;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn to_item<T: Serialize>(value: &T) -> Result<Item> {
    serde_dynamo::to_item(value).map_err(Error::unavailable)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Unavailable(format!("unreadable item: {e}")))
}

fn attr<T: Serialize>(value: &T) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(Error::unavailable)
}

fn sdk<E: std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> Error {
    Error::Unavailable(format!("{e:?}"))
}

/// The provisioning record that makes `provision` idempotent on `orderId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub customer_id: String,
    pub license_id: String,
    pub buyer_assigned: bool,
}

/// One write of a transaction.
#[derive(Clone, Debug)]
pub enum Write {
    /// The whole licence item; `expected_version: None` means it must not exist yet.
    License {
        license: License,
        expected_version: Option<u64>,
    },
    /// A whole assignment item (new, or replacing a revoked or ended one).
    Assignment(Assignment),
    /// A new period for an existing assignment.
    Period {
        customer_id: String,
        license_id: String,
        email: String,
        period: Period,
    },
    /// Revokes an assignment whose invitation was read in `invitation` (the
    /// write fails if it changed meanwhile); a pending one ends `not-sent`.
    Revoke {
        customer_id: String,
        license_id: String,
        email: String,
        at: DateTime<Utc>,
        by: String,
        invitation: InvitationStatus,
    },
    /// Asks for the invitation again (a resend): pending, unclaimed, invited
    /// `at`; only if the last invitation was still the one read
    /// (`invited_before`), so that two resends cannot both pass the cooldown.
    Reinvite {
        customer_id: String,
        license_id: String,
        email: String,
        at: DateTime<Utc>,
        invited_before: Option<DateTime<Utc>>,
    },
    /// Counts `addresses` against the customer's assign budget of `limit`
    /// addresses in the window starting at `window` (epoch seconds); fails
    /// the transaction when they do not fit.
    Budget {
        customer_id: String,
        window: i64,
        addresses: u32,
        limit: u32,
    },
    /// Fails the transaction unless the licence still has this bulk batch pending.
    BatchStillPending {
        customer_id: String,
        license_id: String,
        batch_id: String,
    },
    Order(Order),
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError {
    /// A condition failed: the indexes of the writes whose condition failed.
    Condition(Vec<usize>),
    /// Another transaction touched the same items at the same time.
    Busy,
    Failed(Error),
}

impl From<Error> for TxError {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn license_key(customer_id: &str, license_id: &str) -> Item {
        HashMap::from([
            (keys::PK.into(), s(keys::customer(customer_id))),
            (keys::SK.into(), s(keys::license(license_id))),
        ])
    }

    fn assignment_key(customer_id: &str, license_id: &str, email: &str) -> Item {
        HashMap::from([
            (keys::PK.into(), s(keys::customer(customer_id))),
            (keys::SK.into(), s(keys::assignment(license_id, email))),
        ])
    }

    fn license_item(license: &License) -> Result<Item> {
        let mut item = to_item(license)?;
        item.extend(Self::license_key(&license.customer_id, &license.license_id));
        item.insert(keys::TYPE.into(), s("License"));
        Ok(item)
    }

    fn assignment_item(a: &Assignment) -> Result<Item> {
        let mut item = to_item(a)?;
        item.extend(Self::assignment_key(
            &a.customer_id,
            &a.license_id,
            &a.email,
        ));
        item.insert(keys::GSI1PK.into(), s(keys::user(&a.email)));
        item.insert(keys::GSI1SK.into(), s(keys::license(&a.license_id)));
        item.insert(keys::TYPE.into(), s("Assignment"));
        Ok(item)
    }

    /// One licence, read strongly consistently.
    pub async fn license(&self, customer_id: &str, license_id: &str) -> Result<Option<License>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::license_key(customer_id, license_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item.map(from_item).transpose()
    }

    /// Every licence of a customer (one Query; more pages only beyond 1 MB).
    pub async fn licenses(&self, customer_id: &str) -> Result<Vec<License>> {
        let mut licenses = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(keys::customer(customer_id)))
                .expression_attribute_values(":prefix", s(keys::LICENSE_PREFIX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk)?;
            for item in out.items.unwrap_or_default() {
                licenses.push(from_item(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(licenses);
            }
        }
    }

    /// The ids of a customer's licences of `product_id`, read strongly
    /// consistently (one Query of the customer's licences, filtered and
    /// projected to the id, so its answer stays small).
    pub async fn license_ids_of_product(
        &self,
        customer_id: &str,
        product_id: &str,
    ) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .filter_expression("#product = :product")
                .projection_expression("#id")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_names("#product", "productId")
                .expression_attribute_names("#id", "licenseId")
                .expression_attribute_values(":pk", s(keys::customer(customer_id)))
                .expression_attribute_values(":prefix", s(keys::LICENSE_PREFIX))
                .expression_attribute_values(":product", s(product_id))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk)?;
            ids.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|item| item.get("licenseId")?.as_s().ok().cloned()),
            );
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(ids);
            }
        }
    }

    /// One page of a licence's assignments in e-mail order, after `after`.
    /// Returns the items and whether DynamoDB has more.
    pub async fn assignments_page(
        &self,
        customer_id: &str,
        license_id: &str,
        after: Option<&str>,
        limit: i32,
    ) -> Result<(Vec<Assignment>, bool)> {
        let start = after.map(|email| Self::assignment_key(customer_id, license_id, email));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", s(keys::customer(customer_id)))
            .expression_attribute_values(":prefix", s(keys::assignments_of(license_id)))
            .set_exclusive_start_key(start)
            .limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<Assignment>>>()?;
        Ok((items, out.last_evaluated_key.is_some()))
    }

    /// A user's assignments across all customers (GSI1, eventually consistent).
    pub async fn assignments_of_user(&self, email: &str) -> Result<Vec<Assignment>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", keys::GSI1PK)
                .expression_attribute_values(":pk", s(keys::user(email)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk)?;
            for item in out.items.unwrap_or_default() {
                found.push(from_item(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// A licence and the assignments of `emails` on it, in one strongly
    /// consistent read (BatchGetItem, 100 keys a call, calls in parallel).
    pub async fn license_and_assignments(
        &self,
        customer_id: &str,
        license_id: &str,
        emails: &[String],
    ) -> Result<(Option<License>, HashMap<String, Assignment>)> {
        let mut keys = Vec::with_capacity(emails.len() + 1);
        keys.push(Self::license_key(customer_id, license_id));
        keys.extend(
            emails
                .iter()
                .map(|e| Self::assignment_key(customer_id, license_id, e)),
        );
        let mut license = None;
        let mut assignments = HashMap::new();
        for item in self.batch_get(keys, true).await? {
            let is_license =
                matches!(item.get(keys::TYPE), Some(AttributeValue::S(t)) if t == "License");
            if is_license {
                license = Some(from_item::<License>(item)?);
            } else {
                let a: Assignment = from_item(item)?;
                assignments.insert(a.email.clone(), a);
            }
        }
        Ok((license, assignments))
    }

    /// The assignments of `email` on each of `license_ids` (one customer's),
    /// read strongly consistently.
    pub async fn assignments_of(
        &self,
        customer_id: &str,
        license_ids: &[&str],
        email: &str,
    ) -> Result<Vec<Assignment>> {
        let keys = license_ids
            .iter()
            .map(|l| Self::assignment_key(customer_id, l, email))
            .collect();
        self.batch_get(keys, true)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Licences by (customer, licence id), eventually consistent.
    pub async fn licenses_by_id(&self, ids: &[(String, String)]) -> Result<Vec<License>> {
        let keys = ids.iter().map(|(c, l)| Self::license_key(c, l)).collect();
        self.batch_get(keys, false)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    async fn batch_get(&self, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>> {
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

    pub async fn order(&self, order_id: &str) -> Result<Option<Order>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::order(order_id)))
            .key(keys::SK, s(keys::ORDER_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item.map(from_item).transpose()
    }

    /// Commits `writes` (at most 100) atomically.
    pub async fn transact(&self, writes: &[Write]) -> Result<(), TxError> {
        debug_assert!(writes.len() <= MAX_TRANSACTION_ITEMS);
        let items = writes
            .iter()
            .map(|w| self.transact_item(w))
            .collect::<Result<Vec<_>>>()?;
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(tc) => {
                    let reasons = tc.cancellation_reasons();
                    let failed: Vec<usize> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| i)
                        .collect();
                    if !failed.is_empty() {
                        Err(TxError::Condition(failed))
                    } else if reasons
                        .iter()
                        .any(|r| r.code() == Some("TransactionConflict"))
                    {
                        Err(TxError::Busy)
                    } else {
                        Err(TxError::Failed(Error::Unavailable(format!("{tc:?}"))))
                    }
                }
                TransactWriteItemsError::TransactionInProgressException(_) => Err(TxError::Busy),
                other => Err(TxError::Failed(Error::Unavailable(format!("{other:?}")))),
            },
            Err(e) => Err(TxError::Failed(sdk(e))),
        }
    }

    fn transact_item(&self, write: &Write) -> Result<TransactWriteItem> {
        let table = &self.table;
        let built = |e: aws_sdk_dynamodb::error::BuildError| Error::unavailable(e);
        let item = match write {
            Write::License {
                license,
                expected_version,
            } => {
                let put = Put::builder()
                    .table_name(table)
                    .set_item(Some(Self::license_item(license)?));
                let put = match expected_version {
                    Some(v) => put
                        .condition_expression("#v = :v")
                        .expression_attribute_names("#v", "version")
                        .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
                    None => put
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", keys::PK),
                };
                TransactWriteItem::builder().put(put.build().map_err(built)?)
            }
            Write::Assignment(a) => TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(Self::assignment_item(a)?))
                    .build()
                    .map_err(built)?,
            ),
            Write::Period {
                customer_id,
                license_id,
                email,
                period,
            } => TransactWriteItem::builder().update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(Self::assignment_key(customer_id, license_id, email)))
                    .update_expression("SET validFrom = :from, validUntil = :until")
                    .condition_expression("attribute_exists(#pk)")
                    .expression_attribute_names("#pk", keys::PK)
                    .expression_attribute_values(":from", attr(&period.from)?)
                    .expression_attribute_values(":until", attr(&period.until)?)
                    .build()
                    .map_err(built)?,
            ),
            Write::Revoke {
                customer_id,
                license_id,
                email,
                at,
                by,
                invitation,
            } => {
                let update = Update::builder()
                    .table_name(table)
                    .set_key(Some(Self::assignment_key(customer_id, license_id, email)))
                    .condition_expression("attribute_exists(#pk) AND invitation.#st = :read")
                    .expression_attribute_names("#pk", keys::PK)
                    .expression_attribute_names("#st", "status")
                    .expression_attribute_values(":read", attr(invitation)?)
                    .expression_attribute_values(":at", attr(at)?)
                    .expression_attribute_values(":by", s(by.clone()));
                // A live claim stays: if that run did send, it records `sent`.
                let update = if *invitation == InvitationStatus::Pending {
                    update
                        .update_expression(
                            "SET revokedAt = :at, revokedBy = :by, invitation = :inv",
                        )
                        .expression_attribute_values(
                            ":inv",
                            attr(&Invitation::failed(InvitationError::NotSent))?,
                        )
                } else {
                    update.update_expression("SET revokedAt = :at, revokedBy = :by")
                };
                TransactWriteItem::builder().update(update.build().map_err(built)?)
            }
            Write::Reinvite {
                customer_id,
                license_id,
                email,
                at,
                invited_before,
            } => {
                let update = Update::builder()
                    .table_name(table)
                    .set_key(Some(Self::assignment_key(customer_id, license_id, email)))
                    .update_expression(
                        "SET invitation = :inv, invitedAt = :at REMOVE invitationClaim",
                    )
                    .expression_attribute_names("#pk", keys::PK)
                    .expression_attribute_values(
                        ":inv",
                        attr(&Invitation::new(InvitationStatus::Pending))?,
                    )
                    .expression_attribute_values(":at", attr(at)?);
                let update = match invited_before {
                    Some(before) => update
                        .condition_expression("attribute_exists(#pk) AND invitedAt = :before")
                        .expression_attribute_values(":before", attr(before)?),
                    None => update.condition_expression(
                        "attribute_exists(#pk) AND attribute_not_exists(invitedAt)",
                    ),
                };
                TransactWriteItem::builder().update(update.build().map_err(built)?)
            }
            Write::Budget {
                customer_id,
                window,
                addresses,
                limit,
            } => TransactWriteItem::builder().update(self.budget_update(
                customer_id,
                *window,
                *addresses,
                *limit,
            )?),
            Write::BatchStillPending {
                customer_id,
                license_id,
                batch_id,
            } => TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(Self::license_key(customer_id, license_id)))
                    .condition_expression("pending.id = :batch")
                    .expression_attribute_values(":batch", s(batch_id.clone()))
                    .build()
                    .map_err(built)?,
            ),
            Write::Order(order) => {
                let mut item = to_item(order)?;
                item.insert(keys::PK.into(), s(keys::order(&order.order_id)));
                item.insert(keys::SK.into(), s(keys::ORDER_SK));
                item.insert(keys::TYPE.into(), s("Order"));
                TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", keys::PK)
                        .build()
                        .map_err(built)?,
                )
            }
        };
        Ok(item.build())
    }
}

impl Store {
    fn budget_update(
        &self,
        customer_id: &str,
        window: i64,
        addresses: u32,
        limit: u32,
    ) -> Result<Update> {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(HashMap::from([
                (keys::PK.into(), s(keys::customer(customer_id))),
                (keys::SK.into(), s(keys::assign_budget(window))),
            ])))
            .update_expression("ADD #used :n SET #exp = :exp")
            .condition_expression("attribute_not_exists(#used) OR #used <= :room")
            .expression_attribute_names("#used", "used")
            .expression_attribute_names("#exp", "expiresAt")
            .expression_attribute_values(":n", AttributeValue::N(addresses.to_string()))
            .expression_attribute_values(
                ":room",
                AttributeValue::N((i64::from(limit) - i64::from(addresses)).to_string()),
            )
            // Kept a little past its window, then DynamoDB's TTL removes it.
            .expression_attribute_values(":exp", AttributeValue::N((window + 3600).to_string()))
            .build()
            .map_err(Error::unavailable)
    }

    /// Counts `addresses` against the customer's assign budget on its own
    /// (a request that writes nothing else: a dry run, nothing new).
    /// `false`: they do not fit.
    pub async fn charge_budget(
        &self,
        customer_id: &str,
        window: i64,
        addresses: u32,
        limit: u32,
    ) -> Result<bool> {
        let update = self.budget_update(customer_id, window, addresses, limit)?;
        let result = self
            .client
            .update_item()
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_string))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk(e)),
        }
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
        let out = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(sdk)?;
        if let Some(mut responses) = out.responses {
            items.extend(responses.remove(table).unwrap_or_default());
        }
        match out.unprocessed_keys.and_then(|mut u| u.remove(table)) {
            Some(rest) if !rest.keys.is_empty() => {
                if attempt >= 8 {
                    return Err(Error::Unavailable(
                        "BatchGetItem left keys unprocessed".into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
                request = rest;
            }
            _ => return Ok(items),
        }
    }
    unreachable!("the loop returns")
}
