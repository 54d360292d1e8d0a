//! SCIM Users at the edge: a person as SCIM shows them, a person as an
//! identity provider sends them (what is not kept is ignored, not
//! refused), and PATCH's operations in the dialects Okta and Entra ID speak
//! (op names in any case, booleans as strings, a path-less replace whose
//! value is an object of attributes).

use serde_json::{Map, Value, json};

use super::discovery::USER_SCHEMA;
use super::filters::{WORK_EMAIL, patch_path};
use crate::error::{Error, FieldError, Result};
use crate::model::{DirectoryEmail, DirectoryUser, PersonName};

/// A person as SCIM shows them, `meta.location` below `base`.
pub fn to_scim(u: &DirectoryUser, base: &str) -> Value {
    let mut doc = json!({
        "schemas": [USER_SCHEMA],
        "id": u.id,
        "userName": u.user_name,
        "emails": u.emails.iter().map(|e| {
            let mut email = json!({"value": e.value, "primary": e.primary});
            if let Some(kind) = &e.kind {
                email["type"] = json!(kind);
            }
            email
        }).collect::<Vec<_>>(),
        "groups": [],
        "meta": {
            "resourceType": "User",
            "created": u.created,
            "lastModified": u.last_modified,
            "location": format!("{base}/Users/{}", u.id),
            "version": format!("W/\"{}\"", u.version),
        },
    });
    if let Some(active) = u.active {
        doc["active"] = json!(active);
    }
    if let Some(external_id) = &u.external_id {
        doc["externalId"] = json!(external_id);
    }
    if let Some(display_name) = &u.display_name {
        doc["displayName"] = json!(display_name);
    }
    if let Some(name) = &u.name {
        doc["name"] = serde_json::to_value(name).unwrap_or(Value::Null);
    }
    doc
}

fn invalid(field: &str, message: &str) -> Error {
    Error::Validation(vec![FieldError::new(field, message)])
}

/// A boolean, also as the strings Entra ID sends (`"False"`, `"true"`).
fn boolean(v: &Value, field: &str) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(field, "must be true or false")),
    }
}

fn text(v: &Value, field: &str) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(invalid(field, "must be a string")),
    }
}

fn emails(v: &Value) -> Result<Vec<DirectoryEmail>> {
    let Value::Array(items) = v else { return Err(invalid("emails", "must be an array")) };
    items
        .iter()
        .map(|e| {
            let value = text(&e["value"], "emails.value")?
                .ok_or_else(|| invalid("emails.value", "is required"))?;
            let primary = if e["primary"].is_null() {
                false
            } else {
                boolean(&e["primary"], "emails.primary")?
            };
            Ok(DirectoryEmail { value, kind: text(&e["type"], "emails.type")?, primary })
        })
        .collect()
}

/// The person's name parts, made when the first one is set.
fn name_of(u: &mut DirectoryUser) -> &mut PersonName {
    u.name.get_or_insert_with(PersonName::default)
}

/// Sets one attribute of `u` (its name as SCIM paths spell it, in any
/// case); an attribute this service does not keep is ignored.
fn set(u: &mut DirectoryUser, path: &str, v: &Value) -> Result<()> {
    let lower = path.to_ascii_lowercase();
    match lower.as_str() {
        "active" if v.is_null() => u.active = None,
        "active" => u.active = Some(boolean(v, "active")?),
        "username" => {
            u.user_name = text(v, "userName")?
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| invalid("userName", "is required"))?
        }
        "displayname" => u.display_name = text(v, "displayName")?,
        "externalid" => u.external_id = text(v, "externalId")?,
        "name.givenname" => name_of(u).given_name = text(v, "name.givenName")?,
        "name.familyname" => name_of(u).family_name = text(v, "name.familyName")?,
        "name.formatted" => name_of(u).formatted = text(v, "name.formatted")?,
        "name" => {
            u.name = serde_json::from_value(v.clone())
                .map_err(|_| invalid("name", "must be an object"))?
        }
        "emails" if v.is_null() => u.emails.clear(),
        "emails" => u.emails = emails(v)?,
        WORK_EMAIL => {
            let value = text(v, "emails")?.ok_or_else(|| invalid("emails", "must be a string"))?;
            match u.emails.iter_mut().find(|e| e.kind.as_deref() == Some("work")) {
                Some(work) => work.value = value,
                None => u.emails.push(DirectoryEmail {
                    value,
                    kind: Some("work".into()),
                    primary: u.emails.is_empty(),
                }),
            }
        }
        _ => {}
    }
    if u.name.as_ref().is_some_and(|n| *n == PersonName::default()) {
        u.name = None;
    }
    Ok(())
}

/// A person from a POST or PUT body: `userName` required, `active` as
/// given (unassigned: active), everything not kept ignored.
pub fn person(body: &Value) -> Result<DirectoryUser> {
    let Value::Object(attributes) = body else {
        return Err(invalid("body", "must be a SCIM User"));
    };
    let mut u = DirectoryUser::default();
    for (key, value) in attributes {
        set(&mut u, key, value)?;
    }
    if u.user_name.trim().is_empty() {
        return Err(invalid("userName", "is required"));
    }
    Ok(u)
}

/// Applies a PatchOp body's operations to `u`, in order.
pub fn patch(u: &DirectoryUser, body: &Value) -> Result<DirectoryUser> {
    let ops = body.get("Operations").or_else(|| body.get("operations")).and_then(Value::as_array);
    let ops = ops.ok_or_else(|| invalid("Operations", "is required"))?;
    let mut u = u.clone();
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        let path = op.get("path").and_then(Value::as_str);
        let value = op.get("value").unwrap_or(&Value::Null);
        match (kind.as_str(), path) {
            ("add" | "replace", Some(path)) => {
                if let Some(path) = patch_path(path)? {
                    set(&mut u, &path, value)?
                }
            }
            ("add" | "replace", None) => {
                let Value::Object(attributes) = value else {
                    return Err(invalid(
                        "value",
                        "a replace without a path needs an object of attributes",
                    ));
                };
                apply_all(&mut u, attributes)?;
            }
            ("remove", Some(path)) => {
                if let Some(kept) = patch_path(path)? {
                    set(&mut u, &kept, &Value::Null)
                        .map_err(|_| invalid(path, "cannot be removed"))?
                }
            }
            ("remove", None) => return Err(invalid("path", "a remove needs a path")),
            _ => return Err(invalid("op", "must be add, replace or remove")),
        }
    }
    Ok(u)
}

fn apply_all(u: &mut DirectoryUser, attributes: &Map<String, Value>) -> Result<()> {
    for (key, value) in attributes {
        set(u, key, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
