//! Activity on assignments (v3): the day a person last used the product,
//! and when they first did (which accepts the invitation). One conditional
//! UpdateItem, which writes at most once per assignment and day.

use chrono::{DateTime, NaiveDate, Utc};

use super::expr::{self, Expr};
use super::items;
use super::keys::attr;
use super::{Store, applied, s};
use crate::error::Result;
use crate::model::Assignment;

impl Store {
    /// Records that the person of `a` used the product on `today` (at `now`):
    /// `lastActiveOn` becomes today, unless it is today already or the
    /// assignment was revoked; the first use also records `acceptedAt`
    /// (unless one is recorded already). `false`: nothing was written
    /// (today's use was recorded before, or the seat is gone).
    pub async fn record_activity(
        &self,
        a: &Assignment,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let key = items::assignment_key(&a.customer_id, &a.license_id, &a.email);
        let text = if a.accepted_at.is_none() {
            "SET #last_active = :today, #accepted_at = :now"
        } else {
            "SET #last_active = :today"
        };
        let set = Expr::new(text)
            .name("#last_active", attr::LAST_ACTIVE_ON)
            .value(":today", s(today.to_string()));
        let mut condition = Expr::item_exists().and(Expr::not_revoked()).and(
            Expr::new("attribute_not_exists(#last_active) OR #last_active < :today")
                .name("#last_active", attr::LAST_ACTIVE_ON)
                .value(":today", s(today.to_string())),
        );
        let set = if a.accepted_at.is_none() {
            // The first use: only if no other check recorded one meanwhile.
            condition = condition.and(
                Expr::new("attribute_not_exists(#accepted_at)")
                    .name("#accepted_at", attr::ACCEPTED_AT),
            );
            set.name("#accepted_at", attr::ACCEPTED_AT).value(":now", s(expr::timestamp(now)))
        } else {
            set
        };
        let update = expr::update(&self.table, key, set, condition)?;
        applied(self.update_item(update).send().await)
    }
}
