//! Invitation limits per address (API.md, "Invitations that no path can
//! multiply"), kept where every invitation mail passes: `notify` takes a
//! slot right before SES. An address's items live in its own partition,
//! across customers:
//!
//! - its day (`DAY#<date>`): the mails it got that day, in all and per
//!   customer, counted under the condition that they stay within the limits;
//! - one window per licence (`WINDOW#<customer>#<licence>`): when its last
//!   mail for that licence went out. While an invitation waits for the
//!   window to pass, the window carries GSI2 keys under
//!   [`keys::WAITING_INVITATIONS`] with the time it may go.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};

use super::expr::{self, Expr, KeyRange};
use super::items;
use super::keys::{self, attr, kind};
use super::transaction::cancelled;
use super::{Item, Store, TxError, n, s, sdk};
use crate::error::{Error, Result};

/// One invitation mail per address and licence in this many seconds.
pub const WINDOW_SECONDS: i64 = 600;
/// Invitation mails an address may get in a day (UTC) from one customer…
pub const PER_CUSTOMER_PER_DAY: u32 = 5;
/// …and from all customers together.
pub const PER_ADDRESS_PER_DAY: u32 = 20;

/// Whether an invitation mail may go out now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Counted: send it (or give the slot back if it is not sent).
    Granted,
    /// The address got a mail for this licence less than 10 minutes ago:
    /// the invitation waits until then.
    WaitUntil(DateTime<Utc>),
    /// The address had all the mails it may get today.
    OverDailyLimit,
}

/// An invitation waiting for its window, as GSI2 finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub customer_id: String,
    pub license_id: String,
    pub email: String,
    /// GSI2's sort key: when it may go.
    pub due: String,
}

fn window_key(customer_id: &str, license_id: &str, email: &str) -> Item {
    items::key(keys::recipient(email), keys::invitation_window(customer_id, license_id))
}

fn day_key(email: &str, date: NaiveDate) -> Item {
    items::key(keys::recipient(email), keys::recipient_day(date))
}

/// GSI2's sort key of a wait: sortable, to the second.
fn due_key(due: DateTime<Utc>) -> String {
    due.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An address's day and window items expire (TTL) a day after they matter.
fn expires(at: DateTime<Utc>) -> AttributeValue {
    n((at + Duration::days(2)).timestamp())
}

/// What a refused slot transaction means: the day is full, the window is
/// still closed (until when), or another mail was counted at the same
/// moment (`None`: try again).
fn refused_slot(reasons: &[CancellationReason], now: DateTime<Utc>) -> Result<Option<Slot>> {
    let failed =
        |i: usize| reasons.get(i).is_some_and(|r| r.code() == Some("ConditionalCheckFailed"));
    if failed(1) {
        return Ok(Some(Slot::OverDailyLimit));
    }
    if failed(0) {
        let last = reasons[0]
            .item()
            .and_then(|item| item.get(attr::LAST_SENT_AT)?.as_n().ok()?.parse::<i64>().ok())
            .and_then(|at| DateTime::from_timestamp(at, 0))
            .unwrap_or(now);
        return Ok(Some(Slot::WaitUntil(last + Duration::seconds(WINDOW_SECONDS))));
    }
    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
        return Ok(None);
    }
    Err(Error::Unavailable(format!("invitation slot: {reasons:?}")))
}

impl Store {
    /// Takes an invitation mail's place for `email` on the licence at `now`:
    /// the licence's window and the day's counters, in one transaction.
    /// `None`: another mail to the address was being counted at the same
    /// moment; try again.
    pub async fn take_invitation_slot(
        &self,
        customer_id: &str,
        license_id: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Slot>> {
        let window = self.close_window(customer_id, license_id, email, now)?;
        let day = self.count_on_day(customer_id, email, now)?;
        let result = self.transact_updates([returning_old(window), day]).await;
        let error = match result {
            Ok(_) => return Ok(Some(Slot::Granted)),
            Err(SdkError::ServiceError(e)) => e.into_err(),
            Err(e) => return Err(sdk(e)),
        };
        let reasons = match error {
            TransactWriteItemsError::TransactionCanceledException(tc) => tc.cancellation_reasons,
            TransactWriteItemsError::TransactionInProgressException(_) => return Ok(None),
            other => return Err(Error::Unavailable(format!("{other:?}"))),
        }
        .unwrap_or_default();
        refused_slot(&reasons, now)
    }

    /// The licence's window for the address closes at `now`, if it has passed.
    fn close_window(
        &self,
        customer_id: &str,
        license_id: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Update> {
        let window = Expr::new(
            "SET #last = :now, #type = :window, #expires = :expires REMOVE #gsi2pk, #gsi2sk",
        )
        .name("#last", attr::LAST_SENT_AT)
        .name("#type", keys::TYPE)
        .name("#expires", attr::EXPIRES_AT)
        .name("#gsi2pk", keys::GSI2PK)
        .name("#gsi2sk", keys::GSI2SK)
        .value(":now", n(now.timestamp()))
        .value(":window", s(kind::INVITATION_WINDOW))
        .value(":expires", expires(now));
        let passed = Expr::new("attribute_not_exists(#last) OR #last <= :cutoff")
            .name("#last", attr::LAST_SENT_AT)
            .value(":cutoff", n(now.timestamp() - WINDOW_SECONDS));
        expr::update(&self.table, window_key(customer_id, license_id, email), window, passed)
    }

    /// The address's day counts one more mail, in all and from this
    /// customer, if both are under their limits.
    fn count_on_day(&self, customer_id: &str, email: &str, now: DateTime<Utc>) -> Result<Update> {
        let count = Expr::new(
            "SET #sent = if_not_exists(#sent, :zero) + :one, \
             #mine = if_not_exists(#mine, :zero) + :one, #type = :day, #expires = :expires",
        )
        .name("#sent", attr::SENT)
        .name("#mine", &keys::sent_by(customer_id))
        .name("#type", keys::TYPE)
        .name("#expires", attr::EXPIRES_AT)
        .value(":zero", n(0))
        .value(":one", n(1))
        .value(":day", s(kind::RECIPIENT_DAY))
        .value(":expires", expires(now));
        let room = Expr::new(
            "(attribute_not_exists(#sent) OR #sent < :all) \
             AND (attribute_not_exists(#mine) OR #mine < :per_customer)",
        )
        .name("#sent", attr::SENT)
        .name("#mine", &keys::sent_by(customer_id))
        .value(":all", n(PER_ADDRESS_PER_DAY))
        .value(":per_customer", n(PER_CUSTOMER_PER_DAY));
        expr::update(&self.table, day_key(email, now.date_naive()), count, room)
    }

    /// Gives back a slot taken at `at` whose mail did not go out: the window
    /// reopens (it was closed by this slot alone) and the day counts one less.
    pub async fn give_back_invitation_slot(
        &self,
        customer_id: &str,
        license_id: &str,
        email: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let reopen = Expr::new("REMOVE #last").name("#last", attr::LAST_SENT_AT);
        let ours = Expr::new("#last = :at")
            .name("#last", attr::LAST_SENT_AT)
            .value(":at", n(at.timestamp()));
        let window =
            expr::update(&self.table, window_key(customer_id, license_id, email), reopen, ours)?;
        let uncount = Expr::new("SET #sent = #sent - :one, #mine = #mine - :one")
            .name("#sent", attr::SENT)
            .name("#mine", &keys::sent_by(customer_id))
            .value(":one", n(1));
        let counted = Expr::new("#sent > :zero AND #mine > :zero")
            .name("#sent", attr::SENT)
            .name("#mine", &keys::sent_by(customer_id))
            .value(":zero", n(0));
        let day = expr::update(&self.table, day_key(email, at.date_naive()), uncount, counted)?;
        // Best effort: a slot not given back only makes the limits stricter.
        let result = self.transact_updates([window, day]).await;
        if let Err(e) = result {
            tracing::warn!(error = ?e, "an invitation slot was not given back");
        }
        Ok(())
    }

    /// Parks a claimed invitation until `due`: the claim is given back, the
    /// assignment marked as waiting (its stream record is not picked up
    /// again) and the window put on GSI2 for the minute's sweep. `false`:
    /// `claim_id` no longer held it (nothing written); `Err`: try again.
    pub async fn wait_for_window(
        &self,
        customer_id: &str,
        license_id: &str,
        email: &str,
        claim_id: &str,
        due: DateTime<Utc>,
    ) -> Result<bool, TxError> {
        let mark = Expr::new("SET #due = :due REMOVE #claim")
            .name("#due", attr::INVITATION_DUE_AT)
            .name("#claim", attr::INVITATION_CLAIM)
            .value(":due", s(due_key(due)));
        let assignment = items::assignment_key(customer_id, license_id, email);
        let assignment = expr::update(&self.table, assignment, mark, Expr::claim_is(claim_id))?;
        let wait = Expr::new(
            "SET #gsi2pk = :waiting, #gsi2sk = :due, #customer = :customer, \
             #license = :license, #email = :email",
        )
        .name("#gsi2pk", keys::GSI2PK)
        .name("#gsi2sk", keys::GSI2SK)
        .name("#customer", attr::CUSTOMER_ID)
        .name("#license", attr::LICENSE_ID)
        .name("#email", attr::EMAIL)
        .value(":waiting", s(keys::WAITING_INVITATIONS))
        .value(":due", s(due_key(due)))
        .value(":customer", s(customer_id))
        .value(":license", s(license_id))
        .value(":email", s(email));
        let window = window_key(customer_id, license_id, email);
        let window = expr::update(&self.table, window, wait, Expr::item_exists())?;
        let result = self.transact_updates([assignment, window]).await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) => match cancelled(e.err()) {
                // The assignment's condition: the claim was lost meanwhile.
                TxError::Condition(failed) if failed == [0] => Ok(false),
                other => Err(other),
            },
            Err(e) => Err(TxError::Failed(sdk(e))),
        }
    }

    /// The invitations whose window has passed by `now`.
    pub async fn waiting_invitations(&self, now: DateTime<Utc>) -> Result<Vec<Waiting>> {
        let query = self.query(KeyRange::gsi2(keys::WAITING_INVITATIONS).up_to(due_key(now)));
        let found = self.query_all(query).await?;
        Ok(found.iter().filter_map(waiting).collect())
    }

    /// Takes a wait off the sweep's list (its invitation was settled
    /// otherwise), unless it was moved meanwhile.
    pub async fn stop_waiting(&self, w: &Waiting) -> Result<()> {
        let remove = Expr::new("REMOVE #gsi2pk, #gsi2sk")
            .name("#gsi2pk", keys::GSI2PK)
            .name("#gsi2sk", keys::GSI2SK);
        let same =
            Expr::new("#gsi2sk = :due").name("#gsi2sk", keys::GSI2SK).value(":due", s(&w.due));
        let key = window_key(&w.customer_id, &w.license_id, &w.email);
        let update = expr::update(&self.table, key, remove, same)?;
        super::applied(self.update_item(update).send().await).map(|_| ())
    }
}

impl Store {
    /// Two updates in one transaction, as the SDK answers it (the callers
    /// read its cancellation reasons themselves).
    async fn transact_updates(
        &self,
        updates: [Update; 2],
    ) -> std::result::Result<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
        SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
    > {
        let items = updates.map(|u| TransactWriteItem::builder().update(u).build());
        self.client.transact_write_items().set_transact_items(Some(items.to_vec())).send().await
    }
}

fn returning_old(update: Update) -> Update {
    let mut update = update;
    update.return_values_on_condition_check_failure =
        Some(ReturnValuesOnConditionCheckFailure::AllOld);
    update
}

fn waiting(item: &Item) -> Option<Waiting> {
    let text = |name: &str| Some(item.get(name)?.as_s().ok()?.clone());
    Some(Waiting {
        customer_id: text(attr::CUSTOMER_ID)?,
        license_id: text(attr::LICENSE_ID)?,
        email: text(attr::EMAIL)?,
        due: text(keys::GSI2SK)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_sort_by_time() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let (a, b) = (at("2026-12-06T09:59:59.900Z"), at("2026-12-06T10:00:00Z"));
        assert_eq!(due_key(a), "2026-12-06T09:59:59Z");
        assert!(due_key(a) < due_key(b));
    }
}
