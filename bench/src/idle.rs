//! The daily run's reclaim of idle seats (v3) over tables of many seats of
//! which a few are due: what it reads grows with what is due, not with the
//! table (the idle index, GSI3).

use chrono::{Days, Utc};
use licensing::App;
use licensing::http::identity::AuthMode;
use licensing::model::{Assignment, InvitationStatus, Language, Period, ReclaimPolicy};
use licensing::store::{Item, Store, Write, items};

use crate::measure::Call;

/// Seats of one licence (and one more for its buyer).
const PER_LICENCE: usize = 10_000;
/// Transactions written at once while filling a table.
const IN_FLIGHT: usize = 4;

pub struct IdleFixture {
    pub seats: usize,
    pub due: usize,
    /// A table of its own: the run reads what is due there.
    pub store: Store,
}

impl IdleFixture {
    /// `seats` seats on licences of 10,000 that reclaim idle seats (on for a
    /// month, 14 inactive days, 7 of grace); `due` of them unused for 20
    /// days, the others used yesterday. The items are written whole, as the
    /// licence's timeline counts them (BatchWriteItem: a fixture, not a use
    /// case, and DynamoDB Local's transactions would take minutes).
    pub async fn set_up(bench: &App, seats: usize, due: usize) -> Self {
        let table = format!("idle-{}", ulid::Ulid::new().to_string().to_lowercase());
        let client = bench.store.client().clone();
        licensing::store::create_table(&client, &table).await.expect("create table");
        let app = App::new(Store::new(client, table), AuthMode::Verified);
        let today = Utc::now().date_naive();
        let run = ulid::Ulid::new().to_string().to_lowercase();
        let customer = format!("idle-{run}");
        let mut written = 0;
        for l in 0..seats.div_ceil(PER_LICENCE) {
            let order = format!("ORD-I{l}-{run}");
            let event =
                crate::fixtures::purchase(&order, &customer, "buyer@idle.example.com", 20_000);
            let id = licensing_tests::provision(&app, event).await.expect("provision").license_id;
            let mut license = app.store.license(&customer, &id).await.unwrap().expect("licence");
            let here = PER_LICENCE.min(seats - written);
            let period = Period::new(today - Days::new(20), license.term.end);
            let before = license.version;
            license.seats.add(period, here as u32);
            license.reclaim = ReclaimPolicy {
                enabled: true,
                inactive_days: Some(14),
                grace_days: Some(7),
                enabled_on: Some(today - Days::new(30)),
            };
            license.version += 1;
            let write =
                [Write::License { license: license.clone(), expected_version: Some(before) }];
            app.store.transact(&write).await.expect("the policy");
            let now = Utc::now();
            let items: Vec<Item> = (0..here)
                .map(|k| {
                    let email = format!("s{}-{run}@idle.example.com", written + k);
                    let none = InvitationStatus::None;
                    let mut a =
                        Assignment::new(&license, &email, period, now, "bench", Language::En, none);
                    if written + k >= due {
                        a.last_active_on = Some(today - Days::new(1));
                    }
                    items::assignment_item(&a).expect("an item")
                })
                .collect();
            let mut tasks = tokio::task::JoinSet::new();
            for chunk in items.chunks(25) {
                if tasks.len() >= IN_FLIGHT {
                    tasks.join_next().await.expect("a task").expect("joined");
                }
                tasks.spawn(put_all(app.store.clone(), chunk.to_vec()));
            }
            while let Some(done) = tasks.join_next().await {
                done.expect("joined");
            }
            written += here;
        }
        Self { seats, due, store: app.store.clone() }
    }

    /// The run's reclaim today, through the SES emulator.
    pub fn run(&self) -> Call {
        let notifier = licensing_tests::notifier_on(&self.store, licensing_tests::ses_endpoint());
        Call::Reclaim(Box::new(notifier), Utc::now().date_naive(), self.due)
    }
}

/// Puts `items` (at most 25) with BatchWriteItem, again what comes back unprocessed.
async fn put_all(store: Store, items: Vec<Item>) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let mut requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            let put = PutRequest::builder().set_item(Some(item)).build().expect("a put");
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    for _ in 0..20 {
        let out = store
            .client()
            .batch_write_item()
            .request_items(store.table(), requests.clone())
            .send()
            .await;
        match out {
            Ok(out) => {
                let left = out.unprocessed_items.and_then(|mut m| m.remove(store.table()));
                match left {
                    Some(left) if !left.is_empty() => requests = left,
                    _ => return,
                }
            }
            Err(e) => eprintln!("idle seats: a batch again after {e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("idle seats: a batch kept coming back");
}
