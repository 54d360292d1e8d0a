//! Claims on invitations: the assignment item is the outbox record, and
//! `notify` claims it with a conditional update before sending, so a stream
//! record delivered twice sends once.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::expr::{self, Expr};
use super::items::{self, from_item, value};
use super::keys::attr;
use super::{Item, Store, applied, n, s, sdk};
use crate::error::Result;
use crate::model::{Assignment, Invitation, InvitationError, InvitationStatus};

/// A claim older than this belongs to a `notify` run that died before it
/// finished; another run takes it over. Longer than the function's timeout.
pub const STALE_INVITATION_CLAIM_SECONDS: i64 = 60;

/// What claiming an invitation found.
#[derive(Debug, PartialEq)]
pub enum InvitationClaim {
    /// Ours to send.
    Claimed(Box<Assignment>),
    /// Nothing to send: sent, failed for good, revoked, or the assignment is gone.
    Settled,
    /// Another run holds a fresh claim: try again later (it may have died).
    Busy,
}

/// `SET #invitation = :inv` with the invitation's item form.
fn set_invitation(invitation: &Invitation) -> Result<Expr> {
    Ok(Expr::new("SET #invitation = :inv")
        .name("#invitation", attr::INVITATION)
        .value(":inv", value(invitation)?))
}

/// What a revoke does to the invitation it read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnRevoke {
    /// Not pending: left as it is (still this status).
    Keep(InvitationStatus),
    /// Pending and nobody sending it: it ends `not-sent` (while still
    /// unclaimed, or claimed before `stale_before` by a run that died).
    Cancel { stale_before: i64 },
    /// Pending and claimed by a run that may be handing it to SES right now:
    /// left to that run, which records what it did (while `claim_id` holds it).
    LeaveToSender { claim_id: String },
}

impl OnRevoke {
    /// What a revoke (an admin's, or a cancellation's fan-out) does to the
    /// invitation of `a` as read at `now` (epoch seconds).
    pub fn of(a: &Assignment, now: i64) -> Self {
        let stale_before = now - STALE_INVITATION_CLAIM_SECONDS;
        match (a.invitation.status, &a.invitation_claim) {
            (InvitationStatus::Pending, Some(claim)) if claim.at >= stale_before => {
                OnRevoke::LeaveToSender { claim_id: claim.id.clone() }
            }
            (InvitationStatus::Pending, _) => OnRevoke::Cancel { stale_before },
            (status, _) => OnRevoke::Keep(status),
        }
    }
}

impl Store {
    /// Claims a pending invitation of an assignment that is not revoked, for
    /// `claim_id` (unique per attempt).
    pub async fn claim_invitation(
        &self,
        customer_id: &str,
        license_id: &str,
        email: &str,
        claim_id: &str,
        now: i64,
    ) -> Result<InvitationClaim> {
        let claim = AttributeValue::M(HashMap::from([
            (attr::ID.to_string(), s(claim_id)),
            (attr::AT.to_string(), n(now)),
        ]));
        let set = Expr::new("SET #claim = :claim")
            .name("#claim", attr::INVITATION_CLAIM)
            .value(":claim", claim);
        // Never for a revoked assignment: a revoke may come between the
        // stream record and this claim, or while retries are pending.
        let condition = Expr::invitation_is(InvitationStatus::Pending)
            .and(Expr::not_revoked())
            .and(Expr::claim_free_or_stale(now - STALE_INVITATION_CLAIM_SECONDS));
        let key = items::assignment_key(customer_id, license_id, email);
        let update = expr::update(&self.table, key, set, condition)?;
        let out = self
            .update_item(update)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let current = match out {
            Ok(out) => {
                return match out.attributes {
                    Some(item) => Ok(InvitationClaim::Claimed(Box::new(from_item(item)?))),
                    None => Ok(InvitationClaim::Settled),
                };
            }
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                UpdateItemError::ConditionalCheckFailedException(c) => c.item,
                other => return Err(crate::error::Error::Unavailable(format!("{other:?}"))),
            },
            Err(e) => return Err(sdk(e)),
        };
        let Some(current) = current else {
            return Ok(InvitationClaim::Settled);
        };
        Ok(match (pending(&current), revoked(&current)) {
            (false, _) => InvitationClaim::Settled,
            // Revoked by an older version that left the invitation pending.
            (true, true) => {
                self.cancel_invitation(customer_id, license_id, email).await?;
                InvitationClaim::Settled
            }
            (true, false) => InvitationClaim::Busy,
        })
    }

    /// Ends a revoked assignment's unsent invitation as `not-sent`.
    async fn cancel_invitation(
        &self,
        customer_id: &str,
        license_id: &str,
        email: &str,
    ) -> Result<()> {
        let set = set_invitation(&Invitation::failed(InvitationError::NotSent))?;
        let condition = Expr::invitation_is(InvitationStatus::Pending)
            .and(Expr::revoked())
            .and(Expr::new("attribute_not_exists(#claim)").name("#claim", attr::INVITATION_CLAIM));
        let key = items::assignment_key(customer_id, license_id, email);
        let update = expr::update(&self.table, key, set, condition)?;
        applied(self.update_item(update).send().await).map(|_| ())
    }

    /// Gives a claim back after a failure worth retrying, so that the retry
    /// need not wait for the claim to go stale.
    pub async fn release_invitation(
        &self,
        assignment: &Assignment,
        claim_id: &str,
    ) -> Result<bool> {
        let remove = Expr::new("REMOVE #claim").name("#claim", attr::INVITATION_CLAIM);
        self.while_claimed(assignment, claim_id, remove).await
    }

    /// Applies `update` to the assignment only while `claim_id` holds its
    /// invitation; answers whether it still did.
    async fn while_claimed(&self, a: &Assignment, claim_id: &str, update: Expr) -> Result<bool> {
        let key = items::assignment_key(&a.customer_id, &a.license_id, &a.email);
        let update = expr::update(&self.table, key, update, Expr::claim_is(claim_id))?;
        applied(self.update_item(update).send().await)
    }
}

fn pending(item: &Item) -> bool {
    item.get(attr::INVITATION)
        .and_then(|i| i.as_m().ok()?.get(attr::STATUS)?.as_s().ok())
        .is_some_and(|status| status == InvitationStatus::Pending.as_str())
}

fn revoked(item: &Item) -> bool {
    item.get(attr::REVOKED_AT).is_some_and(|r| r.as_s().is_ok())
}
