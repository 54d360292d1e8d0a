//! The order system's records under `ORDER#<orderId>`: the order (the
//! purchase as applied), each applied lifecycle event with its result, and
//! the events parked until their turn. All read strongly consistently.

use chrono::{DateTime, Utc};

use aws_sdk_dynamodb::types::builders::TransactWriteItemBuilder;

use super::expr::{self, Expr, KeyRange};
use super::items::{self, from_item};
use super::{Order, OrderEvent, ParkedEvent, Store, Write, keys, sdk};
use crate::error::Result;

impl Store {
    /// The writes under an order: its record, an event's record, a parked
    /// event, and the check that the order is still unknown.
    pub(super) fn order_write(
        &self,
        item: TransactWriteItemBuilder,
        write: &Write,
    ) -> Result<TransactWriteItemBuilder> {
        let table = &self.table;
        Ok(match write {
            Write::Order(order) => {
                let put = expr::put(table, items::order_item(order)?, Some(Expr::item_absent()))?;
                item.put(put)
            }
            Write::OrderEvent(event) => {
                let event = items::order_event_item(event)?;
                item.put(expr::put(table, event, Some(Expr::item_absent()))?)
            }
            Write::Parked(event) => {
                let same = Expr::item_absent().or(Expr::event_id_is(&event.event_id));
                item.put(expr::put(table, items::parked_item(event)?, Some(same))?)
            }
            Write::OrderUnknown { order_id } => {
                let key = items::order_key(order_id);
                item.condition_check(expr::check(table, key, Expr::item_absent())?)
            }
            other => unreachable!("transact_item sends only order writes here: {other:?}"),
        })
    }

    /// The provisioning record of an order.
    pub async fn order(&self, order_id: &str) -> Result<Option<Order>> {
        self.get(items::order_key(order_id), true).await?.map(from_item).transpose()
    }

    /// The record of a lifecycle event already applied.
    pub async fn order_event(
        &self,
        order_id: &str,
        detail_type: &str,
        event_id: &str,
    ) -> Result<Option<OrderEvent>> {
        let key = items::order_event_key(order_id, detail_type, event_id);
        self.get(key, true).await?.map(from_item).transpose()
    }

    /// The event parked under this number of the order, if any.
    pub async fn parked(&self, order_id: &str, sequence: u64) -> Result<Option<ParkedEvent>> {
        self.get(items::parked_key(order_id, sequence), true).await?.map(from_item).transpose()
    }

    /// How many lifecycle events have been parked since before `before`
    /// (GSI2's `PARKED` partition: only what is parked, never a Scan).
    pub async fn parked_since_before(&self, before: DateTime<Utc>) -> Result<usize> {
        let range = KeyRange::gsi2(keys::PARKED_EVENTS).before(expr::timestamp(before));
        let query = self.query(range).select(aws_sdk_dynamodb::types::Select::Count);
        let out = query.send().await.map_err(sdk)?;
        Ok(out.count().max(0) as usize)
    }

    /// Removes a parked event once it is applied (a leftover is harmless:
    /// numbers already applied are never looked up again).
    pub async fn unpark(&self, order_id: &str, sequence: u64) -> Result<()> {
        let key = items::parked_key(order_id, sequence);
        let delete = self.client.delete_item().table_name(&self.table).set_key(Some(key));
        delete.send().await.map_err(sdk)?;
        Ok(())
    }
}
