//! Expressions by name. Every condition the store puts on a write, and every
//! update it makes, is built here with its own placeholders (`#name` for an
//! attribute name, `:value` for a value), so a rule such as "only while the
//! batch is still pending" is spelled once and its text is unit-tested.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, Update};
use chrono::{DateTime, NaiveDate, Utc};

use super::keys::{self, attr};
use super::{Item, n, s};
use crate::error::{Error, Result};
use crate::model::InvitationStatus;

/// An expression and the placeholders it uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expr {
    pub text: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }

    /// `#placeholder` stands for the attribute `name`.
    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.into(), name.into());
        self
    }

    /// `:placeholder` stands for `value`.
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// Both conditions.
    pub fn and(self, other: Expr) -> Expr {
        let mut both = self.merged(&other);
        both.text = format!("({}) AND ({})", self.text, other.text);
        both
    }

    /// Either condition.
    pub fn or(self, other: Expr) -> Expr {
        let mut either = self.merged(&other);
        either.text = format!("({}) OR ({})", self.text, other.text);
        either
    }

    /// This expression's text with the placeholders of both.
    fn merged(&self, other: &Expr) -> Expr {
        let mut merged = self.clone();
        for (k, v) in &other.names {
            debug_assert!(merged.names.get(k).is_none_or(|old| old == v), "{k}");
            merged.names.insert(k.clone(), v.clone());
        }
        for (k, v) in &other.values {
            debug_assert!(merged.values.get(k).is_none_or(|old| old == v), "{k}");
            merged.values.insert(k.clone(), v.clone());
        }
        merged
    }

    /// An update of named attributes: each set to its value, or removed
    /// (`None`), with placeholders of its own (`#u<n>`, `:u<n>`).
    pub fn assigning(fields: &[(&str, Option<AttributeValue>)]) -> Self {
        let (mut set, mut remove, mut e) = (Vec::new(), Vec::new(), Self::default());
        for (i, (name, value)) in fields.iter().enumerate() {
            let placeholder = format!("#u{i}");
            e = e.name(&placeholder, name);
            match value {
                Some(value) => {
                    set.push(format!("{placeholder} = :u{i}"));
                    e = e.value(&format!(":u{i}"), value.clone());
                }
                None => remove.push(placeholder),
            }
        }
        let mut text = Vec::new();
        if !set.is_empty() {
            text.push(format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            text.push(format!("REMOVE {}", remove.join(", ")));
        }
        Self { text: text.join(" "), ..e }
    }

    // ------------------------------------------------------------ conditions

    /// The item exists.
    pub fn item_exists() -> Self {
        Self::new("attribute_exists(#pk)").name("#pk", keys::PK)
    }

    /// The item does not exist yet.
    pub fn item_absent() -> Self {
        Self::new("attribute_not_exists(#pk)").name("#pk", keys::PK)
    }

    /// The licence is still at the version the writer read: the
    /// optimistic-concurrency check of every capacity decision.
    pub fn version_is(version: u64) -> Self {
        Self::new("#version = :version")
            .name("#version", attr::VERSION)
            .value(":version", n(version))
    }

    /// A parked event is this one (by its event id).
    pub fn event_id_is(event_id: &str) -> Self {
        Self::new("#event_id = :event_id")
            .name("#event_id", attr::EVENT_ID)
            .value(":event_id", AttributeValue::S(event_id.to_string()))
    }

    /// `#map.#field = :map_field`: a field of a map attribute has this value.
    fn field_is(map: &str, field: &str, value: AttributeValue) -> Self {
        let placeholder = format!(":{map}_{field}");
        Self::new(format!("#{map}.#{field} = {placeholder}"))
            .name(&format!("#{map}"), map)
            .name(&format!("#{field}"), field)
            .value(&placeholder, value)
    }

    /// The licence still has this operation pending: a bulk batch, a
    /// renewal's or cancellation's fan-out, a reclaim policy's rekeying, or
    /// a group rule's run.
    pub fn op_pending(op: &str) -> Self {
        Self::field_is(attr::PENDING, attr::ID, s(op))
            .or(Self::field_is(attr::FANOUT, attr::ID, s(op)))
            .or(Self::field_is(attr::REKEY, attr::ID, s(op)))
            .or(Self::field_is(attr::RULE, attr::ID, s(op)))
    }

    /// The assignment's period still ends on `until`.
    pub fn until_is(until: NaiveDate) -> Self {
        Self::new("#valid_until = :until_before")
            .name("#valid_until", attr::VALID_UNTIL)
            .value(":until_before", s(until.to_string()))
    }

    /// The assignment's `lastActiveOn` is still `day` (absent for `None`).
    pub fn last_active_is(day: Option<NaiveDate>) -> Self {
        let e = Self::new("").name("#last_active", attr::LAST_ACTIVE_ON);
        match day {
            None => Self { text: "attribute_not_exists(#last_active)".into(), ..e },
            Some(day) => Self { text: "#last_active = :last_active".into(), ..e }
                .value(":last_active", s(day.to_string())),
        }
    }

    /// The assignment's reclaim warning is still `at` (absent for `None`).
    pub fn warned_at_is(at: Option<DateTime<Utc>>) -> Self {
        let e = Self::new("").name("#warned_at", attr::RECLAIM_WARNED_AT);
        match at {
            None => Self { text: "attribute_not_exists(#warned_at)".into(), ..e },
            Some(at) => Self { text: "#warned_at = :warned_at".into(), ..e }
                .value(":warned_at", s(timestamp(at))),
        }
    }

    /// The assignment's copy of the reclaim rule is still one of
    /// `inactive_days` (absent for `None`).
    pub fn rule_inactive_days_is(inactive_days: Option<u32>) -> Self {
        match inactive_days {
            None => Self::new("attribute_not_exists(#reclaim_rule)")
                .name("#reclaim_rule", attr::RECLAIM_RULE),
            Some(days) => Self::field_is(attr::RECLAIM_RULE, attr::INACTIVE_DAYS, n(days)),
        }
    }

    /// The assignment's invitation has this status.
    pub fn invitation_is(status: InvitationStatus) -> Self {
        Self::field_is(attr::INVITATION, attr::STATUS, s(status.as_str()))
    }

    /// The assignment is not revoked (`revokedAt` absent or null).
    pub fn not_revoked() -> Self {
        Self::new("attribute_not_exists(#revoked_at) OR attribute_type(#revoked_at, :null_type)")
            .name("#revoked_at", attr::REVOKED_AT)
            .value(":null_type", s("NULL"))
    }

    /// The assignment is revoked (`revokedAt` is a timestamp).
    pub fn revoked() -> Self {
        Self::new("attribute_type(#revoked_at, :string_type)")
            .name("#revoked_at", attr::REVOKED_AT)
            .value(":string_type", s("S"))
    }

    /// The last invitation asked for is still the one read.
    pub fn invited_at_is(at: Option<DateTime<Utc>>) -> Self {
        match at {
            Some(at) => Self::new("#invited_at = :invited_before")
                .name("#invited_at", attr::INVITED_AT)
                .value(":invited_before", s(timestamp(at))),
            None => {
                Self::new("attribute_not_exists(#invited_at)").name("#invited_at", attr::INVITED_AT)
            }
        }
    }

    /// `claim_id` still holds the assignment's invitation.
    pub fn claim_is(claim_id: &str) -> Self {
        Self::field_is(attr::INVITATION_CLAIM, attr::ID, s(claim_id))
    }

    /// Nobody holds the invitation, or only a claim taken before `stale_before`.
    pub fn claim_free_or_stale(stale_before: i64) -> Self {
        let claim = attr::INVITATION_CLAIM;
        Self::new(format!("attribute_not_exists(#{claim}) OR #{claim}.#claimed_at < :stale_before"))
            .name(&format!("#{claim}"), claim)
            .name("#claimed_at", attr::AT)
            .value(":stale_before", n(stale_before))
    }

    /// A counter has room for `adding` more below `limit`.
    pub fn room_for(adding: u32, limit: u32) -> Self {
        Self::new("attribute_not_exists(#used) OR #used <= :room")
            .name("#used", attr::USED)
            .value(":room", n(i64::from(limit) - i64::from(adding)))
    }
}

/// A timestamp as the items store it (serde's RFC 3339 of `DateTime<Utc>`).
/// A Query's key condition by name: the table or an index, one partition,
/// and optionally a range of its sort keys. Built like the conditions, so
/// every Query names its keys the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRange {
    /// `None`: the base table.
    pub index: Option<&'static str>,
    pub condition: Expr,
    sk: &'static str,
}

impl KeyRange {
    fn on(index: Option<&'static str>, pk_name: &str, sk: &'static str, pk: String) -> Self {
        let condition = Expr::new("#pk = :pk").name("#pk", pk_name).value(":pk", s(pk));
        Self { index, condition, sk }
    }

    /// One partition of the base table.
    pub fn table(pk: impl Into<String>) -> Self {
        Self::on(None, keys::PK, keys::SK, pk.into())
    }

    /// One partition of GSI1.
    pub fn gsi1(pk: impl Into<String>) -> Self {
        Self::on(Some(keys::GSI1), keys::GSI1PK, keys::GSI1SK, pk.into())
    }

    /// One partition of GSI2.
    pub fn gsi2(pk: impl Into<String>) -> Self {
        Self::on(Some(keys::GSI2), keys::GSI2PK, keys::GSI2SK, pk.into())
    }

    /// One partition of GSI3.
    pub fn gsi3(pk: impl Into<String>) -> Self {
        Self::on(Some(keys::GSI3), keys::GSI3PK, keys::GSI3SK, pk.into())
    }

    fn sort_key(mut self, text: &str, values: &[(&str, String)]) -> Self {
        let c = &mut self.condition;
        c.text = format!("{} AND {text}", c.text);
        c.names.insert("#sk".into(), self.sk.into());
        for (placeholder, value) in values {
            c.values.insert((*placeholder).into(), s(value.as_str()));
        }
        self
    }

    /// Sort keys that start with `prefix`.
    pub fn begins_with(self, prefix: impl Into<String>) -> Self {
        self.sort_key("begins_with(#sk, :prefix)", &[(":prefix", prefix.into())])
    }

    /// Sort keys before `bound`.
    pub fn before(self, bound: impl Into<String>) -> Self {
        self.sort_key("#sk < :bound", &[(":bound", bound.into())])
    }

    /// Sort keys up to `bound`, inclusive.
    pub fn up_to(self, bound: impl Into<String>) -> Self {
        self.sort_key("#sk <= :bound", &[(":bound", bound.into())])
    }

    /// Sort keys from `from` to `to`, inclusive.
    pub fn between(self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.sort_key("#sk BETWEEN :from AND :to", &[(":from", from.into()), (":to", to.into())])
    }
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn names(e: &Expr) -> Option<HashMap<String, String>> {
    (!e.names.is_empty()).then(|| e.names.clone())
}

fn values(e: &Expr) -> Option<HashMap<String, AttributeValue>> {
    (!e.values.is_empty()).then(|| e.values.clone())
}

/// A builder of a Put or a Delete with `condition` (none when `None`): the
/// SDK's builders share these setters, not a trait.
macro_rules! conditioned {
    ($builder:expr, $condition:expr) => {{
        let condition = $condition.unwrap_or_default();
        let text = (!condition.text.is_empty()).then(|| condition.text.clone());
        $builder
            .set_condition_expression(text)
            .set_expression_attribute_names(names(&condition))
            .set_expression_attribute_values(values(&condition))
            .build()
            .map_err(Error::unavailable)
    }};
}

/// A Put of `item` under `condition`.
pub fn put(table: &str, item: Item, condition: Option<Expr>) -> Result<Put> {
    conditioned!(Put::builder().table_name(table).set_item(Some(item)), condition)
}

/// An Update of the item at `key`: `update` under `condition`.
pub fn update(table: &str, key: Item, update: Expr, condition: Expr) -> Result<Update> {
    let all = update.merged(&condition);
    Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(update.text)
        .condition_expression(condition.text)
        .set_expression_attribute_names(names(&all))
        .set_expression_attribute_values(values(&all))
        .build()
        .map_err(Error::unavailable)
}

/// A Delete of the item at `key` (under `condition`, if any).
pub fn delete(table: &str, key: Item, condition: Option<Expr>) -> Result<Delete> {
    conditioned!(Delete::builder().table_name(table).set_key(Some(key)), condition)
}

/// A check that fails the transaction unless `condition` holds for `key`.
pub fn check(table: &str, key: Item, condition: Expr) -> Result<ConditionCheck> {
    ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key))
        .condition_expression(condition.text.clone())
        .set_expression_attribute_names(names(&condition))
        .set_expression_attribute_values(values(&condition))
        .build()
        .map_err(Error::unavailable)
}

#[cfg(test)]
mod tests;
