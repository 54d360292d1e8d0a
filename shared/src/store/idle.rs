//! The idle index (GSI3, see `keys`): the assignments the daily run may act
//! on by today, whatever the number of assignments in the table.

use super::expr::KeyRange;
use super::keys::{self, IDLE_SHARDS, attr};
use super::{Item, Store};
use crate::error::{Error, Result};

/// An assignment by (customer, licence id, e-mail).
pub type AssignmentId = (String, String, String);

fn named(item: &Item) -> Option<AssignmentId> {
    let text = |name: &str| Some(item.get(name)?.as_s().ok()?.clone());
    Some((text(attr::CUSTOMER_ID)?, text(attr::LICENSE_ID)?, text(attr::EMAIL)?))
}

impl Store {
    /// Every assignment whose day in the idle index is `today` or earlier:
    /// one Query per shard, in parallel (eventually consistent: read each
    /// again before deciding).
    pub async fn idle_due(&self, today: chrono::NaiveDate) -> Result<Vec<AssignmentId>> {
        let mut tasks = tokio::task::JoinSet::new();
        for shard in 0..IDLE_SHARDS {
            let query =
                self.query(KeyRange::gsi3(keys::idle_shard(shard)).up_to(today.to_string()));
            let store = self.clone();
            tasks.spawn(async move { store.query_all(query).await });
        }
        let mut due = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            due.extend(joined.map_err(Error::unavailable)??.iter().filter_map(named));
        }
        due.sort();
        due.dedup();
        Ok(due)
    }

    /// Every licence that has people waiting for a seat or a group rule's
    /// run being written (v3), by (customer,
    /// licence id), as GSI3 finds them (eventually consistent: read each
    /// again before deciding).
    pub async fn licenses_with_waiting(&self) -> Result<Vec<(String, String)>> {
        let query = self.query(KeyRange::gsi3(keys::WAITING_LICENSES));
        let text = |item: &Item, name: &str| Some(item.get(name)?.as_s().ok()?.clone());
        Ok(self
            .query_all(query)
            .await?
            .iter()
            .filter_map(|i| Some((text(i, attr::CUSTOMER_ID)?, text(i, attr::LICENSE_ID)?)))
            .collect())
    }
}
