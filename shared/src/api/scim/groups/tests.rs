use serde_json::json;

use super::*;

fn m(id: &str, display: Option<&str>) -> Member {
    Member { value: id.into(), display: display.map(str::to_string) }
}

#[test]
fn oktas_group_push_is_the_edits_it_means() {
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"id": "grp_1", "displayName": "Sales EU"}}]});
    assert_eq!(patch(&rename).unwrap(), [GroupEdit::Rename("Sales EU".into())]);
    let add = json!({"Operations": [{"op": "add", "path": "members",
        "value": [{"value": "usr_a", "display": "anna@example.com"}, {"value": "usr_b"}]}]});
    assert_eq!(
        patch(&add).unwrap(),
        [GroupEdit::Add(vec![m("usr_a", Some("anna@example.com")), m("usr_b", None)])]
    );
    let remove = json!({"Operations": [{"op": "remove", "path": "members[value eq \"usr_a\"]"}]});
    assert_eq!(patch(&remove).unwrap(), [GroupEdit::Remove(vec!["usr_a".into()])]);
}

#[test]
fn entras_operations_in_any_case_and_its_removes_with_a_value_list() {
    let ops = json!({"Operations": [
        {"op": "Add", "path": "members", "value": [{"value": "usr_a"}]},
        {"op": "Remove", "path": "members", "value": [{"value": "usr_b"}, {"value": "usr_c"}]},
        {"op": "Replace", "path": "displayName", "value": "Renamed"},
        {"op": "Remove", "path": "members[value eq \"usr_d\" or value eq \"usr_e\"]"},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:externalId", "value": "x"},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "ignored"},
        {"op": "remove", "path": "members"},
    ]});
    assert_eq!(
        patch(&ops).unwrap(),
        [
            GroupEdit::Add(vec![m("usr_a", None)]),
            GroupEdit::Remove(vec!["usr_b".into(), "usr_c".into()]),
            GroupEdit::Rename("Renamed".into()),
            GroupEdit::Remove(vec!["usr_d".into(), "usr_e".into()]),
            GroupEdit::ExternalId(Some("x".into())),
            GroupEdit::RemoveAll,
        ]
    );
}

#[test]
fn what_cannot_be_done_is_refused() {
    for ops in [
        json!({"Operations": [{"op": "remove", "path": "displayName"}]}),
        json!({"Operations": [{"op": "replace", "path": "displayName", "value": " "}]}),
        json!({"Operations": [{"op": "add", "path": "members", "value": [{"display": "no id"}]}]}),
        json!({"Operations": [{"op": "add", "path": "members[value eq \"usr_a\"]", "value": "x"}]}),
        json!({"Operations": [{"op": "remove", "path": "members[display eq \"Anna\"]"}]}),
        json!({"Operations": [{"op": "move", "path": "members"}]}),
        json!({"Operations": [{"op": "remove"}]}),
        json!({"Operations": [{"op": "add", "path": "members[", "value": []}]}),
        json!({"op": "add"}),
    ] {
        assert!(matches!(patch(&ops), Err(Error::Validation(_))), "{ops}");
    }
    let long = "x".repeat(MAX_DISPLAY + 1);
    let too_long = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "usr_a", "display": long}]}]});
    assert!(patch(&too_long).is_err());
}

#[test]
fn a_post_or_put_body_is_the_whole_group() {
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales", "externalId": "okta-1",
        "members": [{"value": "usr_a", "$ref": "https://x/Users/usr_a", "type": "User"}], "unknown": 1});
    assert_eq!(
        replacement(&body).unwrap(),
        [
            GroupEdit::Rename("Sales".into()),
            GroupEdit::ExternalId(Some("okta-1".into())),
            GroupEdit::Replace(vec![m("usr_a", None)]),
        ]
    );
    assert!(replacement(&json!({"members": []})).is_err(), "displayName is required");
    assert_eq!(replacement(&json!({"displayName": "S"})).unwrap()[2], GroupEdit::Replace(vec![]));
}

#[test]
fn groups_are_found_by_name_external_id_id_and_member() {
    assert_eq!(
        filter(r#"displayName eq "Sales EU""#).unwrap(),
        [GroupClause::DisplayName("Sales EU".into())]
    );
    assert_eq!(
        filter(r#"id eq "grp_1" and members[value eq "usr_a"]"#).unwrap(),
        [GroupClause::Id("grp_1".into()), GroupClause::Member("usr_a".into())]
    );
    assert_eq!(
        filter(r#"externalId eq "x" and members.value eq "usr_b""#).unwrap(),
        [GroupClause::ExternalId("x".into()), GroupClause::Member("usr_b".into())]
    );
    for bad in [
        r#"displayName sw "S""#,
        r#"displayName eq "a" or id eq "b""#,
        r#"title eq "x""#,
        "displayName eq",
    ] {
        assert!(matches!(filter(bad), Err(Error::InvalidFilter(_))), "{bad}");
    }
    let g = Group { id: "grp_1".into(), display_name: "Sales EU".into(), ..Group::default() };
    let members = Members::from_pages([vec![m("usr_a", None)]]);
    assert!(GroupClause::DisplayName("sales eu".into()).holds(&g, None));
    let umlaut = Group { display_name: "Ärzte Süd".into(), ..Group::default() };
    assert!(
        GroupClause::DisplayName(" ärzte SÜD ".into()).holds(&umlaut, None),
        "as the name's key"
    );
    assert!(GroupClause::Member("usr_a".into()).holds(&g, Some(&members)));
    assert!(!GroupClause::Member("usr_b".into()).holds(&g, Some(&members)));
}
