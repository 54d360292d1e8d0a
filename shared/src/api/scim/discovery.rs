//! SCIM discovery (RFC 7644 §4): what this service provider supports, its
//! resource types and their schemas (the attributes actually kept).

use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A list of every item, on one page.
pub fn list(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 100},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A provisioning token with scope scim, created by a licence admin under /tokens, as Authorization: Bearer lmt_…",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A person of the customer's directory; their seats follow their seat address",
            "schema": USER_SCHEMA,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of the customer's directory; a licence admin may link it to licences, whose seats then follow its members",
            "schema": GROUP_SCHEMA,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

/// One attribute of a schema, as RFC 7643 §7 describes it.
fn attribute(
    name: &str,
    kind: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    description: &str,
) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": multi, "required": required,
        "caseExact": false, "mutability": mutability, "returned": "default",
        "uniqueness": if name == "userName" || name == "displayName" && required { "server" } else { "none" },
        "description": description,
    })
}

fn complex(name: &str, multi: bool, mutability: &str, description: &str, sub: Vec<Value>) -> Value {
    let mut a = attribute(name, "complex", multi, false, mutability, description);
    a["subAttributes"] = Value::Array(sub);
    a
}

pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": USER_SCHEMA,
            "name": "User",
            "description": "A person of the customer's directory",
            "attributes": user_attributes(),
            "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": GROUP_SCHEMA,
            "name": "Group",
            "description": "A group of the customer's directory",
            "attributes": group_attributes(),
            "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{GROUP_SCHEMA}")},
        }),
    ]
}

/// The Group attributes this service keeps (RFC 7643 §4.2's).
fn group_attributes() -> Vec<Value> {
    let rw = "readWrite";
    vec![
        attribute(
            "displayName",
            "string",
            false,
            true,
            rw,
            "Unique in the customer's directory, case-insensitively",
        ),
        attribute("externalId", "string", false, false, rw, "The identity provider's id"),
        complex(
            "members",
            true,
            rw,
            "The group's members (at most 10,000): people of the directory",
            vec![
                {
                    let mut value =
                        attribute("value", "string", false, false, "immutable", "The person's id");
                    value["required"] = json!(true);
                    value
                },
                attribute("display", "string", false, false, "immutable", "The person's name"),
                {
                    let mut kind = attribute("type", "string", false, false, "immutable", "User");
                    kind["canonicalValues"] = json!(["User"]);
                    kind
                },
                {
                    let mut reference = attribute(
                        "$ref",
                        "reference",
                        false,
                        false,
                        "immutable",
                        "The person's location",
                    );
                    reference["referenceTypes"] = json!(["User"]);
                    reference
                },
            ],
        ),
    ]
}

/// The User attributes this service keeps (RFC 7643 §4.1's, a subset).
fn user_attributes() -> Vec<Value> {
    let rw = "readWrite";
    let text =
        |name: &str, description: &str| attribute(name, "string", false, false, rw, description);
    vec![
        attribute(
            "userName",
            "string",
            false,
            true,
            rw,
            "Unique in the customer's directory, case-insensitively; an e-mail address is kept normalised",
        ),
        complex(
            "name",
            false,
            rw,
            "The person's name",
            vec![
                text("givenName", "Given name"),
                text("familyName", "Family name"),
                text("formatted", "The full name, formatted"),
            ],
        ),
        text("displayName", "The name shown"),
        complex(
            "emails",
            true,
            rw,
            "E-mail addresses; the seat address is the first valid of the primary, the work, the first one and userName",
            vec![
                text("value", "The address"),
                {
                    let mut kind = text("type", "work, home or other");
                    kind["canonicalValues"] = json!(["work", "home", "other"]);
                    kind
                },
                attribute("primary", "boolean", false, false, rw, "The primary address"),
            ],
        ),
        attribute(
            "active",
            "boolean",
            false,
            false,
            rw,
            "false revokes every seat of the person's seat address at this customer",
        ),
        complex(
            "groups",
            true,
            "readOnly",
            "Groups the person is a member of",
            vec![
                attribute("value", "string", false, false, "readOnly", "The group's id"),
                attribute("display", "string", false, false, "readOnly", "The group's name"),
            ],
        ),
    ]
}
