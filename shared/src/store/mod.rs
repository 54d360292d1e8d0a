//! The single-table DynamoDB store, split one way: one file per record
//! family (`licenses`, `activity`, `history`, `orders`, `reminders`, `invitations`,
//! `recipients`, `idempotency`, `budget`, `tokens`, `directory`, `groups`,
//! `rules`, `webhooks`), over the mechanics they share.
//! Items are (de)serialised with serde_dynamo (`items`); every key and
//! attribute name comes from [`keys`]; every condition, update and key
//! condition is built by name (`expr`); the calls are in `access`. All
//! capacity decisions read the base table strongly consistently and commit
//! with a version condition (`transaction`).

mod access;
mod activity;
mod budget;
mod directory;
mod expr;
mod groups;
mod history;
mod idempotency;
mod idle;
mod invitations;
pub mod items;
pub mod keys;
mod licenses;
mod orders;
mod recipients;
mod reminders;
mod rules;
mod table;
mod tokens;
mod transaction;
mod webhooks;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::Term;
pub use directory::{DirectoryConflict, DirectoryConflictOr};
pub use groups::{GroupConflict, GroupConflictOr};
pub use history::HistoryQuery;
pub use idempotency::{Claim, KEEP_SECONDS, STALE_CLAIM_SECONDS};
pub use idle::AssignmentId;
pub use invitations::{InvitationClaim, OnRevoke, STALE_INVITATION_CLAIM_SECONDS};
pub use recipients::{PER_ADDRESS_PER_DAY, PER_CUSTOMER_PER_DAY, Slot, WINDOW_SECONDS, Waiting};
pub use reminders::{Candidate, Settled};
pub use table::create_table;
pub use tokens::{Presented, TokenSet};
pub use transaction::{ConflictOr, LastActive, MAX_TRANSACTION_ITEMS, TxError, Write};
pub use webhooks::{DeliveryPage, Lease, Turn, WebhookSet};

pub type Item = HashMap<String, AttributeValue>;

/// The provisioning record that makes `provision` idempotent on `orderId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub customer_id: String,
    pub license_id: String,
    pub buyer_assigned: bool,
    /// The purchase as first applied, which a redelivery must repeat
    /// (absent in records written before v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<PurchaseFacts>,
}

/// What makes a purchase the same purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseFacts {
    pub customer_id: String,
    pub product_id: String,
    pub quantity: u32,
    pub term: Term,
    pub buyer: String,
}

/// The record that applies a lifecycle event once: its answer, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderEvent {
    pub order_id: String,
    pub detail_type: String,
    pub event_id: String,
    /// Its sequence number (absent in records written before v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    pub result: String,
}

/// A lifecycle event that came ahead of its turn (or before its purchase),
/// as the use case encoded it, until its predecessor is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkedEvent {
    pub order_id: String,
    pub sequence: u64,
    pub event_id: String,
    pub parked_at: DateTime<Utc>,
    pub event: String,
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An SDK failure: for the log, never for the caller.
fn sdk<E: std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> Error {
    Error::Unavailable(format!("{e:?}"))
}

/// Whether a conditional write failed only because its condition did not
/// hold: `Ok(false)` then, `Ok(true)` when it applied.
fn applied<T, E, R>(result: Result<T, SdkError<E, R>>) -> crate::error::Result<bool>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(e))
            if e.err().code() == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(sdk(e)),
    }
}
