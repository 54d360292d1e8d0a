//! SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2), parsed by the
//! `scim_v2` crate's grammar and then narrowed to what this service answers
//! (API.md v3): `userName eq`, `externalId eq`, `emails.value eq`,
//! `emails[type eq "work"].value eq`, `active eq`, and `and` of these.
//! Anything else the grammar allows (`or`, `not`, other operators and
//! attributes) is an `invalidFilter`, as is what it does not allow.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, PatchPath, ValFilter};

use super::discovery::USER_SCHEMA;
use crate::error::{Error, Result};
use crate::model::DirectoryUser;

/// One condition a person must meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    UserName(String),
    ExternalId(String),
    Email(String),
    WorkEmail(String),
    Active(bool),
}

impl Clause {
    pub fn holds(&self, u: &DirectoryUser) -> bool {
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        match self {
            Self::UserName(v) => same(&u.user_name, v),
            Self::ExternalId(v) => u.external_id.as_deref() == Some(v.as_str()),
            Self::Email(v) => u.emails.iter().any(|e| same(&e.value, v)),
            Self::WorkEmail(v) => {
                u.emails.iter().any(|e| e.kind.as_deref() == Some("work") && same(&e.value, v))
            }
            Self::Active(b) => u.is_active() == *b,
        }
    }
}

pub(super) fn invalid(why: impl Into<String>) -> Error {
    Error::InvalidFilter(why.into())
}

/// `filter` as the clauses it joins with `and`.
pub fn filter(text: &str) -> Result<Vec<Clause>> {
    let parsed: Filter =
        entra_value_path(text).parse().map_err(|e| invalid(format!("not a SCIM filter: {e}")))?;
    match parsed {
        Filter::And(operands) => operands.into_vec().into_iter().map(clause).collect(),
        one => Ok(vec![clause(one)?]),
    }
}

/// One supported condition, or why it is not one.
fn clause(f: Filter) -> Result<Clause> {
    match f {
        Filter::Attr(AttrExp::Comparison(path, CompareOp::Eq, value)) => {
            match attribute(&path)?.as_str() {
                "username" => Ok(Clause::UserName(string(value)?)),
                "externalid" => Ok(Clause::ExternalId(string(value)?)),
                "emails" | "emails.value" => Ok(Clause::Email(string(value)?)),
                "active" => match value {
                    CompValue::True => Ok(Clause::Active(true)),
                    CompValue::False => Ok(Clause::Active(false)),
                    _ => Err(invalid("active is compared with true or false")),
                },
                other => Err(invalid(format!("{other} cannot be filtered on"))),
            }
        }
        Filter::ValuePath(v) if attribute(&v.attr)? == "emails" => {
            let conditions = match *v.filter {
                ValFilter::And(operands) => operands.into_vec(),
                one => vec![one],
            };
            let (mut work, mut value) = (false, None);
            for condition in conditions {
                let ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, v)) = condition else {
                    return Err(invalid("emails[...] takes type eq \"work\" and value eq"));
                };
                match attribute(&path)?.as_str() {
                    "type" if string(v.clone())?.eq_ignore_ascii_case("work") => work = true,
                    "value" => value = Some(string(v)?),
                    _ => return Err(invalid("emails[...] takes type eq \"work\" and value eq")),
                }
            }
            match (work, value) {
                (true, Some(v)) => Ok(Clause::WorkEmail(v)),
                (false, Some(v)) => Ok(Clause::Email(v)),
                _ => Err(invalid("emails[...] needs value eq")),
            }
        }
        Filter::Or(_) => Err(invalid("or is not supported; only and joins conditions")),
        Filter::Not(_) => Err(invalid("not is not supported")),
        _ => Err(invalid("only eq is supported, on userName, externalId, emails and active")),
    }
}

/// A core User attribute's path in lower case (`name` or `name.sub`); a
/// path of another schema is none of ours.
fn attribute(path: &AttrPath) -> Result<String> {
    attribute_of(path, USER_SCHEMA)
}

/// An attribute's path of `schema` in lower case (`name` or `name.sub`); a
/// path of another schema is none of ours.
pub(super) fn attribute_of(path: &AttrPath, schema: &str) -> Result<String> {
    if path.uri.as_deref().is_some_and(|uri| !uri.eq_ignore_ascii_case(schema)) {
        return Err(invalid("only the core schema's attributes can be filtered on"));
    }
    let name = path.name.to_ascii_lowercase();
    Ok(match &path.sub_attr {
        Some(sub) => format!("{name}.{}", sub.to_ascii_lowercase()),
        None => name,
    })
}

pub(super) fn string(value: CompValue) -> Result<String> {
    match value {
        CompValue::Str(s) => Ok(s),
        _ => Err(invalid("expected a string in quotes")),
    }
}

/// Entra ID's `emails[type eq "work"].value eq "x"`, which the RFC's filter
/// grammar does not have (a sub-attribute after a value path), rewritten to
/// the RFC's `emails[type eq "work" and value eq "x"]`, which means the
/// same. Any other text is left as it is.
fn entra_value_path(text: &str) -> String {
    const FORM: &str = "emails[type eq \"work\"].value eq \"";
    let trimmed = text.trim_start();
    if !trimmed.get(..FORM.len()).is_some_and(|head| head.eq_ignore_ascii_case(FORM)) {
        return text.to_string();
    }
    let quoted = &trimmed[FORM.len()..];
    // The value ends at its closing quote (a \" inside it is kept).
    let mut escaped = false;
    let end = quoted.char_indices().find_map(|(i, c)| {
        let closes = c == '"' && !escaped;
        escaped = c == '\\' && !escaped;
        closes.then_some(i)
    });
    match end {
        Some(end) => format!(
            "emails[type eq \"work\" and value eq \"{}\"]{}",
            &quoted[..end],
            &quoted[end + 1..]
        ),
        None => text.to_string(),
    }
}

/// A PATCH `path` as the attribute it sets: `name` or `name.sub` in lower
/// case, or `emails[type eq "work"].value` (Entra's rename); `None` for a
/// path this service does not keep (another schema's attribute, another
/// value filter), which the operation then ignores.
pub fn patch_path(text: &str) -> Result<Option<String>> {
    let bad = |e| Error::Validation(vec![crate::error::FieldError::new("path", format!("{e}"))]);
    let parsed: PatchPath = text.parse().map_err(bad)?;
    Ok(match parsed {
        PatchPath::Attr(path) => attribute(&path).ok(),
        PatchPath::Value(v) => {
            let work = matches!(
                &v.filter,
                ValFilter::Attr(AttrExp::Comparison(p, CompareOp::Eq, CompValue::Str(kind)))
                    if p.name.eq_ignore_ascii_case("type") && kind.eq_ignore_ascii_case("work")
            );
            let value = v.sub_attr.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("value"));
            (attribute(&v.attr).ok().as_deref() == Some("emails") && work && value)
                .then(|| WORK_EMAIL.to_string())
        }
    })
}

/// The path of a person's work address.
pub const WORK_EMAIL: &str = r#"emails[type eq "work"].value"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_the_contract_names_and_nothing_else() {
        let probe = r#"userName eq "7e0f5e0c-3a1b-4c9e-9a3d-randomprobe""#;
        assert_eq!(
            filter(probe).unwrap(),
            [Clause::UserName("7e0f5e0c-3a1b-4c9e-9a3d-randomprobe".into())]
        );
        assert_eq!(
            filter(r#"emails[type eq "work"].value eq "a@x.de" and active eq true"#).unwrap(),
            [Clause::WorkEmail("a@x.de".into()), Clause::Active(true)]
        );
        assert_eq!(filter(r#"externalId eq "00u1""#).unwrap(), [Clause::ExternalId("00u1".into())]);
        assert_eq!(
            filter(r#"emails.value EQ "A@X.de""#).unwrap(),
            [Clause::Email("A@X.de".into())]
        );
        assert_eq!(
            filter(r#"userName eq "a\"b" and (active eq false)"#).unwrap(),
            [Clause::UserName("a\"b".into()), Clause::Active(false)]
        );
        assert_eq!(
            filter(r#"emails[type eq "work" and value eq "a@x.de"]"#).unwrap(),
            [Clause::WorkEmail("a@x.de".into())]
        );
        for bad in [
            r#"userName sw "a""#,
            r#"not (userName eq "a")"#,
            r#"emails[type eq "home"].value eq "a@x.de""#,
            r#"title eq "x""#,
            r#"userName eq "a" or active eq true"#,
            "userName eq",
            r#"userName eq "open"#,
        ] {
            assert!(matches!(filter(bad), Err(Error::InvalidFilter(_))), "{bad}");
        }
        let u = crate::api::scim::users::person(&serde_json::json!({
            "userName": "anna@example.com", "active": true,
            "emails": [{"value": "anna@example.com", "type": "work", "primary": true}]
        }))
        .unwrap();
        assert!(Clause::UserName("ANNA@example.com".into()).holds(&u));
        assert!(Clause::WorkEmail("anna@example.com".into()).holds(&u));
        assert!(!Clause::Active(false).holds(&u));
    }

    #[test]
    fn entras_work_address_filter_is_the_rfcs_value_path() {
        assert_eq!(
            entra_value_path(r#"emails[type eq "work"].value eq "a\"b@x.de" and active eq true"#),
            r#"emails[type eq "work" and value eq "a\"b@x.de"] and active eq true"#
        );
        assert_eq!(entra_value_path(r#"userName eq "x""#), r#"userName eq "x""#);
        assert_eq!(
            entra_value_path(r#"emails[type eq "work"].value eq "open"#),
            r#"emails[type eq "work"].value eq "open"#
        );
    }

    #[test]
    fn patch_paths_name_what_they_set() {
        let path = |p: &str| patch_path(p).unwrap();
        assert_eq!(path("name.givenName").as_deref(), Some("name.givenname"));
        assert_eq!(path(r#"emails[type eq "work"].value"#).as_deref(), Some(WORK_EMAIL));
        assert_eq!(path(r#"emails[Type EQ "Work"].Value"#).as_deref(), Some(WORK_EMAIL));
        assert_eq!(path(&format!("{USER_SCHEMA}:displayName")).as_deref(), Some("displayname"));
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
        assert_eq!(path(enterprise), None, "another schema's attribute is ignored");
        assert_eq!(path(r#"addresses[type eq "work"].streetAddress"#), None);
        assert!(patch_path("emails[").is_err());
    }
}
