//! The data the scenarios run on: licences of one customer (one small, one
//! for single assigns, one for bulk ones, one that grows to 10,000
//! assignments), a user holding seats in four of them, and a customer with
//! 200 licences.

use chrono::{Days, NaiveDate};
use licensing::App;
use licensing::http::identity::AuthMode;
use licensing_tests::{admin, days_from_today, user};
use serde_json::{Value, json};

use crate::measure::{Call, invoke};
use crate::scim::ScimFixture;

pub struct Fixture {
    pub admin: String,
    /// A portal user with seats in four licences.
    pub member: String,
    pub member_email: String,
    /// A licence with 10 assignments (the buyer, the member, 8 more).
    pub small: String,
    pub small_emails: Vec<String>,
    pub single: String,
    pub bulk: String,
    /// The licence the ten `assign 1000` requests fill to 10,000.
    pub big: String,
    pub big_order: String,
    /// A licence with 10 history entries (its purchase, the buyer, 8 more).
    pub quiet: String,
    /// The admin of a customer with 200 licences.
    pub many_admin: String,
    /// The table the reminder run reads: customers × licences.
    pub reminders: Reminders,
    /// Tables of 10,000 and 100,000 seats with 20 due for reclaim (v3).
    pub idle: Vec<crate::idle::IdleFixture>,
    pub term_end: NaiveDate,
    /// People an identity provider deactivates, and a directory of 10,000.
    pub scim: ScimFixture,
    /// The product people with one seat each (assigned singly) check their
    /// entitlement to, and their tokens.
    pub product: String,
    pub entitled: Vec<String>,
}

pub fn purchase(order: &str, customer: &str, buyer: &str, quantity: u32) -> Value {
    licensing_tests::purchase(
        order,
        customer,
        buyer,
        quantity,
        days_from_today(-30),
        days_from_today(365),
    )
}

/// `n` unique addresses (a fresh run id each call).
pub fn addresses(tag: &str, n: usize) -> Vec<String> {
    let run = ulid::Ulid::new().to_string().to_lowercase();
    (0..n).map(|i| format!("{tag}-{i}-{run}@bench.example.com")).collect()
}

/// A request as API Gateway hands it over (the authorizer's verified claims).
pub fn request(method: &str, path: &str, token: &str, body: Option<Value>) -> Call {
    let function = match (method, path.contains("/assignments")) {
        _ if path.starts_with("/me/entitlements/") => "entitlements",
        ("POST", _) => "assign",
        ("PATCH", _) => "change",
        ("DELETE", _) => "revoke",
        _ => "list",
    };
    let body = body.map(|b| b.to_string());
    let mut req = licensing_tests::request(method, path, Some(token), body.as_deref());
    req.headers_mut().insert("content-type", "application/json".parse().unwrap());
    Call::Http(function, Box::new(req))
}

/// `GET /licenses/{id}/assignments` as a CSV export, gzip-compressed or not.
pub fn export(license: &str, token: &str, gzip: bool) -> Call {
    let path = format!("/licenses/{license}/assignments");
    let mut req = licensing_tests::request("GET", &path, Some(token), None);
    req.headers_mut().insert("accept", "text/csv".parse().unwrap());
    if gzip {
        req.headers_mut().insert("accept-encoding", "gzip, deflate, br".parse().unwrap());
    }
    Call::Http("list", Box::new(req))
}

/// A CSV import of `n` new addresses, each with its own period (one of 300
/// end dates) and language, as a spreadsheet writes it.
pub fn import(license: &str, token: &str, n: usize) -> Call {
    let mut csv = String::from("Email;validUntil;Language\r\n");
    for (i, email) in addresses("csv", n).iter().enumerate() {
        let until = days_from_today(30 + (i % 300) as i64);
        let language = if i % 2 == 0 { "de" } else { "en" };
        csv.push_str(&format!("{email};{until};{language}\r\n"));
    }
    let path = format!("/licenses/{license}/assignments");
    let mut req = licensing_tests::request("POST", &path, Some(token), Some(&csv));
    req.headers_mut().insert("content-type", "text/csv".parse().unwrap());
    Call::Http("assign", Box::new(req))
}

pub async fn provision(
    app: &App,
    order: &str,
    customer: &str,
    buyer: &str,
    quantity: u32,
) -> String {
    let event = purchase(order, customer, buyer, quantity);
    licensing_tests::provision(app, event).await.expect("provision").license_id
}

/// Assigns `emails` on each licence of `ids`, by `token`: a 201 each time.
pub async fn assign_each(
    app: &App,
    token: &str,
    ids: impl IntoIterator<Item = &String>,
    emails: Value,
) {
    for id in ids {
        let body = json!({ "emails": emails });
        let call = request("POST", &format!("/licenses/{id}/assignments"), token, Some(body));
        assert_eq!(invoke(app, call).await, 201);
    }
}

/// `n` people of `customer` with a seat each on one licence, assigned 40 at
/// a time (each request one transaction: no bulk batch marks their items),
/// and the licence's product; the people's tokens.
async fn entitled(app: &App, customer: &str, n: usize) -> (String, Vec<String>) {
    let order = format!("ORD-E-{}", ulid::Ulid::new());
    let id = provision(app, &order, customer, "buyer@bench.example.com", n as u32 + 1).await;
    let people = addresses("ent", n);
    for chunk in people.chunks(40) {
        assign_each(app, &admin(customer), [&id], json!(chunk)).await;
    }
    let tokens = people.iter().map(|p| user(p, customer)).collect();
    (format!("product-{order}"), tokens)
}

impl Fixture {
    pub async fn set_up(app: &App, quick: bool) -> Self {
        let customer = "bench-cust";
        let adm = admin(customer);
        let mut ids = Vec::new();
        let mut orders = Vec::new();
        for i in 0..5 {
            let order = format!("ORD-B{i}-{}", ulid::Ulid::new());
            ids.push(provision(app, &order, customer, "buyer@bench.example.com", 100_000).await);
            orders.push(order);
        }
        let member_email = "member@bench.example.com".to_string();
        assign_each(app, &adm, &ids, json!(member_email)).await;
        let small_emails = addresses("small", 8);
        assign_each(app, &adm, [&ids[0], &ids[4]], json!(small_emails)).await;
        // 200 customers × 50 licences (20 × 50 in a quick run, or BENCH_REMIND_CUSTOMERS).
        let customers = std::env::var("BENCH_REMIND_CUSTOMERS").ok().and_then(|n| n.parse().ok());
        let customers = customers.unwrap_or(if quick { 20 } else { 200 });
        let reminders = reminders(app, customers, 50, 10).await;
        let mut idle = Vec::new();
        for seats in [10_000, 100_000] {
            let started = std::time::Instant::now();
            idle.push(crate::idle::IdleFixture::set_up(app, seats, 20).await);
            eprintln!("idle seats: {seats} written in {:.1?}", started.elapsed());
        }
        let many = "bench-many";
        for i in 0..200 {
            let order = format!("ORD-M{i}-{}", ulid::Ulid::new());
            provision(app, &order, many, &format!("buyer{i}@many.example.com"), 10).await;
        }
        let scim = ScimFixture::set_up(app, crate::scenarios::scim_samples(quick).total()).await;
        let (product, entitled) =
            entitled(app, customer, crate::scenarios::warm_samples(quick).total()).await;
        Self {
            admin: adm,
            member: user(&member_email, "other"),
            member_email,
            small: ids[0].clone(),
            small_emails,
            single: ids[1].clone(),
            bulk: ids[2].clone(),
            big: ids[3].clone(),
            big_order: orders[3].clone(),
            quiet: ids[4].clone(),
            many_admin: admin(many),
            reminders,
            idle,
            term_end: days_from_today(365),
            scim,
            product,
            entitled,
        }
    }

    /// The `i`-th renewal of `big`: a year after the one before.
    pub fn renewal(&self, i: usize) -> Value {
        let start = self.term_end + Days::new(1 + 365 * i as u64);
        let end = self.term_end + Days::new(365 * (i as u64 + 1));
        let id = format!("REN-{i}-{}", ulid::Ulid::new());
        licensing_tests::renewal(&self.big_order, &id, start, end, None)
    }

    /// A reminder run today, through the SES emulator.
    pub fn remind(&self) -> Call {
        let notifier =
            licensing_tests::notifier_on(&self.reminders.store, licensing_tests::ses_endpoint());
        Call::Remind(Box::new(notifier), chrono::Utc::now().date_naive())
    }

    /// The day before the term's end, or its end, turn about.
    pub fn change_until(&self, i: usize) -> NaiveDate {
        if (i / (self.small_emails.len() + 1)) % 2 == 0 {
            self.term_end - Days::new(1)
        } else {
            self.term_end
        }
    }
}

/// A table of `customers` × `per_customer` licences for the reminder run:
/// most renew or end far ahead; `due` licences that do not renew end in 20
/// days (their buyers' 30-day reminders are due) and `due` people's access
/// on one of them ends in 5 days.
pub struct Reminders {
    pub licences: usize,
    pub due: usize,
    /// The table of their own they fill: the run reads what is due there,
    /// and the bench table's window stays empty for remind's cold start.
    pub store: licensing::store::Store,
}

pub async fn reminders(
    bench: &App,
    customers: usize,
    per_customer: usize,
    due: usize,
) -> Reminders {
    let table = format!("remind-{}", ulid::Ulid::new().to_string().to_lowercase());
    let client = bench.store.client().clone();
    licensing::store::create_table(&client, &table).await.expect("create table");
    let app = &App::new(licensing::store::Store::new(client, table), AuthMode::Verified);
    let run = ulid::Ulid::new().to_string().to_lowercase();
    let provision_one = |customer: String, i: usize, end: NaiveDate, renews: bool| {
        let mut event = licensing_tests::purchase(
            &format!("ORD-R{i}-{customer}-{run}"),
            &customer,
            &format!("buyer{i}@{customer}.example.com"),
            50,
            days_from_today(-30),
            end,
        );
        event["detail"]["subscription"]["autoRenew"] = json!(renews);
        async move { licensing_tests::provision(app, event).await.expect("provision").license_id }
    };
    let mut first_due = None;
    for c in 0..customers {
        let customer = format!("rem-{c}-{run}");
        let mut ids = Vec::new();
        for i in 0..per_customer {
            let n = c * per_customer + i;
            let (end, renews) = if n < due {
                (days_from_today(20), false)
            } else {
                (days_from_today(200 + (n % 100) as i64), n % 2 == 0)
            };
            ids.push(provision_one(customer.clone(), i, end, renews).await);
        }
        if c == 0 {
            first_due = ids.first().cloned().map(|id| (customer.clone(), id));
        }
    }
    let (customer, license) = first_due.expect("one customer at least");
    let people: Vec<String> =
        (0..due).map(|i| format!("ends{i}-{run}@bench.example.com")).collect();
    let body = json!({"emails": people, "validUntil": days_from_today(5)});
    let call =
        request("POST", &format!("/licenses/{license}/assignments"), &admin(&customer), Some(body));
    assert_eq!(invoke(app, call).await, 201);
    Reminders { licences: customers * per_customer, due: 2 * due, store: app.store.clone() }
}
