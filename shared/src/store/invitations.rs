//! Claims on invitations: the assignment item is the outbox record, and
//! `notify` claims it with a conditional update before sending, so a stream
//! record delivered twice sends once.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{attr, from_item, s, sdk, Store};
use crate::error::Result;
use crate::model::{Assignment, Invitation, InvitationError};

/// A claim older than this belongs to a `notify` run that died before it
/// finished; another run takes it over. Longer than the function's timeout.
pub const STALE_INVITATION_CLAIM_SECONDS: i64 = 60;

/// What claiming an invitation found.
#[derive(Debug, PartialEq)]
pub enum InvitationClaim {
    /// Ours to send.
    Claimed(Box<Assignment>),
    /// Nothing to send: sent, failed for good, or the assignment is gone.
    Settled,
    /// Another run holds a fresh claim: try again later (it may have died).
    Busy,
}

impl Store {
    /// Claims a pending invitation for `claim_id`, unique per attempt.
    pub async fn claim_invitation(
        &self,
        customer_id: &str,
        license_id: &str,
        email: &str,
        claim_id: &str,
        now: i64,
    ) -> Result<InvitationClaim> {
        let claim = AttributeValue::M(HashMap::from([
            ("id".to_string(), s(claim_id)),
            ("at".to_string(), AttributeValue::N(now.to_string())),
        ]));
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::assignment_key(customer_id, license_id, email)))
            .update_expression("SET invitationClaim = :claim")
            // Never for a revoked assignment: a revoke may come between the
            // stream record and this claim, or while SES retries are pending.
            .condition_expression(
                "invitation.#st = :pending AND (attribute_not_exists(revokedAt) OR attribute_type(revokedAt, :null)) \
                 AND (attribute_not_exists(invitationClaim) OR invitationClaim.#at < :stale)",
            )
            .expression_attribute_values(":null", s("NULL"))
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":claim", claim)
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(
                ":stale",
                AttributeValue::N((now - STALE_INVITATION_CLAIM_SECONDS).to_string()),
            )
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let current = match out {
            Ok(out) => {
                return match out.attributes {
                    Some(item) => Ok(InvitationClaim::Claimed(Box::new(from_item(item)?))),
                    None => Ok(InvitationClaim::Settled),
                }
            }
            Err(e) => match e.as_service_error() {
                Some(se) if se.is_conditional_check_failed_exception() => match se {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => {
                        c.item().cloned()
                    }
                    _ => None,
                },
                _ => return Err(sdk(e)),
            },
        };
        let Some(current) = current else {
            return Ok(InvitationClaim::Settled);
        };
        let pending = current
            .get("invitation")
            .and_then(|i| i.as_m().ok()?.get("status")?.as_s().ok())
            .is_some_and(|status| status == "pending");
        let revoked = current.get("revokedAt").is_some_and(|r| r.as_s().is_ok());
        Ok(match (pending, revoked) {
            (false, _) => InvitationClaim::Settled,
            // Revoked by an older version that left the invitation pending.
            (true, true) => {
                self.cancel_invitation(customer_id, license_id, email)
                    .await?;
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
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::assignment_key(customer_id, license_id, email)))
            .update_expression("SET invitation = :inv")
            .condition_expression(
                "invitation.#st = :pending AND attribute_type(revokedAt, :string) \
                 AND attribute_not_exists(invitationClaim)",
            )
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":string", s("S"))
            .expression_attribute_values(
                ":inv",
                attr(&Invitation::failed(InvitationError::NotSent))?,
            )
            .send()
            .await;
        held(result).map(|_| ())
    }

    /// An update of an assignment that only applies while `claim_id` holds
    /// its invitation. Sent, it answers whether the claim was still held.
    fn while_claimed(
        &self,
        assignment: &Assignment,
        claim_id: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::assignment_key(
                &assignment.customer_id,
                &assignment.license_id,
                &assignment.email,
            )))
            .condition_expression("invitationClaim.#id = :id")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":id", s(claim_id))
    }

    /// Records the outcome of a claimed invitation. `false`: the claim was
    /// lost meanwhile (a resend reset it, or a stale claim was taken over).
    pub async fn finish_invitation(
        &self,
        assignment: &Assignment,
        claim_id: &str,
        outcome: &Invitation,
        message_id: Option<&str>,
    ) -> Result<bool> {
        let update = self
            .while_claimed(assignment, claim_id)
            .expression_attribute_values(":inv", attr(outcome)?);
        let update = match message_id {
            Some(id) => update
                .update_expression(
                    "SET invitation = :inv, invitationMessageId = :mid REMOVE invitationClaim",
                )
                .expression_attribute_values(":mid", s(id)),
            None => update.update_expression("SET invitation = :inv REMOVE invitationClaim"),
        };
        held(update.send().await)
    }

    /// Gives a claim back after a failure worth retrying, so that the retry
    /// need not wait for the claim to go stale.
    pub async fn release_invitation(
        &self,
        assignment: &Assignment,
        claim_id: &str,
    ) -> Result<bool> {
        let update = self
            .while_claimed(assignment, claim_id)
            .update_expression("REMOVE invitationClaim");
        held(update.send().await)
    }
}

/// Whether an update conditioned on a claim applied.
fn held<T>(
    result: std::result::Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    >,
) -> Result<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(sdk(e)),
    }
}
