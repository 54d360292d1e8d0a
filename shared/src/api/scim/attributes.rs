//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which of
//! a resource's attributes an answer carries. Names are case-insensitive,
//! may name a sub-attribute (`name.givenName`, `emails.value`) and may be
//! given with their schema's URN in front. `schemas` and `id` are always
//! returned; an unknown name selects nothing and is no error.

use serde_json::{Map, Value};

use super::discovery::{GROUP_SCHEMA, USER_SCHEMA};

/// What a request asked to see of each resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Projection {
    /// `attributes`: only these (and the ones always returned).
    only: Vec<Path>,
    /// `excludedAttributes`: all but these.
    without: Vec<Path>,
}

/// An attribute, and maybe one of its sub-attributes, in lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Path(String, Option<String>);

/// Returned whatever a request asks.
const ALWAYS: [&str; 2] = ["schemas", "id"];

impl Projection {
    /// From the comma-separated lists of a request (absent: everything).
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Self { only: paths(attributes), without: paths(excluded) }
    }

    /// Whether `attributes` names `attribute` (lower case), or a
    /// sub-attribute of it: what makes a list of groups carry members.
    pub fn asks_for(&self, attribute: &str) -> bool {
        self.only.iter().any(|p| p.0 == attribute)
    }

    /// Whether the answer leaves `attribute` (lower case) out altogether.
    pub fn leaves_out(&self, attribute: &str) -> bool {
        self.without.iter().any(|p| p.0 == attribute && p.1.is_none())
            || !self.only.is_empty() && !self.asks_for(attribute)
    }

    /// `resource` as the request asked to see it.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(fields) = resource else { return resource };
        let mut kept = Map::new();
        for (name, value) in fields {
            let key = name.to_ascii_lowercase();
            if ALWAYS.contains(&key.as_str()) {
                kept.insert(name, value);
                continue;
            }
            let value =
                if self.only.is_empty() { Some(value) } else { select(&self.only, &key, value) };
            if let Some(value) = value.and_then(|v| drop_excluded(&self.without, &key, v)) {
                kept.insert(name, value);
            }
        }
        Value::Object(kept)
    }
}

fn paths(list: Option<&str>) -> Vec<Path> {
    let prefixes = [USER_SCHEMA, GROUP_SCHEMA].map(|s| format!("{}:", s.to_ascii_lowercase()));
    list.unwrap_or("")
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .map(|name| {
            let rest = prefixes.iter().find_map(|p| name.strip_prefix(p.as_str()));
            rest.map(str::to_string).unwrap_or(name)
        })
        .filter(|name| !name.is_empty())
        .map(|name| match name.split_once('.') {
            Some((attribute, sub)) => Path(attribute.to_string(), Some(sub.to_string())),
            None => Path(name, None),
        })
        .collect()
}

/// The part of attribute `key` that `only` asks for, if any.
fn select(only: &[Path], key: &str, value: Value) -> Option<Value> {
    let wanted: Vec<&str> =
        only.iter().filter(|p| p.0 == key).map(|p| p.1.as_deref().unwrap_or("")).collect();
    if wanted.is_empty() {
        return None;
    }
    if wanted.contains(&"") {
        return Some(value);
    }
    Some(sub_attributes(value, &|sub| wanted.contains(&sub)))
}

/// Attribute `key` without what `without` excludes (`None`: all of it).
fn drop_excluded(without: &[Path], key: &str, value: Value) -> Option<Value> {
    let dropped: Vec<&str> =
        without.iter().filter(|p| p.0 == key).map(|p| p.1.as_deref().unwrap_or("")).collect();
    if dropped.contains(&"") {
        return None;
    }
    if dropped.is_empty() {
        return Some(value);
    }
    Some(sub_attributes(value, &|sub| !dropped.contains(&sub)))
}

/// A complex attribute (or each value of a multi-valued one) with only the
/// sub-attributes `keep` keeps.
fn sub_attributes(value: Value, keep: &dyn Fn(&str) -> bool) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields.into_iter().filter(|(name, _)| keep(&name.to_ascii_lowercase())).collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|item| sub_attributes(item, keep)).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn anna() -> Value {
        json!({
            "schemas": [USER_SCHEMA], "id": "usr_1", "userName": "anna@example.com",
            "externalId": "00u1", "active": true,
            "name": {"givenName": "Anna", "familyName": "Schmidt"},
            "emails": [{"value": "anna@example.com", "type": "work", "primary": true}],
            "meta": {"resourceType": "User"},
        })
    }

    #[test]
    fn nothing_asked_is_everything() {
        assert_eq!(Projection::new(None, None).apply(anna()), anna());
        assert_eq!(Projection::new(Some(" , "), Some("")).apply(anna()), anna());
    }

    #[test]
    fn attributes_keep_only_those_and_what_is_always_returned() {
        let p = Projection::new(Some("userName,NAME.givenName,emails.value"), None);
        assert_eq!(
            p.apply(anna()),
            json!({"schemas": [USER_SCHEMA], "id": "usr_1", "userName": "anna@example.com",
                   "name": {"givenName": "Anna"}, "emails": [{"value": "anna@example.com"}]})
        );
        let urn = format!("{USER_SCHEMA}:externalId");
        assert_eq!(
            Projection::new(Some(&urn), None).apply(anna()),
            json!({"schemas": [USER_SCHEMA], "id": "usr_1", "externalId": "00u1"})
        );
        assert_eq!(
            Projection::new(Some("id,nope"), None).apply(anna()),
            json!({"schemas": [USER_SCHEMA], "id": "usr_1"})
        );
    }

    #[test]
    fn excluded_attributes_drop_those_but_never_what_is_always_returned() {
        let p = Projection::new(None, Some("name,emails.primary,id,schemas"));
        let mut expected = anna();
        expected.as_object_mut().unwrap().remove("name");
        expected["emails"] = json!([{"value": "anna@example.com", "type": "work"}]);
        assert_eq!(p.apply(anna()), expected);
    }
}
