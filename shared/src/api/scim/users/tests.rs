use super::*;
use serde_json::json;

fn anna() -> DirectoryUser {
    person(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "anna@example.com",
        "name": {"givenName": "Anna", "familyName": "Schmidt"},
        "emails": [{"primary": true, "value": "anna@example.com", "type": "work"}],
        "displayName": "Anna Schmidt",
        "locale": "en-US",
        "externalId": "00u1",
        "groups": [],
        "password": "ignored",
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}
    }))
    .unwrap()
}

#[test]
fn a_person_keeps_what_is_kept_and_ignores_the_rest() {
    let u = anna();
    assert_eq!(
        (u.user_name.as_str(), u.active, u.external_id.as_deref()),
        ("anna@example.com", Some(true), Some("00u1"))
    );
    assert_eq!(u.name.as_ref().and_then(|n| n.given_name.as_deref()), Some("Anna"));
    assert_eq!(u.seat_address().as_deref(), Some("anna@example.com"));
    assert!(person(&json!({"active": true})).is_err(), "userName is required");
    assert!(person(&json!({"userName": "x", "active": "maybe"})).is_err());
    assert!(!person(&json!({"userName": "x", "active": "False"})).unwrap().is_active());
}

#[test]
fn oktas_deactivation_shapes() {
    // PATCH without a path: the value is an object of attributes.
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "value": {"active": false}}]});
    assert!(!patch(&anna(), &body).unwrap().is_active());
    let mut put = to_scim(&anna(), "https://x/scim/v2");
    put["active"] = json!(false);
    assert!(!person(&put).unwrap().is_active(), "a full PUT with active false");
}

#[test]
fn entras_shapes() {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert!(!patch(&anna(), &body).unwrap().is_active());
    let rename = json!({"Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "anna.s@example.com"},
        {"op": "Add", "path": "displayName", "value": "Anna S."},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "IT"},
        {"op": "Remove", "path": "externalId"}
    ]});
    let u = patch(&anna(), &rename).unwrap();
    assert_eq!(u.seat_address().as_deref(), Some("anna.s@example.com"));
    assert_eq!((u.display_name.as_deref(), u.external_id.as_deref()), (Some("Anna S."), None));
    assert!(patch(&anna(), &json!({"Operations": [{"op": "move", "path": "active"}]})).is_err());
}

#[test]
fn removing_active_or_emails_leaves_them_unassigned() {
    let remove = |path: &str| json!({"Operations": [{"op": "remove", "path": path}]});
    let mut inactive = anna();
    inactive.active = Some(false);
    let u = patch(&inactive, &remove("active")).unwrap();
    assert_eq!(u.active, None);
    assert!(u.is_active(), "unassigned is the default: active");
    assert!(to_scim(&u, "https://x").get("active").is_none());
    let u = patch(&anna(), &remove("emails")).unwrap();
    assert!(u.emails.is_empty());
    assert_eq!(u.seat_address().as_deref(), Some("anna@example.com"), "userName then");
}
