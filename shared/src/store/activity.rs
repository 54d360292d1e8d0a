//! Activity on assignments (v3): the day a person last used the product,
//! and the first use accepting the invitation. One conditional UpdateItem,
//! which writes at most once per assignment and day.

use chrono::{DateTime, NaiveDate, Utc};

use super::expr::{self, Expr};
use super::items;
use super::keys::attr;
use super::{Store, applied, s};
use crate::error::Result;
use crate::model::{Assignment, InvitationStatus};

impl Store {
    /// Records that the person of `a` used the product on `today` (at `now`):
    /// `lastActiveOn` becomes today, unless it is today already or the
    /// assignment was revoked; the first use also turns the invitation into
    /// `accepted` with `acceptedAt` (unless it is accepted already). `false`:
    /// nothing was written (today's use was recorded before, or the seat is
    /// gone).
    pub async fn record_activity(
        &self,
        a: &Assignment,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let key = items::assignment_key(&a.customer_id, &a.license_id, &a.email);
        let day = || s(today.to_string());
        let mut set = Expr::new("SET #last_active = :today")
            .name("#last_active", attr::LAST_ACTIVE_ON)
            .value(":today", day());
        let mut condition = Expr::item_exists().and(Expr::not_revoked()).and(
            Expr::new("attribute_not_exists(#last_active) OR #last_active < :today")
                .name("#last_active", attr::LAST_ACTIVE_ON)
                .value(":today", day()),
        );
        if a.invitation.status != InvitationStatus::Accepted {
            let accepted = s(InvitationStatus::Accepted.as_str());
            set = Expr::new(
                "SET #last_active = :today, #invitation.#status = :accepted, \
                 #invitation.#accepted_at = :now",
            )
            .name("#last_active", attr::LAST_ACTIVE_ON)
            .name("#invitation", attr::INVITATION)
            .name("#status", attr::STATUS)
            .name("#accepted_at", attr::ACCEPTED_AT)
            .value(":today", day())
            .value(":accepted", accepted.clone())
            .value(":now", s(expr::timestamp(now)));
            condition = condition.and(
                Expr::new("#invitation.#status <> :accepted")
                    .name("#invitation", attr::INVITATION)
                    .name("#status", attr::STATUS)
                    .value(":accepted", accepted),
            );
        }
        let update = expr::update(&self.table, key, set, condition)?;
        applied(self.update_item(update).send().await)
    }
}
