//! `PATCH` and `DELETE /licenses/{id}/assignments/{email}`, and the resend.

use licensing_tests::*;
use serde_json::json;

#[tokio::test]
async fn change_rules() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    a.assign(&id, "c@example.com").await;
    for body in [
        json!({}),
        json!({"validUntil": "x"}),
        json!({"status": "active", "validUntil": days_from_today(3)}),
        json!({"validUntil": days_from_today(400)}),
        json!({"validFrom": days_from_today(10), "validUntil": days_from_today(9)}),
    ] {
        let answer = a.change(&id, "c@example.com", body.clone()).await;
        assert_eq!((answer.status, answer.slug()), (400, "validation-error"), "{body}");
    }
    let period = json!({"validFrom": days_from_today(3), "validUntil": days_from_today(9)});
    let moved = a.change(&id, "c@example.com", period).await;
    assert_eq!((moved.status, &moved.body["status"]), (200, &json!("scheduled")));
    let three_days = json!({"validUntil": days_from_today(3)});
    for unknown in ["nobody@example.com", "not-an-email"] {
        let answer = a.change(&id, unknown, three_days.clone()).await;
        assert_eq!(answer.slug(), "assignment-not-found", "{unknown}");
    }
    a.revoke(&id, "c@example.com").await;
    let revoked = a.change(&id, "c@example.com", three_days).await;
    assert_eq!((revoked.status, revoked.slug()), (409, "assignment-revoked"));
    // Revoking twice answers the revoked assignment unchanged.
    let first = a.assignments(&id, "status=revoked").await;
    let again = a.revoke(&id, "c@example.com").await;
    assert_eq!((again.status, &again.body), (200, &first.body["assignments"][0]));
    assert_eq!(a.revoke(&id, "nobody@example.com").await.slug(), "assignment-not-found");
    // A revoked address is assigned afresh.
    let fresh = a.assign(&id, "c@example.com").await;
    assert_eq!(fresh.status, 201);
    let assignment = &fresh.body["results"][0]["assignment"];
    assert_eq!(assignment["status"], "active");
    assert!(assignment["revokedAt"].is_null());
}

#[tokio::test]
async fn resend_sets_the_invitation_pending_again() {
    let (app, id) = licensed(3).await;
    let a = Client::admin(&app, CUSTOMER);
    a.assign(&id, "r@example.com").await;
    // Within 10 minutes of the invitation: 429 (see limits.rs).
    let later = app.later(601);
    let resent = a.on(&later).resend(&id, "r@example.com").await;
    assert_eq!(resent.status, 202, "{:?}", resent.body);
    assert_eq!(resent.body["invitation"]["status"], "pending");
    assert_eq!(a.resend(&id, "x@example.com").await.slug(), "assignment-not-found");
    a.revoke(&id, "r@example.com").await;
    assert_eq!(a.resend(&id, "r@example.com").await.slug(), "assignment-revoked");
}
