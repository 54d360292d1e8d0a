//! Reminders: the candidates GSI2 holds by the day they are first due, and
//! the record of each reminder, claimed before it is sent (see
//! `usecase::remind`).

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Datelike, NaiveDate};

use super::expr::{self, Expr, KeyRange};
use super::keys::{self, attr, kind};
use super::{Item, Store, applied, n, s};
use crate::error::{Error, Result};

/// A licence or an assignment that may be due for a reminder, as GSI2
/// projects it (eventually consistent: read it again before deciding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub customer_id: String,
    pub license_id: String,
    /// An assignment's address and end; `None` for a licence.
    pub assignment: Option<(String, NaiveDate)>,
}

/// How a reminder's record ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    Sent,
    /// SES refused it for good: not tried again.
    Failed,
}

/// Reminder records are kept a year, then expire (TTL).
const KEEP_SECONDS: i64 = 366 * 24 * 3600;

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

fn candidate(item: &Item) -> Option<Candidate> {
    let (customer_id, license_id) = (text(item, attr::CUSTOMER_ID)?, text(item, attr::LICENSE_ID)?);
    let assignment = match text(item, keys::TYPE)? {
        kind::LICENSE => None,
        kind::ASSIGNMENT => {
            let until = text(item, attr::VALID_UNTIL)?.parse().ok()?;
            Some((text(item, attr::EMAIL)?.to_string(), until))
        }
        _ => return None,
    };
    Some(Candidate { customer_id: customer_id.into(), license_id: license_id.into(), assignment })
}

/// The first day of each month from `from`'s to `to`'s.
fn months(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut month = from.with_day(1).expect("day 1 exists");
    let mut all = Vec::new();
    while month <= to {
        all.push(month);
        month = month.checked_add_months(chrono::Months::new(1)).expect("a later month");
    }
    all
}

fn reminder_key(customer_id: &str, license_id: &str, id: &str) -> Item {
    Item::from([
        (keys::PK.to_string(), s(keys::customer(customer_id))),
        (keys::SK.to_string(), s(keys::reminder(license_id, id))),
    ])
}

impl Store {
    /// Every candidate first due from `from` to `to`: one Query per month
    /// partition of GSI2 (in parallel), each a key range of days.
    pub async fn reminder_candidates(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Candidate>> {
        let mut tasks = tokio::task::JoinSet::new();
        for month in months(from, to) {
            let range = KeyRange::gsi2(keys::reminders_of_month(month))
                .between(keys::reminder_day(from), keys::reminder_day(to));
            let query = self.query(range);
            let store = self.clone();
            tasks.spawn(async move { store.query_all(query).await });
        }
        let mut found = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            found.extend(joined.map_err(Error::unavailable)??.iter().filter_map(candidate));
        }
        Ok(found)
    }

    /// Which of these reminders (customer, licence id, reminder id) have a
    /// record: sent, failed for good, or claimed by a run (live or dead).
    pub async fn reminders_recorded(
        &self,
        ids: &[(String, String, String)],
    ) -> Result<HashSet<(String, String)>> {
        let keys = ids.iter().map(|(c, l, id)| reminder_key(c, l, id)).collect();
        let found = self.batch_get(keys, true).await?;
        let ids = found.iter().filter(|item| text(item, attr::STATE) != Some("released"));
        Ok(ids
            .filter_map(|item| Some((text(item, keys::PK)?.into(), text(item, keys::SK)?.into())))
            .collect())
    }

    /// The key pair [`Self::reminders_recorded`] answers for a reminder.
    pub fn reminder_record(customer_id: &str, license_id: &str, id: &str) -> (String, String) {
        (keys::customer(customer_id), keys::reminder(license_id, id))
    }

    /// Claims a reminder for `claim_id` before it is sent: only if it has no
    /// record yet, or one given back after a failure worth retrying. A claim
    /// is never taken over: a run that died holding it may have sent the
    /// mail, and a reminder goes out at most once.
    pub async fn claim_reminder(
        &self,
        customer_id: &str,
        license_id: &str,
        id: &str,
        claim_id: &str,
        now: i64,
    ) -> Result<bool> {
        let set = Expr::new(
            "SET #type = :type, #state = :sending, #claim = :claim, #claimed_at = :now, #expires = :expires",
        )
        .name("#type", keys::TYPE)
        .name("#state", attr::STATE)
        .name("#claim", attr::CLAIM_ID)
        .name("#claimed_at", attr::CLAIMED_AT)
        .name("#expires", attr::EXPIRES_AT)
        .value(":type", s(kind::REMINDER))
        .value(":sending", s("sending"))
        .value(":claim", s(claim_id))
        .value(":now", n(now))
        .value(":expires", n(now + KEEP_SECONDS));
        let condition = Expr::new("attribute_not_exists(#pk) OR #state = :released")
            .name("#pk", keys::PK)
            .name("#state", attr::STATE)
            .value(":released", s("released"));
        let key = reminder_key(customer_id, license_id, id);
        applied(self.update_item(expr::update(&self.table, key, set, condition)?).send().await)
    }

    /// Records how a claimed reminder ended (while `claim_id` holds it).
    pub async fn settle_reminder(
        &self,
        customer_id: &str,
        license_id: &str,
        id: &str,
        claim_id: &str,
        settled: Settled,
        detail: &str,
    ) -> Result<bool> {
        let (state, field) = match settled {
            Settled::Sent => ("sent", attr::MESSAGE_ID),
            Settled::Failed => ("failed", attr::ERROR),
        };
        let set = Expr::new("SET #state = :state, #detail = :detail")
            .name("#state", attr::STATE)
            .name("#detail", field)
            .value(":state", s(state))
            .value(":detail", s(detail));
        self.while_reminder_claimed(customer_id, license_id, id, claim_id, set).await
    }

    /// Gives a claim back after a failure worth retrying (throttling, SES
    /// unreachable): the next run sends it.
    pub async fn release_reminder(
        &self,
        customer_id: &str,
        license_id: &str,
        id: &str,
        claim_id: &str,
    ) -> Result<bool> {
        let set = Expr::new("SET #state = :released")
            .name("#state", attr::STATE)
            .value(":released", s("released"));
        self.while_reminder_claimed(customer_id, license_id, id, claim_id, set).await
    }

    async fn while_reminder_claimed(
        &self,
        customer_id: &str,
        license_id: &str,
        id: &str,
        claim_id: &str,
        set: Expr,
    ) -> Result<bool> {
        let condition = Expr::new("#claim = :claim_id")
            .name("#claim", attr::CLAIM_ID)
            .value(":claim_id", AttributeValue::S(claim_id.into()));
        let key = reminder_key(customer_id, license_id, id);
        let update = expr::update(&self.table, key, set, condition)?;
        applied(self.update_item(update).send().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reads_each_month_it_touches_once() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(months(d("2026-12-02"), d("2027-01-01")), [d("2026-12-01"), d("2027-01-01")]);
        assert_eq!(months(d("2026-03-01"), d("2026-03-31")), [d("2026-03-01")]);
        assert_eq!(keys::reminders_of_month(d("2027-01-05")), "REMIND#2027-01");
        assert_eq!(keys::reminder_day(d("2027-01-05")), "2027-01-05");
    }
}
