//! A customer's budgets (assign: addresses a minute; export: CSV exports a
//! minute): counted per minute in one item, under the condition that they fit. The update rides in a commit's
//! transaction (`Write::Budget`), or goes alone for a request that commits
//! nothing (`charge_budget`).

use aws_sdk_dynamodb::types::Update;

use super::expr::{self, Expr};
use super::items;
use super::keys::attr;
use super::{Store, applied, n};
use crate::error::Result;

impl Store {
    pub(super) fn budget_update(
        &self,
        customer_id: &str,
        kind: &str,
        window: i64,
        addresses: u32,
        limit: u32,
    ) -> Result<Update> {
        let add = Expr::new("ADD #used :n SET #expires_at = :expires_at")
            .name("#used", attr::USED)
            .name("#expires_at", attr::EXPIRES_AT)
            .value(":n", n(addresses))
            // Kept a little past its window, then DynamoDB's TTL removes it.
            .value(":expires_at", n(window + 3600));
        let key = items::budget_key(customer_id, kind, window);
        expr::update(&self.table, key, add, Expr::room_for(addresses, limit))
    }

    /// Counts `addresses` against the customer's budget of `kind` on its
    /// own. `false`: they do not fit (nothing was counted).
    pub async fn charge_budget(
        &self,
        customer_id: &str,
        kind: &str,
        window: i64,
        addresses: u32,
        limit: u32,
    ) -> Result<bool> {
        let update = self.budget_update(customer_id, kind, window, addresses, limit)?;
        applied(self.update_item(update).send().await)
    }

    /// A transaction's Update, sent on its own.
    pub(super) fn update_item(
        &self,
        update: Update,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_string))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned())
    }
}
