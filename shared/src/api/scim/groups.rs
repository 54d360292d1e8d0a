//! SCIM Groups at the edge: a group as SCIM shows it; a group as an
//! identity provider sends it (POST, PUT) and PATCH's operations, both as
//! the [`GroupEdit`]s they mean (members added and removed, Entra's
//! `members[value eq "…"]` removes, Okta's removes with a list of values,
//! a path-less replace of `displayName`); and the filters groups are found
//! by (`displayName eq`, `externalId eq`, `id eq`, `members[value eq]`, and
//! `and` of these).

use scim_v2::filter::{AttrExp, CompareOp, Filter, PatchPath, ValFilter};
use serde_json::{Map, Value, json};

use super::discovery::GROUP_SCHEMA;
use super::filters::{attribute_of, invalid as invalid_filter, string};
use crate::error::{Error, FieldError, Result};
use crate::model::{Group, GroupEdit, MAX_DISPLAY, Member, Members, group_name_key};

/// A group as SCIM shows it, with its members when they were read,
/// `meta.location` below `base`.
pub fn to_scim(g: &Group, members: Option<&Members>, base: &str) -> Value {
    let mut doc = json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.id,
        "displayName": g.display_name,
        "meta": {
            "resourceType": "Group",
            "created": g.created,
            "lastModified": g.last_modified,
            "location": format!("{base}/Groups/{}", g.id),
            "version": format!("W/\"{}\"", g.version),
        },
    });
    if let Some(external_id) = &g.external_id {
        doc["externalId"] = json!(external_id);
    }
    if let Some(members) = members {
        doc["members"] = members
            .iter()
            .map(|m| {
                let mut member = json!({
                    "value": m.value, "type": "User", "$ref": format!("{base}/Users/{}", m.value),
                });
                if let Some(display) = m.display {
                    member["display"] = json!(display);
                }
                member
            })
            .collect();
    }
    doc
}

fn invalid(field: &str, message: &str) -> Error {
    Error::Validation(vec![FieldError::new(field, message)])
}

fn text(v: &Value, field: &str) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(invalid(field, "must be a string")),
    }
}

fn display_name(v: &Value) -> Result<String> {
    text(v, "displayName")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid("displayName", "is required"))
}

/// `members` as sent: `[{value, display?}]` (`type` and `$ref` ignored).
fn members(v: &Value) -> Result<Vec<Member>> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.as_slice(),
        // One member as an object, as some clients send it.
        Value::Object(_) => std::slice::from_ref(v),
        _ => return Err(invalid("members", "must be an array")),
    };
    items
        .iter()
        .map(|m| {
            let value = text(&m["value"], "members.value")?
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| invalid("members.value", "is required"))?;
            let display = text(&m["display"], "members.display")?;
            if display.as_ref().is_some_and(|d| d.chars().count() > MAX_DISPLAY) {
                return Err(invalid("members.display", "is at most 256 characters"));
            }
            Ok(Member { value: value.trim().to_string(), display })
        })
        .collect()
}

/// A group from a POST or PUT body: `displayName` required, `members` and
/// `externalId` as given (absent: none), everything else ignored; as the
/// edits that make a group so.
pub fn replacement(body: &Value) -> Result<Vec<GroupEdit>> {
    let Value::Object(attributes) = body else {
        return Err(invalid("body", "must be a SCIM Group"));
    };
    let get = |name: &str| {
        attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map_or(&Value::Null, |e| e.1)
    };
    Ok(vec![
        GroupEdit::Rename(display_name(get("displayName"))?),
        GroupEdit::ExternalId(text(get("externalId"), "externalId")?),
        GroupEdit::Replace(members(get("members"))?),
    ])
}

/// What a PATCH path names of a group.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    DisplayName,
    ExternalId,
    Members,
    /// `members[value eq "…"]` (or an `or` of such): these members.
    TheseMembers(Vec<String>),
    /// Another schema's attribute, or one not kept: the operation is ignored.
    Other,
}

fn target(path: &str) -> Result<Target> {
    let bad = |e: &dyn std::fmt::Display| invalid("path", &e.to_string());
    let parsed: PatchPath = path.parse().map_err(|e| bad(&e))?;
    let name = |p| attribute_of(p, GROUP_SCHEMA).ok();
    Ok(match parsed {
        PatchPath::Attr(p) => match name(&p).as_deref() {
            Some("displayname") => Target::DisplayName,
            Some("externalid") => Target::ExternalId,
            Some("members") => Target::Members,
            _ => Target::Other,
        },
        PatchPath::Value(v)
            if name(&v.attr).as_deref() == Some("members") && v.sub_attr.is_none() =>
        {
            Target::TheseMembers(member_values(v.filter).map_err(|_| {
                invalid("path", r#"members[...] takes value eq "<id>", or an or of them"#)
            })?)
        }
        PatchPath::Value(_) => Target::Other,
    })
}

/// The ids of `value eq "<id>"` conditions joined by `or`.
fn member_values(f: ValFilter) -> Result<Vec<String>> {
    match f {
        ValFilter::Attr(AttrExp::Comparison(p, CompareOp::Eq, v))
            if p.name.eq_ignore_ascii_case("value") =>
        {
            Ok(vec![string(v)?])
        }
        ValFilter::Or(operands) => {
            let mut ids = Vec::new();
            for f in operands.into_vec() {
                ids.extend(member_values(f)?);
            }
            Ok(ids)
        }
        _ => Err(invalid_filter("members[...] takes value eq")),
    }
}

/// Applies one attribute of a path-less add or replace.
fn whole(edits: &mut Vec<GroupEdit>, replace: bool, attributes: &Map<String, Value>) -> Result<()> {
    for (key, value) in attributes {
        match key.to_ascii_lowercase().as_str() {
            "displayname" => edits.push(GroupEdit::Rename(display_name(value)?)),
            "externalid" => edits.push(GroupEdit::ExternalId(text(value, "externalId")?)),
            "members" if replace => edits.push(GroupEdit::Replace(members(value)?)),
            "members" => edits.push(GroupEdit::Add(members(value)?)),
            _ => {}
        }
    }
    Ok(())
}

/// A PatchOp body's operations, in order, as the edits they mean.
pub fn patch(body: &Value) -> Result<Vec<GroupEdit>> {
    let ops = body.get("Operations").or_else(|| body.get("operations")).and_then(Value::as_array);
    let ops = ops.ok_or_else(|| invalid("Operations", "is required"))?;
    let mut edits = Vec::new();
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        let path = op.get("path").and_then(Value::as_str).map(target).transpose()?;
        let value = op.get("value").unwrap_or(&Value::Null);
        let edit = match (kind.as_str(), path) {
            ("add" | "replace", None) => {
                let Value::Object(attributes) = value else {
                    return Err(invalid(
                        "value",
                        "an operation without a path needs an object of attributes",
                    ));
                };
                whole(&mut edits, kind == "replace", attributes)?;
                continue;
            }
            (_, Some(Target::Other)) => continue,
            ("add" | "replace", Some(Target::DisplayName)) => {
                GroupEdit::Rename(display_name(value)?)
            }
            ("add" | "replace", Some(Target::ExternalId)) => {
                GroupEdit::ExternalId(text(value, "externalId")?)
            }
            ("add", Some(Target::Members)) => GroupEdit::Add(members(value)?),
            ("replace", Some(Target::Members)) => GroupEdit::Replace(members(value)?),
            ("remove", Some(Target::Members)) if value.is_null() => GroupEdit::RemoveAll,
            // Okta: the members to remove as the value.
            ("remove", Some(Target::Members)) => {
                GroupEdit::Remove(members(value)?.into_iter().map(|m| m.value).collect())
            }
            ("remove", Some(Target::TheseMembers(ids))) => GroupEdit::Remove(ids),
            ("remove", Some(Target::ExternalId)) => GroupEdit::ExternalId(None),
            ("remove", Some(Target::DisplayName)) => {
                return Err(invalid("displayName", "is required and cannot be removed"));
            }
            ("add" | "replace", Some(Target::TheseMembers(_))) => {
                return Err(invalid("path", "members[...] can only be removed"));
            }
            ("remove", None) => return Err(invalid("path", "a remove needs a path")),
            _ => return Err(invalid("op", "must be add, replace or remove")),
        };
        edits.push(edit);
    }
    Ok(edits)
}

/// One condition a group must meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupClause {
    DisplayName(String),
    ExternalId(String),
    Id(String),
    /// The group has this member.
    Member(String),
}

impl GroupClause {
    pub fn holds(&self, g: &Group, members: Option<&Members>) -> bool {
        match self {
            Self::DisplayName(v) => g.name_key() == group_name_key(v),
            Self::ExternalId(v) => g.external_id.as_deref() == Some(v.as_str()),
            Self::Id(v) => g.id == *v,
            Self::Member(v) => members.is_some_and(|m| m.contains(v)),
        }
    }
}

/// A groups `filter` as the clauses it joins with `and`.
pub fn filter(text: &str) -> Result<Vec<GroupClause>> {
    let parsed: Filter =
        text.parse().map_err(|e| invalid_filter(format!("not a SCIM filter: {e}")))?;
    let operands = match parsed {
        Filter::And(operands) => operands.into_vec(),
        one => vec![one],
    };
    operands.into_iter().map(clause).collect()
}

fn clause(f: Filter) -> Result<GroupClause> {
    match f {
        Filter::Attr(AttrExp::Comparison(path, CompareOp::Eq, value)) => {
            match attribute_of(&path, GROUP_SCHEMA)?.as_str() {
                "displayname" => Ok(GroupClause::DisplayName(string(value)?)),
                "externalid" => Ok(GroupClause::ExternalId(string(value)?)),
                "id" => Ok(GroupClause::Id(string(value)?)),
                "members" | "members.value" => Ok(GroupClause::Member(string(value)?)),
                other => Err(invalid_filter(format!("{other} cannot be filtered on"))),
            }
        }
        Filter::ValuePath(v) if attribute_of(&v.attr, GROUP_SCHEMA)? == "members" => {
            match member_values(*v.filter)?.as_slice() {
                [one] => Ok(GroupClause::Member(one.clone())),
                _ => Err(invalid_filter("members[...] takes one value eq")),
            }
        }
        Filter::Or(_) => Err(invalid_filter("or is not supported; only and joins conditions")),
        Filter::Not(_) => Err(invalid_filter("not is not supported")),
        _ => {
            Err(invalid_filter("only eq is supported, on displayName, externalId, id and members"))
        }
    }
}

pub mod routes;

#[cfg(test)]
mod tests;
