//! A writer meeting another operation's fan-out (API.md v3, "Bounded
//! requests"): a renewal of `big` (10,002 default periods, about 205
//! transactions of moves) is cut right after its commit point, through a
//! proxy that drops every later transaction; then an admin assigns one
//! address. The request may spend about 2 s finishing the renewal before it
//! answers 503 `operation-pending`; the event's redelivery then finishes the
//! rest. Printed, not enforced (timing on a shared 2-core machine).

use std::time::Instant;

use licensing::App;
use licensing_tests::proxy::{Fault, Proxy};
use licensing_tests::{Client, app_at, deliver, renewal};

use crate::fixtures::Fixture;

pub struct MeetsFanout {
    /// The writer's answer and how long it took.
    pub status: u16,
    pub slug: String,
    pub writer_ms: f64,
    /// The redelivery that finished the renewal, and how long it took.
    pub finisher_ms: f64,
}

pub async fn writer_meets_renewal(
    app: &App,
    endpoint: &str,
    f: &Fixture,
) -> Result<MeetsFanout, String> {
    let customer = "bench-cust";
    let big = app.store.license(customer, &f.big).await.ok().flatten().ok_or("no big licence")?;
    let (start, end) = (big.term.end + chrono::Days::new(1), big.term.end + chrono::Days::new(365));
    let event = renewal(&f.big_order, &format!("REN-CUT-{}", ulid::Ulid::new()), start, end, None);
    let proxy = Proxy::start(endpoint).await;
    let mut via = app_at(&proxy.url, app.store.table());
    via.assign_budget = u32::MAX;
    proxy.fail_after("TransactWriteItems", 1, Fault::Drop);
    if deliver(&via, event.clone()).await.is_ok() {
        return Err("the renewal was not cut".into());
    }
    proxy.reset();
    proxy.idle().await;
    let started = Instant::now();
    let answer = Client::admin(app, customer).assign(&f.big, "meets-fanout@example.com").await;
    let writer_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    deliver(app, event).await.map_err(|e| format!("the redelivery failed: {e}"))?;
    let finisher_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(MeetsFanout {
        status: answer.status,
        slug: answer.slug().to_string(),
        writer_ms,
        finisher_ms,
    })
}

impl MeetsFanout {
    pub fn print(result: &Result<MeetsFanout, String>) {
        println!();
        println!("A writer meeting a 10,000-period renewal in progress (printed, not enforced):");
        match result {
            Ok(m) => println!(
                "  assign 1 answered {} {} after {:.0} ms (the budget is about 2 s of finishing); the redelivery finished the rest in {:.0} ms",
                m.status, m.slug, m.writer_ms, m.finisher_ms
            ),
            Err(e) => println!("  not measured: {e}"),
        }
    }
}
