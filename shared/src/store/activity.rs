//! Activity on assignments (v3): the day a person last used the product,
//! and when they first did (which accepts the invitation, recorded in the
//! history in the same transaction). One conditional write, at most once per
//! assignment and day.

use chrono::{DateTime, NaiveDate, Utc};

use super::expr::{self, Expr};
use super::items;
use super::keys::{self, attr};
use super::{Store, TxError, applied, s};
use crate::error::Result;
use crate::model::{Action, Assignment, Entry};
use aws_sdk_dynamodb::types::TransactWriteItem;

impl Store {
    /// Records that the person of `a` used the product on `today` (at `now`):
    /// `lastActiveOn` becomes today, unless it is today already or the
    /// assignment was revoked; the first use also records `acceptedAt`
    /// (unless one is recorded already). Under a reclaim rule, the seat's day
    /// in the idle index moves to `inactiveDays` from today, by the rule
    /// copy read with it (the write fails if a policy change rewrote it
    /// since). `false`: nothing was written (today's use was recorded
    /// before, the seat is gone, or its rule changed).
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
        let mut set = Expr::new(text)
            .name("#last_active", attr::LAST_ACTIVE_ON)
            .value(":today", s(today.to_string()));
        let rule = a.reclaim_rule.filter(|_| !a.reclaim_exempt);
        if let Some(rule) = rule {
            let mut used = a.clone();
            used.last_active_on = Some(today);
            if let Some(day) = rule.due_on(&used) {
                let [(_, pk), (_, sk)] = items::idle_index(&a.email, day);
                set.text.push_str(", #gsi3pk = :gsi3pk, #gsi3sk = :gsi3sk");
                set = set
                    .name("#gsi3pk", keys::GSI3PK)
                    .name("#gsi3sk", keys::GSI3SK)
                    .value(":gsi3pk", pk)
                    .value(":gsi3sk", sk);
            }
        }
        let mut condition = Expr::item_exists()
            .and(Expr::not_revoked())
            .and(
                Expr::new("attribute_not_exists(#last_active) OR #last_active < :today")
                    .name("#last_active", attr::LAST_ACTIVE_ON)
                    .value(":today", s(today.to_string())),
            )
            .and(Expr::rule_inactive_days_is(a.reclaim_rule.map(|r| r.inactive_days)));
        if rule.is_some() {
            // Exempted since it was read: leave it out of the index.
            condition = condition.and(
                Expr::new("attribute_not_exists(#exempt) OR #exempt = :no")
                    .name("#exempt", attr::RECLAIM_EXEMPT)
                    .value(":no", aws_sdk_dynamodb::types::AttributeValue::Bool(false)),
            );
        }
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
        if a.accepted_at.is_some() {
            return applied(self.update_item(update).send().await);
        }
        // The first use: the invitation's acceptance is recorded in the
        // licence's history with it (v3: `invitation.accepted`), same round trip.
        let entry =
            Entry::on(&a.customer_id, &a.license_id, now, &a.email, Action::InvitationAccepted)
                .about(&a.email);
        let put = expr::put(&self.table, items::entry_item(&entry)?, None)?;
        let writes = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        match self.transact_items(writes).await {
            Ok(()) => Ok(true),
            Err(TxError::Condition(_) | TxError::Busy) => Ok(false),
            Err(TxError::Failed(e)) => Err(e),
        }
    }
}
