//! Reminders (contract v2): the buyer's before a term ends without renewal,
//! a person's before their access ends while the licence goes on; through
//! DynamoDB Local and the SES v2 emulator, each sent at most once and never
//! lost, with overlapping runs, a run that dies after sending, SES
//! throttling and catch-up runs.

use chrono::{Days, NaiveDate};
use licensing::App;
use licensing_tests::*;
use serde_json::{Value, json};

/// A licence of `customer` from a month ago to `end`, renewing or not, with
/// a unique buyer; (licence id, buyer).
async fn licence_until(
    app: &App,
    customer: &str,
    end: NaiveDate,
    renews: bool,
) -> (String, String) {
    let order = format!("ORD-{}", ulid::Ulid::new());
    let buyer = unique("buyer");
    let mut event = purchase(&order, customer, &buyer, 10, days_from_today(-30), end);
    event["detail"]["subscription"]["autoRenew"] = json!(renews);
    let id = provision(app, event).await.expect("provision").license_id;
    (id, buyer)
}

fn before(date: NaiveDate, days: u64) -> NaiveDate {
    date - Days::new(days)
}

fn after(date: NaiveDate, days: u64) -> NaiveDate {
    date + Days::new(days)
}

async fn assign(app: &App, id: &str, email: &str, until: Option<NaiveDate>, language: &str) {
    let mut body = json!({"emails": email, "language": language});
    if let Some(until) = until {
        body["validUntil"] = json!(until);
    }
    let answer = Client::admin(app, CUSTOMER).assign_body(id, body).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}

fn subjects(to: &str) -> Vec<String> {
    mails_to(to).iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect()
}

fn text(mail: &Value) -> &str {
    mail["body"]["text"].as_str().unwrap()
}

#[tokio::test]
async fn the_buyer_hears_30_and_7_days_before_a_term_that_does_not_renew_once_each() {
    let app = fresh_app().await;
    let end = days_from_today(60);
    let (id, buyer) = licence_until(&app, CUSTOMER, end, false).await;
    let (_, renewing_buyer) = licence_until(&app, CUSTOMER, end, true).await;
    assign(&app, &id, &unique("a"), None, "en").await;
    assign(&app, &id, &unique("b"), None, "de").await;
    assign(&app, &id, &unique("c"), Some(before(end, 40)), "en").await;
    let n = notifier(&app, ses_endpoint());
    assert_eq!(n.remind(before(end, 31)).await.unwrap().sent, 0, "not yet");

    let first = n.remind(before(end, 30)).await.unwrap();
    assert_eq!((first.sent, first.due), (1, 1), "{first:?}");
    let product =
        format!("Product {}", app.store.license(CUSTOMER, &id).await.unwrap().unwrap().order_id);
    let date = end.format("%-d %B %Y");
    assert_eq!(subjects(&buyer), [format!("Your {product} licence ends in 30 days, on {date}")]);
    let mail = &mails_to(&buyer)[0];
    // The buyer and the two with the default period lose access then.
    assert!(text(mail).contains(&format!("3 people lose access on {date}.")), "{}", text(mail));
    assert!(text(mail).contains("https://portal.example.com/sign-in"));
    for day in [29, 20, 8] {
        let again = n.remind(before(end, day)).await.unwrap();
        assert_eq!((again.sent, again.already), (0, 1), "day -{day}: {again:?}");
    }
    assert_eq!(n.remind(before(end, 7)).await.unwrap().sent, 1);
    assert_eq!(n.remind(end).await.unwrap().sent, 0);
    assert_eq!(n.remind(after(end, 1)).await.unwrap().due, 0, "over");
    assert_eq!(subjects(&buyer).len(), 2);
    assert!(subjects(&buyer)[1].contains("ends in 7 days"));
    assert!(mails_to(&renewing_buyer).is_empty(), "a licence that renews needs no reminder");
}

#[tokio::test]
async fn a_person_hears_before_their_access_ends_in_their_language_while_the_licence_goes_on() {
    let app = fresh_app().await;
    let (id, _) = licence_until(&app, CUSTOMER, days_from_today(300), true).await;
    let (anna, bob, carl) = (unique("anna"), unique("bob"), unique("carl"));
    let until = days_from_today(20);
    assign(&app, &id, &anna, Some(until), "de").await;
    assign(&app, &id, &bob, None, "en").await;
    assign(&app, &id, &carl, Some(until), "en").await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.revoke(&id, &carl).await.status, 200);
    let n = notifier(&app, ses_endpoint());
    assert_eq!(n.remind(before(until, 8)).await.unwrap().sent, 0);
    let run = n.remind(before(until, 7)).await.unwrap();
    assert_eq!(run.sent, 1, "{run:?}");
    let product =
        format!("Product {}", app.store.license(CUSTOMER, &id).await.unwrap().unwrap().order_id);
    assert_eq!(
        subjects(&anna),
        [format!("Ihr Zugang zu {product} endet am {}", until.format("%d.%m.%Y"))]
    );
    assert!(text(&mails_to(&anna)[0]).contains(&format!("Ihr Benutzername ist {anna}")));
    assert!(mails_to(&bob).is_empty(), "access that ends with the licence: the buyer's reminder");
    assert!(mails_to(&carl).is_empty(), "revoked");

    // Extended: a new end, a new reminder before it (the index follows the change).
    let later = days_from_today(40);
    assert_eq!(a.change(&id, &anna, json!({"validUntil": later})).await.status, 200);
    assert_eq!(n.remind(before(until, 2)).await.unwrap().sent, 0, "the old end is gone");
    assert_eq!(n.remind(before(later, 3)).await.unwrap().sent, 1);
    assert_eq!(subjects(&anna).len(), 2);
    assert!(subjects(&anna)[1].ends_with(&later.format("%d.%m.%Y").to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_runs_send_each_reminder_once() {
    let app = fresh_app().await;
    let end = days_from_today(40);
    let (id, buyer) = licence_until(&app, CUSTOMER, end, false).await;
    let person = unique("person");
    assign(&app, &id, &person, Some(days_from_today(12)), "en").await;
    let n = notifier(&app, ses_endpoint());
    let day = before(end, 30);
    let (x, y) = tokio::join!(n.remind(day), n.remind(day));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.sent + y.sent, 2, "{x:?} {y:?}");
    assert_eq!(x.already + y.already, 2, "each run saw the other's");
    assert_eq!((mails_to(&buyer).len(), mails_to(&person).len()), (1, 1));
}

#[tokio::test]
async fn a_run_that_dies_after_sending_is_not_repeated() {
    use licensing_tests::proxy::{Fault, Proxy};
    let app = fresh_app().await;
    let end = days_from_today(40);
    let (_, buyer) = licence_until(&app, CUSTOMER, end, false).await;
    // The claim (UpdateItem 1) goes through, SES sends, then the record of
    // the send (UpdateItem 2) never reaches the table: the run fails.
    let proxy = Proxy::start(dynamodb_endpoint()).await;
    proxy.fail_after("UpdateItem", 1, Fault::Drop);
    let via = app_at(&proxy.url, app.store.table());
    let dying = notifier(&via, ses_endpoint());
    assert!(dying.remind(before(end, 30)).await.is_err());
    assert_eq!(mails_to(&buyer).len(), 1, "SES had it");
    // Every later run finds the claim and sends nothing more: at most once.
    let n = notifier(&app, ses_endpoint());
    for day in [30, 29] {
        let run = n.remind(before(end, day)).await.unwrap();
        assert_eq!((run.sent, run.already), (0, 1), "{run:?}");
    }
    assert_eq!(mails_to(&buyer).len(), 1);
}

#[tokio::test]
async fn ses_throttling_gives_the_reminder_back_and_the_retry_sends_it() {
    let app = fresh_app().await;
    let end = days_from_today(40);
    let (_, buyer) = licence_until(&app, CUSTOMER, end, false).await;
    let throttled = notifier(&app, &ses_failing_with(429, "TooManyRequestsException"));
    let day = json!({"today": before(end, 7)});
    let refused = throttled.handle_reminders(&day).await;
    assert!(refused.unwrap_err().contains("retry"), "the invocation fails, so Lambda retries it");
    assert!(mails_to(&buyer).is_empty());
    let report = notifier(&app, ses_endpoint()).handle_reminders(&day).await.unwrap();
    assert_eq!((report.sent, report.today), (1, Some(before(end, 7))));
    assert_eq!(mails_to(&buyer).len(), 1);
    // A permanent refusal is recorded and not tried again.
    let (_, other) = licence_until(&app, CUSTOMER, end, false).await;
    let rejected = notifier(&app, &ses_failing_with(400, "MessageRejected"));
    assert_eq!(rejected.remind(before(end, 6)).await.unwrap().failed, 1);
    assert_eq!(notifier(&app, ses_endpoint()).remind(before(end, 5)).await.unwrap().sent, 0);
    assert!(mails_to(&other).is_empty());
}

#[tokio::test]
async fn a_catch_up_run_sends_what_is_still_due_and_reads_only_the_window() {
    let app = fresh_app().await;
    let end = days_from_today(35);
    let (id, buyer) = licence_until(&app, CUSTOMER, end, false).await;
    let person = unique("late");
    let until = days_from_today(15);
    assign(&app, &id, &person, Some(until), "en").await;
    // Licences and assignments far from any reminder: not read at all.
    for _ in 0..5 {
        let (far, _) = licence_until(&app, "cust-far", days_from_today(300), false).await;
        let answer = Client::admin(&app, "cust-far").assign(&far, numbered("far", 5, 0)).await;
        assert_eq!(answer.status, 201);
    }
    let n = notifier(&app, ses_endpoint());
    // No run for days: the next one still sends the 30-day reminder (5 days
    // late) and the person's (5 days before the end instead of 7).
    let run = n.remind(before(until, 5)).await.unwrap();
    assert_eq!((run.sent, run.due), (2, 2), "{run:?}");
    assert!(subjects(&buyer)[0].contains("ends in 30 days"));
    assert_eq!(mails_to(&person).len(), 1);
    // The window names this customer's licence and its assignments only.
    assert!(run.candidates <= 4, "{run:?}");
}

/// A lifecycle event parked for over a day waits for a predecessor that may
/// never come: the daily run counts such events and logs an error, which
/// the template's alarm counts. One parked a moment ago is not counted, and
/// one applied since is gone from the count.
#[tokio::test]
async fn the_daily_run_counts_events_parked_for_over_a_day() {
    let app = fresh_app().await;
    let today = chrono::Utc::now().date_naive();
    let waiting = |order: &str| sequenced(quantity_change(order, "CHG-1", 4), 1);
    let two_days_ago = app.later(-2 * 86_400);
    let (old, new) = (format!("ORD-{}", ulid::Ulid::new()), format!("ORD-{}", ulid::Ulid::new()));
    assert_eq!(deliver(&two_days_ago, waiting(&old)).await.unwrap()["parked"], true);
    assert_eq!(deliver(&app, waiting(&new)).await.unwrap()["parked"], true);
    let n = notifier(&app, ses_endpoint());
    assert_eq!(n.remind(today).await.unwrap().parked_over_a_day, 1);
    let bought =
        purchase(&old, CUSTOMER, "b@example.com", 3, days_from_today(-1), days_from_today(30));
    provision_event(&app, bought).await;
    assert_eq!(n.remind(today).await.unwrap().parked_over_a_day, 0, "applied after its purchase");
}

// ------------------------------------------------- reclaim of idle seats (v3)

/// The licence's history entries as the table's stream brings them to
/// `notify` (inserted items, new images).
async fn entries_as_stream(app: &App, id: &str) -> Value {
    let history = Client::admin(app, CUSTOMER).all_history(id, "", 100).await;
    let records: Vec<Value> = history
        .iter()
        .enumerate()
        .map(|(i, e)| {
            // The view has no entry id: one as stable as the entry.
            let entry_id = format!("{}#{}#{}", e["at"], e["action"], e["email"]);
            let mut image = json!({
                "type": {"S": "HistoryEntry"}, "customerId": {"S": CUSTOMER},
                "licenseId": {"S": id}, "id": {"S": entry_id}, "action": {"S": e["action"]},
                "at": {"S": e["at"]}
            });
            if let Some(email) = e["email"].as_str() {
                image["email"] = json!({"S": email});
            }
            if let Some(reason) = e["reason"].as_str() {
                image["reason"] = json!({"S": reason});
            }
            json!({"eventID": format!("h{i}"), "eventName": "INSERT",
                   "dynamodb": {"NewImage": image, "SequenceNumber": format!("{:021}", i + 1)}})
        })
        .collect();
    json!({ "Records": records })
}

/// Sets licence `id`'s reclaim policy as its admin on `app`'s day.
async fn reclaim(app: &App, id: &str, body: Value) {
    let answer = Client::admin(app, CUSTOMER)
        .send("PUT", &format!("/licenses/{id}/reclaim"), Some(body))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

/// The person signs in to the licence's product on `app`'s day.
async fn signs_in(app: &App, id: &str, email: &str) {
    let admin = Client::admin(app, CUSTOMER);
    let product = admin.license(id).await.body["productId"].as_str().unwrap().to_string();
    let user = Client::user(app, email, CUSTOMER);
    let answer = user.send("GET", &format!("/me/entitlements/{product}"), None).await;
    assert_eq!(answer.body["entitled"], true, "{:?}", answer.body);
}

async fn of_action(admin: &Client<'_>, id: &str, action: &str) -> Vec<Value> {
    let all = admin.all_history(id, "", 100).await;
    all.into_iter().filter(|e| e["action"] == action).collect()
}

async fn status_of(app: &App, id: &str, email: &str) -> Value {
    let a = Client::admin(app, CUSTOMER).assignment(id, email).await.expect("an assignment");
    json!([a["status"], a["revokedBy"]])
}

#[tokio::test]
async fn idle_seats_are_warned_once_and_freed_after_the_grace_days_unless_used() {
    let app = fresh_app().await;
    let (id, buyer) = licence_until(&app, CUSTOMER, days_from_today(300), true).await;
    let (anna, bob) = (unique("anna"), unique("bob"));
    assign(&app, &id, &anna, None, "de").await;
    assign(&app, &id, &bob, None, "en").await;
    reclaim(&app, &id, json!({"enabled": true, "inactiveDays": 14, "graceDays": 7})).await;
    let n = notifier(&app, ses_endpoint());
    let day = |d: i64| days_from_today(d);
    let later = |d: i64| app.later(d * 86_400);

    let quiet = n.remind(day(13)).await.unwrap().reclaim;
    assert_eq!((quiet.candidates, quiet.warned), (0, 0), "idle from the day reclaim was enabled");
    let run = n.remind(day(14)).await.unwrap().reclaim;
    assert_eq!((run.candidates, run.warned, run.revoked), (3, 3, 0), "{run:?}");
    // The index moved them to the end of their grace: a second run reads nothing.
    assert_eq!(n.remind(day(14)).await.unwrap().reclaim.candidates, 0);
    let admin = Client::admin(&app, CUSTOMER);
    let entries = of_action(&admin, &id, "assignment.reclaim-warned").await;
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e["actor"] == "system"));

    // Each person hears once, in their language, whatever the deliveries.
    let stream = entries_as_stream(&app, &id).await;
    for _ in 0..2 {
        assert_eq!(n.handle(&stream).await, json!({"batchItemFailures": []}));
    }
    let use_by = day(20).format("%d.%m.%Y").to_string();
    assert_eq!(subjects(&anna).len(), 1, "{:?}", subjects(&anna));
    assert!(subjects(&anna)[0].contains(&use_by), "{:?}", subjects(&anna));
    assert!(text(&mails_to(&anna)[0]).contains("noch nicht genutzt"));
    assert!(subjects(&bob)[0].starts_with("Your seat of"));

    // Bob signs in during his grace days: the warning no longer counts.
    signs_in(&later(16), &id, &bob).await;
    let freed = n.remind(day(21)).await.unwrap().reclaim;
    // Bob's use moved him out of day 21 in the index: the run reads only the two.
    assert_eq!((freed.candidates, freed.revoked, freed.digests), (2, 2, 1), "{freed:?}");
    assert_eq!(status_of(&app, &id, &anna).await, json!(["revoked", "system"]));
    assert_eq!(status_of(&app, &id, &bob).await, json!(["active", null]));
    let revoked = of_action(&admin, &id, "assignment.revoked").await;
    assert_eq!(revoked.len(), 2);
    assert!(revoked.iter().all(|e| e["reason"] == "inactive" && e["actor"] == "system"));
    let on_day21 = Client::admin(&later(21), CUSTOMER).license(&id).await.body;
    assert_eq!(on_day21["availableSeats"], 10 - 1, "{on_day21}");
    // One digest for the buyer, naming both freed seats (the buyer's own among them).
    let digest: Vec<Value> = mails_to(&buyer)
        .into_iter()
        .filter(|m| m["subject"] == "2 unused seats were freed")
        .collect();
    assert_eq!(digest.len(), 1);
    assert!(text(&digest[0]).contains(&anna));
    // The person hears that the seat was freed, once.
    let stream = entries_as_stream(&app, &id).await;
    for _ in 0..2 {
        assert_eq!(n.handle(&stream).await, json!({"batchItemFailures": []}));
    }
    assert_eq!(subjects(&anna).len(), 2);
    assert!(subjects(&anna)[1].ends_with("ist beendet"), "{:?}", subjects(&anna));
    assert_eq!(n.remind(day(22)).await.unwrap().reclaim, Default::default(), "nothing left");
    // Bob, idle again 14 days after his sign-in, is warned afresh.
    assert_eq!(n.remind(day(30)).await.unwrap().reclaim.warned, 1);
}

#[tokio::test]
async fn a_policy_change_moves_every_seat_in_the_index_and_disabling_takes_them_out() {
    let app = fresh_app().await;
    let order = format!("ORD-{}", ulid::Ulid::new());
    let event = purchase(
        &order,
        CUSTOMER,
        &unique("buyer"),
        80,
        days_from_today(-30),
        days_from_today(300),
    );
    let id = provision(&app, event).await.expect("provision").license_id;
    for who in numbered("seat", 60, 2) {
        assign(&app, &id, &who, None, "en").await;
    }
    let n = notifier(&app, ses_endpoint());
    reclaim(&app, &id, json!({"enabled": true, "inactiveDays": 60, "graceDays": 7})).await;
    assert_eq!(
        n.reclaim_idle(days_from_today(59), chrono::Utc::now()).await.unwrap().candidates,
        0
    );
    // Fewer inactive days: every seat (61 with the buyer's, over two chunks) moves earlier.
    reclaim(&app, &id, json!({"enabled": true, "inactiveDays": 14, "graceDays": 7})).await;
    // What the request's 2 s did not rewrite (a loaded machine), the minute's run does.
    n.every_minute(chrono::Utc::now() + chrono::Duration::minutes(1)).await.unwrap();
    let licence = app.store.license(CUSTOMER, &id).await.unwrap().unwrap();
    assert!(licence.operation.is_none(), "every seat rewritten");
    let preview = Client::admin(&app.later(14 * 86_400), CUSTOMER)
        .send("GET", &format!("/licenses/{id}/reclaim/preview"), None)
        .await;
    assert_eq!(preview.body["warn"].as_array().unwrap().len(), 61);
    let day14 = days_from_today(14).and_hms_opt(3, 0, 0).unwrap().and_utc();
    let on_day14 = n.reclaim_idle(days_from_today(14), day14).await.unwrap();
    assert_eq!((on_day14.candidates, on_day14.warned), (61, 61), "exactly what the preview showed");
    // Disabled: out of the index, whatever the day.
    reclaim(&app, &id, json!({"enabled": false})).await;
    let later = days_from_today(200).and_hms_opt(3, 0, 0).unwrap().and_utc();
    assert_eq!(n.reclaim_idle(days_from_today(200), later).await.unwrap(), Default::default());
}

#[tokio::test]
async fn a_throttled_mail_of_the_run_comes_again_and_goes_once() {
    let app = fresh_app().await;
    let (id, _) = licence_until(&app, CUSTOMER, days_from_today(300), true).await;
    let anna = unique("anna");
    assign(&app, &id, &anna, None, "en").await;
    reclaim(&app, &id, json!({"enabled": true, "inactiveDays": 14, "graceDays": 7})).await;
    let n = notifier(&app, ses_endpoint());
    assert_eq!(n.remind(days_from_today(14)).await.unwrap().reclaim.warned, 2);
    let stream = entries_as_stream(&app, &id).await;
    let throttled = notifier(&app, &ses_failing_with(429, "TooManyRequestsException"));
    let answer = throttled.handle(&stream).await;
    assert_eq!(answer["batchItemFailures"].as_array().unwrap().len(), 2, "{answer}");
    assert!(mails_to(&anna).is_empty());
    assert_eq!(n.handle(&stream).await, json!({"batchItemFailures": []}));
    assert_eq!(subjects(&anna).len(), 1);
    // The buyer's digest names seats that are freed already: while SES throttles it is
    // tried again within the run, and given up (an error for the alarm) only after that.
    let freed = throttled.remind(days_from_today(21)).await.unwrap().reclaim;
    assert_eq!((freed.revoked, freed.digests, freed.digests_lost), (2, 0, 1), "{freed:?}");
}

// ------------------------------------------------------ seats running out (v3)

#[tokio::test]
async fn running_out_of_seats_is_recorded_and_told_once_until_seats_are_free_again() {
    let app = fresh_app().await;
    let buyer = unique("buyer");
    let order = format!("ORD-{}", ulid::Ulid::new());
    let event = purchase(&order, CUSTOMER, &buyer, 3, days_from_today(-30), days_from_today(300));
    let id = provision(&app, event).await.expect("provision").license_id;
    let admin = Client::admin(&app, CUSTOMER);
    let exhausted = || of_action(&admin, &id, "license.seats-exhausted");
    assign(&app, &id, &unique("anna"), None, "en").await;
    assert!(exhausted().await.is_empty(), "one seat still free");
    let bob = unique("bob");
    assign(&app, &id, &bob, None, "en").await;
    assert_eq!(exhausted().await.len(), 1, "the last seat taken");
    // A refused assign writes nothing.
    let entries = admin.all_history(&id, "", 100).await.len();
    assert_eq!(admin.assign(&id, unique("carl").as_str()).await.status, 409);
    assert_eq!(admin.all_history(&id, "", 100).await.len(), entries);
    // Seats free again, then taken again: recorded again.
    assert_eq!(admin.revoke(&id, &bob).await.status, 200);
    let later = app.later(86_400);
    assert_eq!(
        Client::admin(&later, CUSTOMER).assign(&id, unique("dora").as_str()).await.status,
        201
    );
    assert_eq!(exhausted().await.len(), 2);
    // The buyer hears once of each, whatever the deliveries.
    let n = notifier(&app, ses_endpoint());
    let stream = entries_as_stream(&app, &id).await;
    for _ in 0..2 {
        assert_eq!(n.handle(&stream).await, json!({"batchItemFailures": []}));
    }
    let product = format!("Product {order}");
    let told: Vec<String> = subjects(&buyer)
        .into_iter()
        .filter(|s| s == &format!("All seats of {product} are in use"))
        .collect();
    assert_eq!(told.len(), 2, "{:?}", subjects(&buyer));
    assert!(text(&mails_to(&buyer)[0]).contains("all 3 seats"));

    // A licence of one seat is full once its buyer holds it.
    let one = purchase(
        &unique("ORD"),
        CUSTOMER,
        &unique("buyer"),
        1,
        days_from_today(-1),
        days_from_today(30),
    );
    let single = provision(&app, one).await.expect("provision").license_id;
    assert_eq!(of_action(&admin, &single, "license.seats-exhausted").await.len(), 1);
}

#[tokio::test]
async fn overlapping_runs_warn_and_free_each_seat_once() {
    let app = fresh_app().await;
    let (id, buyer) = licence_until(&app, CUSTOMER, days_from_today(300), true).await;
    for who in numbered("overlap", 8, 1) {
        assign(&app, &id, &who, None, "en").await;
    }
    reclaim(&app, &id, json!({"enabled": true, "inactiveDays": 14, "graceDays": 7})).await;
    let (a, b) = (notifier(&app, ses_endpoint()), notifier(&app, ses_endpoint()));
    let at =
        |d: i64| (days_from_today(d), days_from_today(d).and_hms_opt(7, 0, 0).unwrap().and_utc());
    let (day, now) = at(14);
    let (first, second) = tokio::join!(a.reclaim_idle(day, now), b.reclaim_idle(day, now));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.warned + second.warned, 9, "{first:?} {second:?}");
    let admin = Client::admin(&app, CUSTOMER);
    assert_eq!(of_action(&admin, &id, "assignment.reclaim-warned").await.len(), 9);
    let (day, now) = at(21);
    let (first, second) = tokio::join!(a.reclaim_idle(day, now), b.reclaim_idle(day, now));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.revoked + second.revoked, 9, "{first:?} {second:?}");
    assert_eq!(of_action(&admin, &id, "assignment.revoked").await.len(), 9);
    // Each run's digest names only what that run freed: together, each seat once.
    let digests: Vec<Value> = mails_to(&buyer)
        .into_iter()
        .filter(|m| text(m).contains("returned to your company"))
        .collect();
    assert_eq!(digests.len(), first.digests + second.digests);
    let named: usize = digests.iter().map(|m| text(m).matches("@").count()).sum();
    assert_eq!(named, 9, "{digests:?}");
}
