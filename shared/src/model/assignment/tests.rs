use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

#[test]
fn a_revocation_keeps_the_days_before_it() {
    let license = License::sample(1);
    let a = Assignment::new(
        &license,
        "a@example.com",
        Period::new(d("2026-03-01"), d("2026-03-31")),
        "2026-02-01T00:00:00Z".parse().unwrap(),
        "x",
        Language::En,
        InvitationStatus::Pending,
    );
    assert_eq!(a.used_before(d("2026-03-01")), None, "not started yet");
    assert_eq!(a.used_before(d("2026-03-02")), Some(Period::new(d("2026-03-01"), d("2026-03-01"))));
    assert_eq!(a.used_before(d("2026-05-01")), Some(a.period()), "ended");
    let b = a.clone().replacing(&a);
    let c = a.clone().replacing(&b);
    assert_eq!(c.former.len(), 2, "each replacement keeps the older records");
}

#[test]
fn stored_ses_text_reads_as_a_stable_code() {
    let old: Invitation = serde_json::from_value(
        serde_json::json!({"status": "failed", "error": "MessageRejected: Email address is not verified."}),
    )
    .unwrap();
    assert_eq!(old.error, Some(InvitationError::Rejected));
    let new: Invitation =
        serde_json::from_value(serde_json::json!({"status": "failed", "error": "not-sent"}))
            .unwrap();
    assert_eq!(new.error, Some(InvitationError::NotSent));
    assert_eq!(
        serde_json::to_value(Invitation::failed(InvitationError::SenderNotVerified)).unwrap(),
        serde_json::json!({"status": "failed", "error": "sender-not-verified"})
    );
}

#[test]
fn assignment_status_is_inclusive_and_revocation_wins() {
    use AssignmentStatus::*;
    let p = Period::new(d("2026-03-01"), d("2026-03-31"));
    for (day, revoked, status) in [
        ("2026-02-28", false, Scheduled),
        ("2026-03-01", false, Active),
        ("2026-03-31", false, Active),
        ("2026-04-01", false, Expired),
        ("2026-03-15", true, Revoked),
    ] {
        assert_eq!(AssignmentStatus::of(&p, revoked, d(day)), status, "{day}");
    }
}
