//! The per-customer budgets, counted in fixed one-minute windows: at most
//! `App::assign_budget` addresses a minute through assign, dry runs
//! included (contract v2, Limits), and at most `App::export_budget` CSV
//! exports (v3, default 10).

use crate::App;
use crate::error::{Error, Result};
use crate::store::{Write, keys};

/// The addresses of one request, against its customer's current window.
pub struct Budget {
    kind: &'static str,
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
            kind: keys::ASSIGN_BUDGET,
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
        Self { kind: keys::EXPORT_BUDGET, limit, ..Self::of(app, customer_id, 1) }
    }

    /// The count, as a write that rides in the request's commit.
    pub fn write(&self) -> Write {
        Write::Budget {
            kind: self.kind,
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
            .charge_budget(&self.customer_id, self.kind, self.window, self.addresses, self.limit)
            .await?;
        if fits { Ok(()) } else { Err(self.exceeded()) }
    }
}
