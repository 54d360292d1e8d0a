//! Writes, all in transactions: each `Write` is one item of a
//! `TransactWriteItems` with the condition that makes it safe.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use chrono::{DateTime, NaiveDate, Utc};

use super::expr::{self, Expr};
use super::items::{self, value};
use super::keys::{self, attr};
use super::{OnRevoke, Order, OrderEvent, ParkedEvent, Store, sdk};
use crate::error::{Error, Result};
use crate::model::{
    Assignment, Entry, Exclusion, IdleRule, Invitation, InvitationError, InvitationStatus, License,
    Period, Undo, WaitingEntry,
};

/// An assignment's `lastActiveOn` as a reader saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastActive(pub Option<NaiveDate>);

/// DynamoDB's limit on items in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// One write of a transaction. (A licence is the largest variant; writes
/// live only in the one short list of their transaction, so none is boxed.)
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Write {
    /// The whole licence item; `expected_version: None` means it must not exist yet.
    License {
        license: License,
        expected_version: Option<u64>,
    },
    /// A whole assignment item (new, or replacing a revoked or ended one).
    Assignment(Assignment),
    /// A new period for an existing assignment, and (v3) whether it is
    /// exempt from reclaim; at least one of them. `idle_due`: its day in the
    /// idle index afterwards (`None`: out of it).
    Period {
        customer_id: String,
        license_id: String,
        email: String,
        period: Option<Period>,
        reclaim_exempt: Option<bool>,
        idle_due: Option<NaiveDate>,
    },
    /// v3, reclaim: an assignment's idle state as the daily run or a policy
    /// change writes it: its copy of the licence's rule, the warning given
    /// now (if one is), and its day in the idle index (`None`: out of it).
    /// Only while it is not revoked, unused and not warned since it was read
    /// (`last_active_on`, `warned_before`), so an overlapping run warns once.
    Idle {
        customer_id: String,
        license_id: String,
        email: String,
        last_active_on: Option<NaiveDate>,
        warned_before: Option<DateTime<Utc>>,
        rule: Option<IdleRule>,
        warned_at: Option<DateTime<Utc>>,
        due: Option<NaiveDate>,
    },
    /// A renewal or cancellation moves an assignment's end to `until`,
    /// keeping what it was in `undo` (only while it still ends there and is
    /// not revoked).
    Move {
        customer_id: String,
        license_id: String,
        email: String,
        until: NaiveDate,
        undo: Undo,
        /// Its day in the idle index with the new end (`None`: out of it).
        idle_due: Option<NaiveDate>,
    },
    /// Revokes an assignment that is not revoked, doing to its invitation
    /// what `invitation` says (the write fails if the invitation changed
    /// since it was read); `undo` when a cancellation's fan-out revokes it.
    Revoke {
        customer_id: String,
        license_id: String,
        email: String,
        at: DateTime<Utc>,
        by: String,
        invitation: OnRevoke,
        undo: Option<Undo>,
        /// A reclaim of an idle seat: only if its `lastActiveOn` is still
        /// this (the person did not use it since the run read it).
        unused: Option<LastActive>,
    },
    /// Records how a claimed invitation ended (while `claim_id` holds it).
    InvitationOutcome {
        customer_id: String,
        license_id: String,
        email: String,
        claim_id: String,
        outcome: Invitation,
        message_id: Option<String>,
    },
    /// A history entry (new; an operation's retried step writes the same
    /// entry again).
    Entry(Entry),
    /// Asks for the invitation again (a resend): pending, unclaimed, invited
    /// `at`; only if the last invitation was still the one read
    /// (`invited_before`), so that two resends cannot both pass the cooldown.
    Reinvite {
        customer_id: String,
        license_id: String,
        email: String,
        at: DateTime<Utc>,
        invited_before: Option<DateTime<Utc>>,
    },
    /// Counts `addresses` against the customer's budget of `kind`
    /// ([`keys::ASSIGN_BUDGET`], …) of `limit` in the window starting at
    /// `window` (epoch seconds); fails the transaction when they do not fit.
    Budget {
        kind: String,
        customer_id: String,
        window: i64,
        addresses: u32,
        limit: u32,
    },
    /// Fails the transaction unless the licence still has this operation
    /// pending (a bulk batch or a fan-out).
    StillPending {
        customer_id: String,
        license_id: String,
        op: String,
    },
    Order(Order),
    /// A lifecycle event, applied once (fails if it was already).
    OrderEvent(OrderEvent),
    /// A lifecycle event parked until its turn (fails if another event is
    /// parked under its number).
    Parked(ParkedEvent),
    /// Fails the transaction once the order is known (a purchase came).
    OrderUnknown {
        order_id: String,
    },
    /// v3: a person on a licence's waiting list, put or taken off (`gone`).
    Waiting(WaitingEntry),
    /// v3: a person out of a licence's rules.
    Exclude(Exclusion),
    /// v3: a person back in a licence's rules.
    Readmit {
        customer_id: String,
        license_id: String,
        email: String,
    },
    /// v3: a part of a rule's run written (fails if another writer wrote it).
    PartDone {
        customer_id: String,
        license_id: String,
        op: String,
        part: u32,
    },
    /// Fails the transaction unless the licence is still at this version.
    LicenseAt {
        customer_id: String,
        license_id: String,
        version: u64,
    },
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError {
    /// A condition failed: the indexes of the writes whose condition failed.
    Condition(Vec<usize>),
    /// Another transaction touched the same items at the same time.
    Busy,
    Failed(Error),
}

impl From<Error> for TxError {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

impl Store {
    /// Commits `writes` (at most 100) atomically.
    pub async fn transact(&self, writes: &[Write]) -> Result<(), TxError> {
        debug_assert!(writes.len() <= MAX_TRANSACTION_ITEMS);
        let items = writes.iter().map(|w| self.transact_item(w)).collect::<Result<Vec<_>>>()?;
        self.transact_items(items).await
    }

    /// One transaction of items a record family built itself (the
    /// conditions by name, from `expr`), with the same failure mapping.
    pub(super) async fn transact_items(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), TxError> {
        let result =
            self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => Err(cancelled(e.err())),
            Err(e) => Err(TxError::Failed(sdk(e))),
        }
    }

    /// Commits `steps` as one transaction; when one's condition fails, the
    /// conflict of the first that failed (`busy`: when DynamoDB names none,
    /// or another transaction was in the way).
    pub(super) async fn commit_refusable<C>(
        &self,
        steps: Vec<Refusable<C>>,
        busy: C,
    ) -> Result<(), ConflictOr<C>> {
        let (items, refusals): (Vec<_>, Vec<_>) =
            steps.into_iter().map(|s| (s.item, s.refused)).unzip();
        match self.transact_items(items).await {
            Ok(()) => Ok(()),
            Err(TxError::Condition(failed)) => {
                let first = failed.first().and_then(|i| refusals.into_iter().nth(*i));
                Err(ConflictOr::Conflict(first.unwrap_or(busy)))
            }
            Err(TxError::Busy) => Err(ConflictOr::Conflict(busy)),
            Err(TxError::Failed(e)) => Err(ConflictOr::Failed(e)),
        }
    }

    pub(super) fn transact_item(&self, write: &Write) -> Result<TransactWriteItem> {
        let table = &self.table;
        let item = TransactWriteItem::builder();
        Ok(match write {
            Write::License { license, expected_version } => {
                let condition = expected_version.map_or_else(Expr::item_absent, Expr::version_is);
                item.put(expr::put(table, items::license_item(license)?, Some(condition))?)
            }
            Write::Assignment(a) => item.put(expr::put(table, items::assignment_item(a)?, None)?),
            Write::Period { customer_id, license_id, email, period, reclaim_exempt, idle_due } => {
                let key = items::assignment_key(customer_id, license_id, email);
                let set = set_fields(email, period.as_ref(), *reclaim_exempt, *idle_due)?;
                let condition = Expr::item_exists().and(Expr::not_revoked());
                item.update(expr::update(table, key, set, condition)?)
            }
            Write::Idle {
                customer_id,
                license_id,
                email,
                last_active_on,
                warned_before,
                rule,
                warned_at,
                due,
            } => {
                let key = items::assignment_key(customer_id, license_id, email);
                let mut fields = vec![(attr::RECLAIM_RULE, rule.as_ref().map(value).transpose()?)];
                if let Some(at) = warned_at {
                    fields.push((attr::RECLAIM_WARNED_AT, Some(value(at)?)));
                }
                fields.extend(idle_fields(email, *due));
                let condition = Expr::item_exists()
                    .and(Expr::not_revoked())
                    .and(Expr::last_active_is(*last_active_on))
                    .and(Expr::warned_at_is(*warned_before));
                item.update(expr::update(table, key, Expr::assigning(&fields), condition)?)
            }
            Write::Move { customer_id, license_id, email, until, undo, idle_due } => {
                let key = items::assignment_key(customer_id, license_id, email);
                let condition = Expr::item_exists()
                    .and(Expr::until_is(undo.valid_until))
                    .and(Expr::not_revoked());
                let update = moved(email, *until, undo, *idle_due)?;
                item.update(expr::update(table, key, update, condition)?)
            }
            Write::Revoke { customer_id, license_id, email, at, by, invitation, undo, unused } => {
                let key = items::assignment_key(customer_id, license_id, email);
                let update = revoke(at, by, invitation, undo.as_ref())?;
                let mut condition = revocable(invitation);
                if let Some(LastActive(day)) = unused {
                    condition = condition.and(Expr::last_active_is(*day));
                }
                item.update(expr::update(table, key, update, condition)?)
            }
            Write::InvitationOutcome {
                customer_id,
                license_id,
                email,
                claim_id,
                outcome,
                message_id,
            } => {
                let key = items::assignment_key(customer_id, license_id, email);
                let update = invitation_outcome(outcome, message_id.as_deref())?;
                item.update(expr::update(table, key, update, Expr::claim_is(claim_id))?)
            }
            Write::Entry(entry) => item.put(expr::put(table, items::entry_item(entry)?, None)?),
            Write::Reinvite { customer_id, license_id, email, at, invited_before } => {
                let key = items::assignment_key(customer_id, license_id, email);
                let condition = Expr::item_exists().and(Expr::invited_at_is(*invited_before));
                item.update(expr::update(table, key, reinvite(at)?, condition)?)
            }
            Write::Budget { kind, customer_id, window, addresses, limit } => {
                item.update(self.budget_update(customer_id, kind, *window, *addresses, *limit)?)
            }
            Write::StillPending { customer_id, license_id, op } => {
                let key = items::license_key(customer_id, license_id);
                item.condition_check(expr::check(table, key, Expr::op_pending(op))?)
            }
            Write::LicenseAt { customer_id, license_id, version } => {
                let key = items::license_key(customer_id, license_id);
                item.condition_check(expr::check(table, key, Expr::version_is(*version))?)
            }
            order @ (Write::Order(_)
            | Write::OrderEvent(_)
            | Write::Parked(_)
            | Write::OrderUnknown { .. }) => self.order_write(item, order)?,
            rule @ (Write::Waiting(_)
            | Write::Exclude(_)
            | Write::Readmit { .. }
            | Write::PartDone { .. }) => self.rule_write(item, rule)?,
        }
        .build())
    }
}

/// A revocation's condition: not revoked yet, and its invitation as read
/// (see [`OnRevoke`]).
fn revocable(invitation: &OnRevoke) -> Expr {
    Expr::item_exists().and(Expr::not_revoked()).and(match invitation {
        OnRevoke::Keep(status) => Expr::invitation_is(*status),
        OnRevoke::Cancel { stale_before } => Expr::invitation_is(InvitationStatus::Pending)
            .and(Expr::claim_free_or_stale(*stale_before)),
        OnRevoke::LeaveToSender { claim_id } => Expr::claim_is(claim_id),
    })
}

fn set_fields(
    email: &str,
    period: Option<&Period>,
    reclaim_exempt: Option<bool>,
    idle_due: Option<NaiveDate>,
) -> Result<Expr> {
    let mut fields = Vec::new();
    if let Some(period) = period {
        fields.push((attr::VALID_FROM, Some(value(&period.from)?)));
        fields.push((attr::VALID_UNTIL, Some(value(&period.until)?)));
        // A non-revoked assignment's GSI2 keys follow its new end (see
        // `reminders::assignment_index_day`).
        let day = crate::reminders::access_index_day(period.until);
        fields.extend(items::reminder_index(day).map(|(k, v)| (k, Some(v))));
    }
    if let Some(exempt) = reclaim_exempt {
        fields.push((attr::RECLAIM_EXEMPT, Some(AttributeValue::Bool(exempt))));
    }
    fields.extend(idle_fields(email, idle_due));
    Ok(Expr::assigning(&fields))
}

/// GSI3's keys of an assignment of `email` due on `due`, or their removal.
fn idle_fields(email: &str, due: Option<NaiveDate>) -> [(&'static str, Option<AttributeValue>); 2] {
    match due {
        Some(day) => items::idle_index(email, day).map(|(k, v)| (k, Some(v))),
        None => [(keys::GSI3PK, None), (keys::GSI3SK, None)],
    }
}

/// The invitation pending again, unclaimed, asked for `at`.
fn reinvite(at: &DateTime<Utc>) -> Result<Expr> {
    Ok(Expr::new("SET #invitation = :inv, #invited_at = :at REMOVE #claim, #due")
        .name("#invitation", attr::INVITATION)
        .name("#invited_at", attr::INVITED_AT)
        .name("#claim", attr::INVITATION_CLAIM)
        .name("#due", attr::INVITATION_DUE_AT)
        .value(":inv", value(&Invitation::new(InvitationStatus::Pending))?)
        .value(":at", value(at)?))
}

/// The update of a revoke: revoked, an unsent invitation cancelled, and
/// what a fan-out needs to show the item as it was.
fn revoke(
    at: &DateTime<Utc>,
    by: &str,
    invitation: &OnRevoke,
    undo: Option<&Undo>,
) -> Result<Expr> {
    let mut set = Expr::new("SET #revoked_at = :at, #revoked_by = :by")
        .name("#revoked_at", attr::REVOKED_AT)
        .name("#revoked_by", attr::REVOKED_BY)
        .value(":at", value(at)?)
        .value(":by", super::s(by));
    if let OnRevoke::Cancel { .. } = invitation {
        let not_sent = value(&Invitation::failed(InvitationError::NotSent))?;
        set = set.name("#invitation", attr::INVITATION).value(":not_sent", not_sent);
        set.text.push_str(", #invitation = :not_sent");
    }
    if let Some(undo) = undo {
        set = set.name("#undo", attr::UNDO).value(":undo", value(undo)?);
        set.text.push_str(", #undo = :undo");
    }
    // A revoked assignment is no reminder candidate any more, nor idle.
    set.text.push_str(" REMOVE #gsi2pk, #gsi2sk, #gsi3pk, #gsi3sk");
    Ok(set
        .name("#gsi2pk", keys::GSI2PK)
        .name("#gsi2sk", keys::GSI2SK)
        .name("#gsi3pk", keys::GSI3PK)
        .name("#gsi3sk", keys::GSI3SK))
}

/// A fan-out's move of an assignment's end, and what it was.
fn moved(email: &str, until: NaiveDate, undo: &Undo, idle_due: Option<NaiveDate>) -> Result<Expr> {
    let mut fields =
        vec![(attr::VALID_UNTIL, Some(value(&until)?)), (attr::UNDO, Some(value(undo)?))];
    let day = crate::reminders::access_index_day(until);
    fields.extend(items::reminder_index(day).map(|(k, v)| (k, Some(v))));
    fields.extend(idle_fields(email, idle_due));
    Ok(Expr::assigning(&fields))
}

/// How a claimed invitation ended; the claim is given back.
fn invitation_outcome(outcome: &Invitation, message_id: Option<&str>) -> Result<Expr> {
    let mut set = Expr::new("SET #invitation = :inv")
        .name("#invitation", attr::INVITATION)
        .name("#claim", attr::INVITATION_CLAIM)
        .name("#due", attr::INVITATION_DUE_AT)
        .value(":inv", value(outcome)?);
    if let Some(id) = message_id {
        set =
            set.name("#message_id", attr::INVITATION_MESSAGE_ID).value(":message_id", super::s(id));
        set.text.push_str(", #message_id = :message_id");
    }
    set.text.push_str(" REMOVE #claim, #due");
    Ok(set)
}

/// Sorts a cancelled transaction: a failed condition, a conflict, or else.
pub(super) fn cancelled(error: &TransactWriteItemsError) -> TxError {
    match error {
        TransactWriteItemsError::TransactionCanceledException(tc) => {
            let reasons = tc.cancellation_reasons();
            let failed: Vec<usize> = reasons
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect();
            if !failed.is_empty() {
                TxError::Condition(failed)
            } else if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                TxError::Busy
            } else {
                TxError::Failed(Error::Unavailable(format!("{tc:?}")))
            }
        }
        TransactWriteItemsError::TransactionInProgressException(_) => TxError::Busy,
        other => TxError::Failed(Error::Unavailable(format!("{other:?}"))),
    }
}

/// One write of a record family's transaction, with what its failed
/// condition means to the caller.
pub(super) struct Refusable<C> {
    pub item: TransactWriteItem,
    pub refused: C,
}

/// A write's failure: a conflict of the data (what the family says it
/// means), or a dependency.
#[derive(Debug, PartialEq, Eq)]
pub enum ConflictOr<C> {
    Conflict(C),
    Failed(Error),
}

impl<C> From<Error> for ConflictOr<C> {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}
