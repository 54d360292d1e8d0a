//! The per-customer budgets, counted in fixed windows: at most
//! `App::assign_budget` addresses a minute through assign, dry runs
//! included (contract v2, Limits), at most `App::export_budget` CSV exports
//! a minute (v3, default 10), and at most [`SCIM_PER_SECOND`] SCIM requests
//! a second per provisioning token (v3).

use crate::App;
use crate::error::{Error, Result};
use crate::store::{Write, keys};

/// SCIM requests a second per token.
pub const SCIM_PER_SECOND: u32 = 20;

/// The addresses of one request, against its customer's current window.
pub struct Budget {
    kind: String,
    customer_id: String,
    window: i64,
    addresses: u32,
    limit: u32,
    retry_after: u32,
}

impl Budget {
    pub fn of(app: &App, customer_id: &str, addresses: usize) -> Self {
        let now = app.now().timestamp();
        let window = now - now.rem_euclid(60);
        Self {
            kind: keys::ASSIGN_BUDGET.to_string(),
            customer_id: customer_id.to_string(),
            window,
            addresses: addresses as u32,
            limit: app.assign_budget,
            retry_after: (window + 60 - now).clamp(1, 60) as u32,
        }
    }

    /// One CSV export of the customer's, against this minute's exports.
    pub fn export(app: &App, customer_id: &str) -> Self {
        let limit = app.export_budget;
        Self { kind: keys::EXPORT_BUDGET.to_string(), limit, ..Self::of(app, customer_id, 1) }
    }

    /// One SCIM request of the token `token_id` (of `customer_id`), against
    /// this second's requests of that token.
    pub fn scim(app: &App, customer_id: &str, token_id: &str) -> Self {
        let window = app.now().timestamp();
        Self {
            kind: keys::scim_budget(token_id),
            customer_id: customer_id.to_string(),
            window,
            addresses: 1,
            limit: app.scim_budget,
            retry_after: 1,
        }
    }

    /// One `/test` or `/retry` of the endpoint `webhook_id`, against this
    /// minute's of that endpoint.
    pub fn webhook_send(app: &App, customer_id: &str, webhook_id: &str) -> Self {
        Self {
            kind: keys::webhook_send_budget(webhook_id),
            limit: crate::model::SENDS_PER_MINUTE,
            ..Self::of(app, customer_id, 1)
        }
    }

    /// The count, as a write that rides in the request's commit.
    pub fn write(&self) -> Write {
        Write::Budget {
            kind: self.kind.clone(),
            customer_id: self.customer_id.clone(),
            window: self.window,
            addresses: self.addresses,
            limit: self.limit,
        }
    }

    /// The answer when the addresses do not fit: wait for the next window.
    pub fn exceeded(&self) -> Error {
        Error::RateLimited { retry_after: self.retry_after }
    }

    /// Counts the request on its own, for a request that commits nothing.
    pub async fn charge(&self, app: &App) -> Result<()> {
        let fits = app
            .store
            .charge_budget(&self.customer_id, &self.kind, self.window, self.addresses, self.limit)
            .await?;
        if fits { Ok(()) } else { Err(self.exceeded()) }
    }
}
