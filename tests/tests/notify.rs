//! Invitation mails through the SES v2 emulator: content, exactly once,
//! outages, rejections and resends.

use licensing_tests::*;
use serde_json::{Value, json};

async fn assign(app: &licensing::App, id: &str, email: &str, language: &str) {
    let answer = Client::admin(app, CUSTOMER)
        .send(
            "POST",
            &format!("/licenses/{id}/assignments"),
            Some(json!({"emails": email, "language": language})),
        )
        .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["results"][0]["assignment"]["invitation"]["status"], "pending");
}

/// A licence of 5 seats with an assignment to a fresh address for each
/// `(tag, language)`, in this order: the app, the licence id and the addresses.
async fn assigned_to<const N: usize>(
    who: [(&str, &str); N],
) -> (licensing::App, String, [String; N]) {
    let (app, id) = licensed(5).await;
    let to = who.map(|(tag, _)| unique(tag));
    for (email, (_, language)) in to.iter().zip(who) {
        assign(&app, &id, email, language).await;
    }
    (app, id, to)
}

/// [`assigned_to`] one fresh address tagged `tag`, in English.
async fn assigned(tag: &str) -> (licensing::App, String, String) {
    let (app, id, [to]) = assigned_to([(tag, "en")]).await;
    (app, id, to)
}

/// One mail went to `to`, and its invitation shows `sent`.
async fn sent_once(app: &licensing::App, id: &str, to: &str) {
    assert_eq!(mails_to(to).len(), 1);
    assert_eq!(invitation(app, id, to).await["status"], "sent");
}

/// The assign's stream record, delivered (again) after a revoke: nothing is
/// sent, nothing is retried, and the invitation ends `not-sent`.
async fn delivered_but_not_sent(app: &licensing::App, id: &str, to: &str) {
    let result =
        notifier(app, ses_endpoint()).handle(&stream_event(&[("e1", CUSTOMER, id, to)])).await;
    assert_eq!(result["batchItemFailures"], json!([]));
    assert!(mails_to(to).is_empty());
    assert_eq!(invitation(app, id, to).await, json!({"status": "failed", "error": "not-sent"}));
}

async fn invitation(app: &licensing::App, id: &str, email: &str) -> Value {
    invitation_of(app, CUSTOMER, id, email).await
}

async fn invitation_of(app: &licensing::App, customer: &str, id: &str, email: &str) -> Value {
    Client::admin(app, customer)
        .all_assignments(id)
        .await
        .into_iter()
        .find(|a| a["email"] == email)
        .unwrap()["invitation"]
        .clone()
}

#[tokio::test]
async fn the_mail_names_product_period_link_and_user_name_in_both_languages() {
    let (app, id, [anna, jonas]) = assigned_to([("anna", "en"), ("jonas", "de")]).await;
    let notifier = notifier(&app, ses_endpoint());
    let result = notifier
        .handle(&stream_event(&[("e1", CUSTOMER, &id, &anna), ("e2", CUSTOMER, &id, &jonas)]))
        .await;
    assert_eq!(result, json!({"batchItemFailures": []}));

    let product =
        format!("Product {}", app.store.license(CUSTOMER, &id).await.unwrap().unwrap().order_id);
    let en = mails_to(&anna);
    assert_eq!(en.len(), 1);
    assert_eq!(en[0]["subject"], format!("Your access to {product}"));
    assert_eq!(en[0]["from"], "licensing@example.com");
    let text = en[0]["body"]["text"].as_str().unwrap();
    assert!(text.contains(&product) && text.contains("https://portal.example.com/sign-in"));
    assert!(text.contains(&format!("Your user name is your e-mail address: {anna}")));
    assert!(text.contains(&days_from_today(365).format("%-d %B %Y").to_string()));
    assert!(
        en[0]["body"]["html"]
            .as_str()
            .unwrap()
            .contains("<a href=\"https://portal.example.com/sign-in\">")
    );

    let de = mails_to(&jonas);
    assert_eq!(de.len(), 1);
    assert_eq!(de[0]["subject"], format!("Ihr Zugang zu {product}"));
    let text = de[0]["body"]["text"].as_str().unwrap();
    assert!(text.contains(&format!("Ihr Benutzername ist Ihre E-Mail-Adresse: {jonas}")));
    assert!(text.contains(&days_from_today(365).format("%d.%m.%Y").to_string()));

    let sent = invitation(&app, &id, &anna).await;
    assert_eq!(sent["status"], "sent");
    assert!(sent["sentAt"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_delivered_twice_sends_once() {
    let (app, id, to) = assigned("twice").await;
    let notifier = notifier(&app, ses_endpoint());
    let event = stream_event(&[("dup", CUSTOMER, &id, &to)]);
    let (a, b) = tokio::join!(notifier.handle(&event), notifier.handle(&event));
    // The loser of the claim may hand the record back for a retry; never both.
    let retried = a["batchItemFailures"].as_array().unwrap().len()
        + b["batchItemFailures"].as_array().unwrap().len();
    assert!(retried <= 1, "{a} {b}");
    assert_eq!(
        notifier.handle(&event).await["batchItemFailures"],
        json!([]),
        "the retry is a no-op"
    );
    notifier.handle(&event).await;
    // A later, different record about the same assignment sends nothing either.
    notifier.handle(&stream_event(&[("other", CUSTOMER, &id, &to)])).await;
    assert_eq!(mails_to(&to).len(), 1);
}

#[tokio::test]
async fn mails_arrive_exactly_once_after_an_ses_outage_or_throttling() {
    let (app, id, [down, throttled]) = assigned_to([("down", "en"), ("throttled", "en")]).await;
    let event = stream_event(&[("o1", CUSTOMER, &id, &down), ("o2", CUSTOMER, &id, &throttled)]);

    let unreachable = notifier(&app, &format!("http://127.0.0.1:{}", free_port()));
    let failed = unreachable.handle(&event).await;
    assert_eq!(
        failed["batchItemFailures"].as_array().unwrap().len(),
        2,
        "both come back for a retry"
    );
    let throttling = notifier(&app, &ses_failing_with(429, "TooManyRequestsException"));
    assert_eq!(throttling.handle(&event).await["batchItemFailures"].as_array().unwrap().len(), 2);
    assert_eq!(invitation(&app, &id, &down).await["status"], "pending");

    // SES is back: Lambda retries the same records.
    let back = notifier(&app, ses_endpoint());
    assert_eq!(back.handle(&event).await["batchItemFailures"], json!([]));
    assert_eq!(back.handle(&event).await["batchItemFailures"], json!([]));
    assert_eq!(mails_to(&down).len(), 1);
    sent_once(&app, &id, &throttled).await;
}

#[tokio::test]
async fn a_rejected_address_ends_failed_and_resend_works() {
    let (app, id, to) = assigned("rejected").await;
    let rejecting = notifier(&app, &ses_failing_with(400, "MessageRejected"));
    let result = rejecting.handle(&stream_event(&[("r1", CUSTOMER, &id, &to)])).await;
    assert_eq!(result["batchItemFailures"], json!([]), "a permanent failure is not retried");
    let failed = invitation(&app, &id, &to).await;
    assert_eq!(failed["status"], "failed");
    // A stable code; SES's own words only in the log.
    assert_eq!(failed["error"], "rejected", "{failed}");

    let resent = Client::admin(&app, CUSTOMER)
        .send("POST", &format!("/licenses/{id}/assignments/{to}/invitation"), None)
        .await;
    assert_eq!(resent.status, 202);
    assert_eq!(resent.body["invitation"], json!({"status": "pending"}));
    // The resend's stream record (a MODIFY) triggers notify again.
    let mut event = stream_event(&[("r2", CUSTOMER, &id, &to)]);
    event["Records"][0]["eventName"] = json!("MODIFY");
    assert_eq!(notifier(&app, ses_endpoint()).handle(&event).await["batchItemFailures"], json!([]));
    sent_once(&app, &id, &to).await;
}

#[tokio::test]
async fn a_claim_left_by_a_crashed_run_is_taken_over() {
    let (app, id, to) = assigned("crash").await;
    let now = chrono::Utc::now().timestamp();
    let event = stream_event(&[("e1", CUSTOMER, &id, &to)]);
    let notifier = notifier(&app, ses_endpoint());
    // A run claimed it just now and died before sending: the record comes
    // back for a retry while that claim is fresh...
    let claim = app.store.claim_invitation(CUSTOMER, &id, &to, "dead-run", now).await.unwrap();
    assert!(matches!(claim, licensing::store::InvitationClaim::Claimed(_)));
    assert_eq!(notifier.handle(&event).await["batchItemFailures"].as_array().unwrap().len(), 1);
    assert!(mails_to(&to).is_empty());
    // ...and once the claim is old, the retry takes it over and sends.
    let stale = now - licensing::store::STALE_INVITATION_CLAIM_SECONDS - 10;
    let age = app
        .store
        .client()
        .update_item()
        .table_name(app.store.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("CUSTOMER#{CUSTOMER}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(format!("ASSIGNMENT#{id}#{to}")))
        .update_expression("SET invitationClaim.#at = :old")
        .expression_attribute_names("#at", "at")
        .expression_attribute_values(
            ":old",
            aws_sdk_dynamodb::types::AttributeValue::N(stale.to_string()),
        )
        .send()
        .await;
    assert!(age.is_ok());
    assert_eq!(notifier.handle(&event).await["batchItemFailures"], json!([]));
    sent_once(&app, &id, &to).await;
}

#[tokio::test]
async fn no_invitation_is_sent_for_an_assignment_revoked_before_its_mail() {
    let (app, id, to) = assigned("revoked").await;
    let revoked = Client::admin(&app, CUSTOMER).revoke(&id, &to).await;
    assert_eq!(revoked.body["invitation"], json!({"status": "failed", "error": "not-sent"}));
    delivered_but_not_sent(&app, &id, &to).await;
}

#[tokio::test]
async fn a_revoked_assignment_left_pending_by_an_older_version_is_never_mailed() {
    let (app, id, to) = assigned("legacy").await;
    // What a revoke of the previous version left: revoked, invitation pending.
    use aws_sdk_dynamodb::types::AttributeValue as V;
    app.store
        .client()
        .update_item()
        .table_name(app.store.table())
        .key("PK", V::S(format!("CUSTOMER#{CUSTOMER}")))
        .key("SK", V::S(format!("ASSIGNMENT#{id}#{to}")))
        .update_expression("SET revokedAt = :at, revokedBy = :by")
        .expression_attribute_values(":at", V::S("2026-11-28T10:00:00Z".into()))
        .expression_attribute_values(":by", V::S("admin@example.com".into()))
        .send()
        .await
        .unwrap();
    delivered_but_not_sent(&app, &id, &to).await;
}

#[tokio::test]
async fn a_mail_already_claimed_when_the_revoke_comes_is_recorded_as_sent() {
    let (app, id, to) = assigned("inflight").await;
    let claimed = app
        .store
        .claim_invitation(CUSTOMER, &id, &to, "run-1", chrono::Utc::now().timestamp())
        .await
        .unwrap();
    let licensing::store::InvitationClaim::Claimed(a) = claimed else { panic!("{claimed:?}") };
    let revoked = Client::admin(&app, CUSTOMER).revoke(&id, &to).await;
    assert_eq!(revoked.body["invitation"]["status"], "pending", "left to the sender");
    // The run that held the claim did hand the mail to SES: that is what shows.
    let sent = licensing::model::Invitation {
        status: licensing::model::InvitationStatus::Sent,
        sent_at: Some(chrono::Utc::now()),
        error: None,
        accepted_at: None,
    };
    let recorded = licensing::notify::record(&app.store, &a, "run-1", &sent, Some("m-1".into()));
    assert!(recorded.await.unwrap());
    assert_eq!(invitation(&app, &id, &to).await["status"], "sent");
}

/// The revoke lands after notify claimed the invitation, before it read the
/// assignment again (a proxy holds that read back): no mail goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_after_the_claim_stops_the_mail_before_ses() {
    use licensing_tests::proxy::{Fault, Proxy};
    let (app, id, to) = assigned("late-revoke").await;
    let proxy = Proxy::start(dynamodb_endpoint()).await;
    proxy.fail_after("BatchGetItem", 0, Fault::Delay(std::time::Duration::from_millis(1500)));
    let via = app_at(&proxy.url, app.store.table());
    let sending = {
        let (notifier, event) =
            (notifier(&via, ses_endpoint()), stream_event(&[("e1", CUSTOMER, &id, &to)]));
        tokio::spawn(async move { notifier.handle(&event).await })
    };
    // Once the claim is taken (the held-back read follows it), revoke.
    let claimed = || async { Client::admin(&app, CUSTOMER).assignment(&id, &to).await.unwrap() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while proxy.seen("BatchGetItem") == 0 {
        assert!(std::time::Instant::now() < deadline, "notify never read the assignment again");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(claimed().await["invitation"]["status"], "pending");
    let revoked = Client::admin(&app, CUSTOMER).revoke(&id, &to).await;
    assert_eq!(revoked.body["invitation"]["status"], "pending", "a sender holds it");
    assert_eq!(sending.await.unwrap()["batchItemFailures"], json!([]));
    assert!(mails_to(&to).is_empty(), "the mail went out after the revoke");
    assert_eq!(invitation(&app, &id, &to).await, json!({"status": "failed", "error": "not-sent"}));
}

#[tokio::test]
async fn a_failed_invitation_shows_a_stable_code_never_ses_text() {
    let (app, id) = licensed(5).await;
    let cases = [
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: licensing@example.com".to_string(),
            "sender-not-verified",
        ),
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: someone@example.com".to_string(),
            "rejected",
        ),
        ("BadRequestException", "Invalid address".to_string(), "invalid-address"),
        ("MailFromDomainNotVerifiedException", "MAIL FROM not verified".to_string(), "sender-not-verified"),
    ];
    for (i, (kind, message, code)) in cases.into_iter().enumerate() {
        let to = unique(&format!("code{i}"));
        assign(&app, &id, &to, "en").await;
        let ses = ses_failing_with_message(400, kind, message.clone());
        notifier(&app, &ses).handle(&stream_event(&[("e", CUSTOMER, &id, &to)])).await;
        let shown = invitation(&app, &id, &to).await;
        assert_eq!(shown, json!({"status": "failed", "error": code}), "{kind}");
        let listed = Client::admin(&app, CUSTOMER)
            .send("GET", &format!("/licenses/{id}/assignments"), None)
            .await;
        assert!(!raw(&listed).contains(&message), "SES text leaked");
    }
}

/// The review's sequence: the mail goes out, then, before its outcome is
/// recorded, the admin changes the assignment. v2 dated `invitation.sent`
/// by SES's send time but filed it by when it was written, so the history
/// listed it above a later entry with an earlier `at`. An entry's `at` is
/// when it was written; the send time is in its `after`.
#[tokio::test]
async fn history_is_newest_first_by_when_each_entry_was_written() {
    let (app, id, to) = assigned("order").await;
    let now = chrono::Utc::now().timestamp();
    let claimed = app.store.claim_invitation(CUSTOMER, &id, &to, "run-1", now).await.unwrap();
    let licensing::store::InvitationClaim::Claimed(a) = claimed else { panic!("{claimed:?}") };
    let sent_at = chrono::Utc::now() - chrono::Duration::seconds(5);
    let admin = Client::admin(&app, CUSTOMER);
    let until = days_from_today(20);
    assert_eq!(admin.change(&id, &to, json!({"validUntil": until})).await.status, 200);
    let sent = licensing::model::Invitation {
        status: licensing::model::InvitationStatus::Sent,
        sent_at: Some(sent_at),
        error: None,
        accepted_at: None,
    };
    let recorded = licensing::notify::record(&app.store, &a, "run-1", &sent, Some("m-1".into()));
    assert!(recorded.await.unwrap());
    let history = admin.all_history(&id, "", 100).await;
    let at: Vec<&str> = history.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first by at: {at:?}");
    assert_eq!(history[0]["action"], "invitation.sent", "written last, listed first");
    assert_eq!(history[1]["action"], "assignment.changed");
    let sent_after = history[0]["after"]["sentAt"].as_str().unwrap();
    assert_eq!(
        sent_after.parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp(),
        sent_at.timestamp()
    );
}

/// The stream record of `to`'s assignment on `id` (of `customer`), through notify.
async fn notified(app: &licensing::App, customer: &str, id: &str, to: &str) {
    let mut event = stream_event(&[(&unique("ev"), customer, id, to)]);
    event["Records"][0]["eventName"] = json!("MODIFY");
    let result = notifier(app, ses_endpoint()).handle(&event).await;
    assert_eq!(result["batchItemFailures"], json!([]));
}

/// v3: revoking and assigning again sent 4 mails in 15 s to one address.
/// Now one mail per address and licence in 10 minutes: the others wait as
/// `pending`, and the minute's sweep sends the last one when the window has
/// passed.
#[tokio::test]
async fn revoking_and_assigning_again_mails_once_per_ten_minutes() {
    let (app, id, to) = assigned("again").await;
    let a = Client::admin(&app, CUSTOMER);
    notified(&app, CUSTOMER, &id, &to).await;
    assert_eq!(mails_to(&to).len(), 1);
    for _ in 0..3 {
        assert_eq!(a.revoke(&id, &to).await.status, 200);
        assign(&app, &id, &to, "en").await;
        notified(&app, CUSTOMER, &id, &to).await;
    }
    assert_eq!(mails_to(&to).len(), 1, "the window holds whatever the path");
    assert_eq!(invitation(&app, &id, &to).await, json!({"status": "pending"}));
    // An explicit resend inside the window still answers 429.
    let resend = a.send("POST", &format!("/licenses/{id}/assignments/{to}/invitation"), None).await;
    assert_eq!((resend.status, resend.slug()), (429, "rate-limited"));

    let notifier = notifier(&app, ses_endpoint());
    let now = chrono::Utc::now();
    let early = notifier.send_waiting(now + chrono::Duration::minutes(5)).await.unwrap();
    assert_eq!((early.processed, mails_to(&to).len()), (0, 1), "not before its window has passed");
    let later = now + chrono::Duration::minutes(11);
    assert_eq!(notifier.send_waiting(later).await.unwrap().processed, 1);
    assert_eq!(mails_to(&to).len(), 2);
    assert_eq!(invitation(&app, &id, &to).await["status"], "sent");
    // Sent once: the next sweeps and a late stream record find nothing.
    assert_eq!(notifier.send_waiting(later).await.unwrap().processed, 0);
    notified(&app, CUSTOMER, &id, &to).await;
    assert_eq!(mails_to(&to).len(), 2);
}

/// A waiting invitation whose assignment is revoked is never sent, and
/// leaves the sweep's list.
#[tokio::test]
async fn a_waiting_invitation_revoked_is_never_sent() {
    let (app, id, to) = assigned("waits").await;
    let a = Client::admin(&app, CUSTOMER);
    notified(&app, CUSTOMER, &id, &to).await;
    assert_eq!(a.revoke(&id, &to).await.status, 200);
    assign(&app, &id, &to, "en").await;
    notified(&app, CUSTOMER, &id, &to).await;
    assert_eq!(a.revoke(&id, &to).await.status, 200);
    let notifier = notifier(&app, ses_endpoint());
    let later = chrono::Utc::now() + chrono::Duration::minutes(11);
    assert_eq!(notifier.send_waiting(later).await.unwrap().processed, 1);
    assert_eq!(app.store.waiting_invitations(later).await.unwrap(), vec![]);
    assert_eq!(mails_to(&to).len(), 1);
    assert_eq!(invitation(&app, &id, &to).await, json!({"status": "failed", "error": "not-sent"}));
}

/// An address gets at most 5 invitation mails a day from one customer and
/// 20 from all customers together; beyond, `failed` with `recipient-limit`,
/// which a resend may retry the next day.
#[tokio::test]
async fn an_address_gets_five_mails_a_day_from_a_customer_and_twenty_in_all() {
    let app = fresh_app().await;
    let to = unique("popular");
    let mut ids = Vec::new();
    for _ in 0..6 {
        let id = licence(&app, CUSTOMER, 3).await;
        assert_eq!(Client::admin(&app, CUSTOMER).assign(&id, to.as_str()).await.status, 201);
        notified(&app, CUSTOMER, &id, &to).await;
        ids.push(id);
    }
    assert_eq!(mails_to(&to).len(), 5);
    let over = invitation(&app, &ids[5], &to).await;
    assert_eq!(over, json!({"status": "failed", "error": "recipient-limit"}));
    let resend = Client::admin(&app, CUSTOMER)
        .send("POST", &format!("/licenses/{}/assignments/{to}/invitation", ids[5]), None)
        .await;
    assert_eq!((resend.status, resend.slug()), (429, "rate-limited"), "{:?}", resend.body);
    let retry_after: i64 = resend.headers["retry-after"].to_str().unwrap().parse().unwrap();
    let midnight = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).and_hms_opt(0, 0, 0);
    let until_midnight = (midnight.unwrap().and_utc() - chrono::Utc::now()).num_seconds();
    assert!((until_midnight - 5..=until_midnight + 5).contains(&retry_after), "{retry_after}");

    // Other customers: 15 more make 20 in all; the 21st is refused.
    for c in 0..4 {
        let customer = format!("cust-limit-{c}");
        for n in 0..4 {
            let id = licence(&app, &customer, 3).await;
            assert_eq!(Client::admin(&app, &customer).assign(&id, to.as_str()).await.status, 201);
            notified(&app, &customer, &id, &to).await;
            let expected = if c * 4 + n < 15 { "sent" } else { "failed" };
            let status = invitation_of(&app, &customer, &id, &to).await;
            assert_eq!(status["status"], expected, "customer {c}, licence {n}: {status}");
        }
    }
    assert_eq!(mails_to(&to).len(), 20);
}

/// A stream record of a token's item, as the table's stream carries it
/// (the attributes the functions store, from the API's answer).
fn token_record(event: &str, sequence: u32, token: &Value, old: Option<&Value>) -> Value {
    let image = |t: &Value| {
        let mut image = json!({
            "PK": {"S": format!("CUSTOMER#{CUSTOMER}")}, "SK": {"S": format!("TOKEN#{}", t["tokenId"].as_str().unwrap())},
            "type": {"S": "Token"}, "customerId": {"S": CUSTOMER}, "tokenId": t["tokenId"], "name": t["name"],
            "createdBy": t["createdBy"], "createdAt": t["createdAt"], "lastDay": t["expiresAt"],
        });
        for (field, name) in
            [("revokedAt", "revokedAt"), ("revokedBy", "revokedBy"), ("lastUsedAt", "lastUsedAt")]
        {
            if let Some(v) = t[field].as_str() {
                image[name] = json!({"S": v});
            }
        }
        for name in ["tokenId", "name", "createdBy", "createdAt", "lastDay"] {
            image[name] = json!({"S": image[name].as_str().unwrap()});
        }
        image
    };
    let mut dynamodb =
        json!({"SequenceNumber": format!("{sequence:021}"), "NewImage": image(token)});
    if let Some(old) = old {
        dynamodb["OldImage"] = image(old);
    }
    json!({"Records": [{"eventID": format!("t{sequence}"), "eventName": event, "eventSource": "aws:dynamodb", "dynamodb": dynamodb}]})
}

/// A customer with licences bought by two buyers (one of them twice).
async fn bought_by_two() -> (licensing::App, [String; 2]) {
    let app = fresh_app().await;
    let buyers = [unique("token-buyer"), unique("token-buyer")];
    for buyer in [&buyers[0], &buyers[1], &buyers[0]] {
        let order = format!("ORD-{}", ulid::Ulid::new());
        let event =
            purchase(&order, CUSTOMER, buyer, 5, days_from_today(-30), days_from_today(365));
        provision_event(&app, event).await;
    }
    (app, buyers)
}

#[tokio::test]
async fn the_buyers_hear_once_of_a_token_created_and_once_of_its_revocation() {
    let (app, buyers) = bought_by_two().await;
    let admin = Client::admin(&app, CUSTOMER);
    let created = admin
        .send("POST", "/tokens", Some(json!({"name": "Okta <SCIM>", "scopes": ["scim"]})))
        .await
        .body;
    let n = notifier(&app, ses_endpoint());
    let insert = token_record("INSERT", 1, &created, None);
    assert_eq!(n.handle(&insert).await["batchItemFailures"], json!([]));
    assert_eq!(n.handle(&insert).await["batchItemFailures"], json!([]), "redelivered");
    for buyer in &buyers {
        let mails = mails_to(buyer);
        assert_eq!(mails.len(), 1, "{buyer}: one mail, however often the record comes");
        assert_eq!(mails[0]["subject"], "A provisioning token was created for your company");
        let text = mails[0]["body"]["text"].as_str().unwrap();
        assert!(text.contains(&format!("admin@{CUSTOMER}.example.com created the provisioning token \u{201c}Okta <SCIM>\u{201d}")), "{text}");
        assert!(mails[0]["body"]["html"].as_str().unwrap().contains("Okta &lt;SCIM&gt;"));
    }
    // Its use (lastUsedAt) tells nobody anything.
    let mut used = created.clone();
    used["lastUsedAt"] = json!("2026-12-06T21:05:00Z");
    n.handle(&token_record("MODIFY", 2, &used, Some(&created))).await;
    assert_eq!(mails_to(&buyers[0]).len(), 1);
    let id = created["tokenId"].as_str().unwrap();
    let revoked = admin.send("DELETE", &format!("/tokens/{id}"), None).await.body;
    let revocation = token_record("MODIFY", 3, &revoked, Some(&used));
    n.handle(&revocation).await;
    n.handle(&revocation).await;
    for buyer in &buyers {
        let subjects: Vec<Value> = mails_to(buyer).iter().map(|m| m["subject"].clone()).collect();
        assert_eq!(subjects[1..], [json!("A provisioning token was revoked")], "{buyer}");
    }
}

#[tokio::test]
async fn a_token_mail_ses_did_not_take_comes_back_and_goes_out_once() {
    let (app, buyers) = bought_by_two().await;
    let created = Client::admin(&app, CUSTOMER)
        .send("POST", "/tokens", Some(json!({"name": "Entra", "scopes": ["scim"]})))
        .await
        .body;
    let insert = token_record("INSERT", 7, &created, None);
    let throttled = notifier(&app, &ses_failing_with(429, "TooManyRequestsException"));
    let answer = throttled.handle(&insert).await;
    assert_eq!(answer["batchItemFailures"], json!([{"itemIdentifier": format!("{:021}", 7)}]));
    assert!(mails_to(&buyers[0]).is_empty());
    notifier(&app, ses_endpoint()).handle(&insert).await;
    for buyer in &buyers {
        assert_eq!(mails_to(buyer).len(), 1, "{buyer}");
    }
}
