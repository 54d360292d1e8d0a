use super::*;

#[test]
fn key_ranges_name_their_index_keys() {
    let r = KeyRange::gsi2("MONTH#2026-12").between("2026-12-01", "2026-12-31");
    assert_eq!(r.index, Some(keys::GSI2));
    assert_eq!(r.condition.text, "#pk = :pk AND #sk BETWEEN :from AND :to");
    assert_eq!(r.condition.names["#pk"], keys::GSI2PK);
    assert_eq!(r.condition.names["#sk"], keys::GSI2SK);
    assert_eq!(r.condition.values[":to"], AttributeValue::S("2026-12-31".into()));
    let t = KeyRange::table("CUSTOMER#c1").begins_with("LICENSE#");
    assert_eq!((t.index, t.condition.names["#sk"].as_str()), (None, keys::SK));
    let whole = KeyRange::gsi1("USER#a@example.com");
    assert_eq!(whole.condition.text, "#pk = :pk");
    assert!(!whole.condition.names.contains_key("#sk"));
}

#[test]
fn conditions_name_their_attributes_and_values() {
    let c = Expr::version_is(7).and(Expr::item_exists());
    assert_eq!(c.text, "(#version = :version) AND (attribute_exists(#pk))");
    assert_eq!(c.names["#version"], "version");
    assert_eq!(c.names["#pk"], "PK");
    assert_eq!(c.values[":version"], AttributeValue::N("7".into()));
    let pending = Expr::op_pending("b1");
    assert_eq!(
        pending.text,
        "(((#pending.#id = :pending_id) OR (#fanout.#id = :fanout_id)) OR (#rekey.#id = :rekey_id)) \
         OR (#rule.#id = :rule_id)"
    );
    assert_eq!(pending.values[":pending_id"], AttributeValue::S("b1".into()));
    assert_eq!(pending.values[":fanout_id"], AttributeValue::S("b1".into()));
    // The text serde writes for a date.
    let until = "2026-12-31".parse().unwrap();
    assert_eq!(Expr::until_is(until).values[":until_before"], value_of(&until));
}

fn value_of(date: &NaiveDate) -> AttributeValue {
    super::super::items::value(date).unwrap()
}

#[test]
fn the_claim_of_an_invitation() {
    let c = Expr::invitation_is(InvitationStatus::Pending)
        .and(Expr::not_revoked())
        .and(Expr::claim_free_or_stale(100));
    assert_eq!(
        c.text,
        "((#invitation.#status = :invitation_status) AND (attribute_not_exists(#revoked_at) OR \
         attribute_type(#revoked_at, :null_type))) AND (attribute_not_exists(#invitationClaim) OR \
         #invitationClaim.#claimed_at < :stale_before)"
    );
    assert_eq!(c.values[":invitation_status"], AttributeValue::S("pending".into()));
    assert_eq!(c.names["#invitationClaim"], "invitationClaim");
    assert_eq!(c.values[":stale_before"], AttributeValue::N("100".into()));
}

#[test]
fn invited_at_compares_with_the_stored_text() {
    let at: DateTime<Utc> = "2026-11-29T10:00:00Z".parse().unwrap();
    let c = Expr::invited_at_is(Some(at));
    assert_eq!(c.values[":invited_before"], AttributeValue::S("2026-11-29T10:00:00Z".into()));
    // The same text serde writes into the item.
    assert_eq!(serde_json::to_value(at).unwrap(), "2026-11-29T10:00:00Z");
    assert_eq!(Expr::invited_at_is(None).text, "attribute_not_exists(#invited_at)");
}

#[test]
fn a_counter_has_room_up_to_its_limit() {
    let c = Expr::room_for(3, 10);
    assert_eq!(c.text, "attribute_not_exists(#used) OR #used <= :room");
    assert_eq!(c.values[":room"], AttributeValue::N("7".into()));
}

#[test]
fn an_update_carries_the_placeholders_of_its_condition() {
    let set = Expr::new("SET #invitation = :inv")
        .name("#invitation", attr::INVITATION)
        .value(":inv", s("x"));
    let u = update("t", Item::new(), set, Expr::claim_is("c1")).unwrap();
    let names = u.expression_attribute_names().unwrap();
    assert_eq!(names["#invitation"], "invitation");
    assert_eq!(names["#invitationClaim"], "invitationClaim");
    assert_eq!(u.condition_expression(), Some("#invitationClaim.#id = :invitationClaim_id"));
}

#[test]
fn an_update_sets_and_removes_by_its_own_placeholders() {
    let u = Expr::assigning(&[("a", Some(AttributeValue::N("1".into()))), ("b", None)]);
    assert_eq!(u.text, "SET #u0 = :u0 REMOVE #u1");
    assert_eq!((u.names["#u0"].as_str(), u.names["#u1"].as_str()), ("a", "b"));
    assert_eq!(Expr::assigning(&[("b", None)]).text, "REMOVE #u0");
    let day = "2026-12-31".parse().unwrap();
    let used = Expr::last_active_is(Some(day));
    assert_eq!(used.text, "#last_active = :last_active");
    assert_eq!(used.values[":last_active"], value_of(&day));
    assert_eq!(Expr::last_active_is(None).text, "attribute_not_exists(#last_active)");
    let at: DateTime<Utc> = "2026-12-01T07:00:00Z".parse().unwrap();
    let warned = Expr::warned_at_is(Some(at));
    assert_eq!(warned.text, "#warned_at = :warned_at");
    assert_eq!(warned.values[":warned_at"], super::super::items::value(&at).unwrap());
    assert_eq!(Expr::warned_at_is(None).text, "attribute_not_exists(#warned_at)");
    let rule = Expr::rule_inactive_days_is(Some(30));
    assert_eq!(rule.text, "#reclaimRule.#inactiveDays = :reclaimRule_inactiveDays");
}
