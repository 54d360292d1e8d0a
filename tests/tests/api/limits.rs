//! The limits of contract v2: a paste parsed in linear time and refused
//! early, the resend cooldown, the per-customer assign budget.

use licensing_tests::*;
use serde_json::json;

/// An app whose clock stands one second into a fresh budget minute, so a
/// test's requests share one window (they take well under 59 s).
fn at_window_start(app: &licensing::App) -> licensing::App {
    let now = chrono::Utc::now().timestamp() + app.clock_offset;
    app.later(61 - now.rem_euclid(60))
}

fn addresses(n: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i}@example.com")).collect()
}

fn retry_after(answer: &Answer) -> u32 {
    answer.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_paste_of_50000_entries_is_refused_without_parsing_them_all() {
    let (app, id) = licensed(5).await;
    // 52,000 distinct short entries in a body under 256 KiB.
    let mut paste = String::new();
    let mut i = 0u32;
    while paste.len() < 250 * 1024 {
        paste.push_str(&format!("{i:x};"));
        i += 1;
    }
    assert!(i > 50_000, "{i} entries");
    let answer = Client::admin(&app, CUSTOMER).assign(&id, paste).await;
    assert_eq!((answer.status, answer.slug()), (400, "validation-error"), "{:?}", answer.body);
    let message = answer.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("at most 1000"), "{message}");
}

#[tokio::test]
async fn a_resend_waits_ten_minutes_unless_the_invitation_failed() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    a.assign(&id, "r@example.com").await;
    let resend_at = |seconds: i64| {
        let later = app.later(seconds);
        let token = a.token.clone().unwrap();
        let id = id.clone();
        async move { Client::with_token(&later, token).resend(&id, "r@example.com").await }
    };
    let early = resend_at(60).await;
    assert_eq!((early.status, early.slug()), (429, "rate-limited"));
    assert!((530..=540).contains(&retry_after(&early)), "Retry-After {}", retry_after(&early));
    assert_eq!(resend_at(601).await.status, 202);
    // The cooldown starts again with the resend.
    let again = resend_at(700).await;
    assert_eq!((again.status, again.slug()), (429, "rate-limited"));
    assert_eq!(resend_at(1202).await.status, 202);
    // The buyer's automatic seat never had an invitation: it may get one.
    let first = a.resend(&id, &format!("buyer@{CUSTOMER}.example.com")).await;
    assert_eq!(first.status, 202, "{:?}", first.body);
}

#[tokio::test]
async fn two_resends_at_once_pass_the_cooldown_once() {
    let (app, id) = licensed(5).await;
    Client::admin(&app, CUSTOMER).assign(&id, "r@example.com").await;
    let later = app.later(601);
    let a = Client::admin(&later, CUSTOMER);
    let (x, y) = tokio::join!(a.resend(&id, "r@example.com"), a.resend(&id, "r@example.com"));
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [202, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_customers_bulk_work_never_fails_another_customers_requests() {
    let _heavy = HEAVY_WRITES.acquire().await.unwrap();
    let base = fresh_app().await;
    let app = at_window_start(&base);
    let mut theirs = Vec::new();
    for _ in 0..5 {
        theirs.push(licence(&app, CUSTOMER, 1_002).await);
    }
    let ours = licence(&app, OTHER_CUSTOMER, 50).await;
    // Customer A puts 5 × 1000 addresses through assign (its whole budget),
    // one bulk request after another, while customer B assigns one address
    // at a time.
    let bulk = {
        let (app, theirs) = (app.clone(), theirs.clone());
        tokio::spawn(async move {
            let a = Client::admin(&app, CUSTOMER);
            let mut statuses = Vec::new();
            for (i, id) in theirs.iter().enumerate() {
                statuses.push(a.assign(id, addresses(1000, &format!("bulk{i}-"))).await.status);
            }
            statuses
        })
    };
    let b = Client::admin(&app, OTHER_CUSTOMER);
    let mut singles = Vec::new();
    for i in 0..20 {
        singles.push(b.assign(&ours, format!("b{i}@example.com")).await.status);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(bulk.await.unwrap(), [201; 5]);
    assert_eq!(singles, [201; 20]);
    // A's next address, even in a dry run, is one too many this minute.
    let a = Client::admin(&app, CUSTOMER);
    let dry = a.assign_body(&theirs[0], json!({"emails": "x@example.com", "dryRun": true})).await;
    assert_eq!((dry.status, dry.slug()), (429, "rate-limited"));
    assert!((1..=60).contains(&retry_after(&dry)));
    let x = json!({"emails": "x@example.com"});
    let real = a.assign_with_key(&theirs[0], "k-429", &x).await;
    assert_eq!((real.status, real.slug()), (429, "rate-limited"));
    assert!(a.assignment(&theirs[0], "x@example.com").await.is_none(), "nothing assigned");
    // B is not affected at all.
    assert_eq!(b.assign(&ours, "b-more@example.com").await.status, 201);
    // The next minute, A may go on; the key of the refused request was given back.
    let next = app.later(60);
    let retried = a.on(&next).assign_with_key(&theirs[0], "k-429", &x).await;
    assert_eq!(retried.status, 201, "{:?}", retried.body);
}

#[tokio::test]
async fn the_assign_budget_counts_dry_runs_and_already_assigned_addresses() {
    let base = fresh_app().await;
    let mut app = at_window_start(&base);
    app.assign_budget = 10;
    let id = licence(&app, CUSTOMER, 50).await;
    let a = Client::admin(&app, CUSTOMER);
    let dry = a.assign_body(&id, json!({"emails": addresses(4, "d"), "dryRun": true})).await;
    assert_eq!(dry.status, 200);
    assert_eq!(a.assign(&id, addresses(4, "d")).await.status, 201);
    // 8 used: the same 2 again (already assigned, nothing written) fit...
    assert_eq!(a.assign(&id, addresses(2, "d")).await.status, 200);
    // ...and then nothing more does.
    let over = a.assign(&id, "one@example.com").await;
    assert_eq!((over.status, over.slug()), (429, "rate-limited"));
    assert_eq!(a.all_assignments(&id).await.len(), 5, "buyer + 4");
}
