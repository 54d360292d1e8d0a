//! A model check of the pending-operation protocol (`usecase::pending`)
//! with both its kinds: the bulk assign (`usecase::bulk`) and the renewal or
//! cancellation fan-out (`usecase::fanout`). Every interleaving of two writers (a bulk assign and
//! a lifecycle event), a reader listing the assignments, and up to
//! `MAX_CRASHES` crashes at any step, each crashed writer retried (a new
//! request, an event redelivered). The writers decide with the functions'
//! own pure rules (`plan::plan`, `plan::batch_item`, `lifecycle::renew` and
//! `cancel`, `PeriodChange::apply`, `lifecycle::moved`), readers see with
//! theirs (`License::visible`, `Assignment::into_visible`); the model adds
//! the store: each DynamoDB call one atomic step, with the conditions the
//! store writes (`store::transaction`).
//!
//! Its bounds: a licence of five seats with three assignments, two
//! addresses assigned in bulk, one renewal (four seats from the new term) or
//! one cancellation, chunks of one item (49 in the functions, so every
//! chunk boundary is a step here). What the functions read in one call is
//! one step: the licence a writer reads first, then the items it decides
//! on (a BatchGetItem, or the Query of all items before a lifecycle
//! decision: anything newer than that licence fails the commit's version
//! condition), and one item of the reader's page (a Query is read-committed
//! per item, so the reader reads item by item).

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, NaiveDate, Utc};
use licensing::capacity::Timeline;
use licensing::lifecycle::{self, Cancellation, Renewal};
use licensing::model::{
    Assignment, Fanout, InvitationStatus, Language, License, Operation, Period, Term,
};
use licensing::plan::{self, Ask};
use licensing::usecase::bulk::batch_of;
use serde::Serialize;
use stateright::{Checker, Model, Property};

/// Items per chunk transaction.
const CHUNK: usize = 1;
const MAX_CRASHES: u8 = 1;
const BULK: usize = 0;
const LIFECYCLE: usize = 1;
const NEW: [&str; 2] = ["a@x.example", "b@x.example"];
const BATCH: &str = "01KB0000000000000000000000";
const OP: &str = "01KF0000000000000000000000";
const EVENT: &str = "event-1";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-06-01T09:00:00Z".parse().unwrap()
}

/// The days every scenario's periods lie in.
fn all_days() -> Period {
    Period::new(d("2026-01-01"), d("2027-12-31"))
}

/// The table, as far as the protocols touch it.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Db {
    license: License,
    items: BTreeMap<String, Assignment>,
    /// Applied order events (the `EVENT#…` records).
    events: BTreeSet<String>,
}

/// What a writer remembers between its calls.
#[derive(Clone, Debug, PartialEq, Serialize)]
enum Pc {
    Start,
    /// The lifecycle writer read the licence (no marker, event not yet
    /// applied); next: all its assignments, then the decision.
    ReadLicense(License),
    /// Decided; next: the commit point, conditioned on the version read.
    Decided {
        expected: u64,
        license: License,
    },
    /// Finishing the operation pending on `license`: the items this round
    /// writes (as read), a chunk a step; `own`: its own operation, else
    /// someone else's (then it starts over).
    Completing {
        license: License,
        left: Vec<Assignment>,
        own: bool,
    },
    Clearing {
        license: License,
        own: bool,
    },
    Done,
    Crashed,
}

/// The reader's page: the licence, then the items one by one.
#[derive(Clone, Debug, PartialEq, Serialize)]
enum ReaderPc {
    Idle,
    Reading { license: Option<Box<License>>, left: Vec<String>, seen: Vec<Assignment> },
    Done,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
struct World {
    db: Db,
    writers: [Pc; 2],
    reader: ReaderPc,
    crashes: u8,
    /// What an atomic reader could have seen since the reader began.
    window: Vec<u64>,
    /// The reader assembled a page no atomic reader could have seen.
    torn: bool,
}

impl Hash for World {
    fn hash<H: Hasher>(&self, state: &mut H) {
        serde_json::to_string(self).unwrap().hash(state);
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Action {
    Step(usize),
    Crash(usize),
    Retry(usize),
    ReadLicense,
    ReadItem,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum ReadOrder {
    /// As `usecase::query` reads: the licence, then the items.
    LicenseFirst,
    /// The licence read in parallel with the items (what the list did
    /// before): it may come after any of them.
    Any,
}

#[derive(Clone, Debug)]
enum Event {
    Renewed(Renewal),
    Cancelled(Cancellation),
}

struct Protocols {
    start: Db,
    event: Event,
    reads: ReadOrder,
    /// The pages of the two serial orders (bulk first, event first).
    serial: Vec<u64>,
}

impl Protocols {
    fn new(event: Event, reads: ReadOrder) -> Self {
        let mut license = License::sample(5);
        license.version = 1;
        let mut items = BTreeMap::new();
        for (email, from, until, at) in [
            ("buyer@x.example", "2026-01-01", "2026-12-31", "2026-01-01T08:00:00Z"),
            ("x@x.example", "2026-03-01", "2026-12-31", "2026-02-01T08:00:00Z"),
            ("y@x.example", "2026-10-01", "2026-12-31", "2026-02-02T08:00:00Z"),
        ] {
            let period = Period::new(d(from), d(until));
            let by = "buyer@x.example";
            let at = at.parse().unwrap();
            let (en, sent) = (Language::En, InvitationStatus::Sent);
            items.insert(
                email.to_string(),
                Assignment::new(&license, email, period, at, by, en, sent),
            );
            license.seats.add(period, 1);
        }
        let start = Db { license, items, events: BTreeSet::new() };
        let mut model = Self { start, event, reads, serial: Vec::new() };
        model.serial = [[BULK, LIFECYCLE], [LIFECYCLE, BULK]]
            .iter()
            .map(|order| {
                let mut world = model.init_states().remove(0);
                for &w in order {
                    while world.writers[w] != Pc::Done {
                        world = model.next_state(&world, Action::Step(w)).unwrap();
                    }
                }
                view(&world.db)
            })
            .collect();
        model
    }

    fn step(&self, db: &mut Db, w: usize, pc: Pc) -> Pc {
        match pc {
            // Both read the licence first (the lifecycle writer with the
            // event's record), then the items.
            Pc::Start => {
                if db.license.is_pending() {
                    completing(db, db.license.clone(), false)
                } else if w == LIFECYCLE && db.events.contains(EVENT) {
                    Pc::Done
                } else {
                    Pc::ReadLicense(db.license.clone())
                }
            }
            Pc::ReadLicense(license) if w == BULK => bulk_plan(db, license),
            Pc::ReadLicense(license) => self.decide_event(db, license),
            Pc::Decided { expected, license } => {
                let event_applied = w == LIFECYCLE && db.events.contains(EVENT);
                if db.license.version != expected || event_applied {
                    return Pc::Start;
                }
                db.license = license.clone();
                if w == LIFECYCLE {
                    db.events.insert(EVENT.to_string());
                }
                completing(db, license, true)
            }
            Pc::Completing { license, left, own } => chunk(db, license, left, own),
            Pc::Clearing { license, own } => {
                if db.license.version == license.version {
                    let mut done = license;
                    done.operation = None;
                    done.version += 1;
                    db.license = done;
                }
                after(own)
            }
            Pc::Done | Pc::Crashed => unreachable!("no step"),
        }
    }

    /// All items (one Query after the licence), then the pure decision.
    fn decide_event(&self, db: &Db, license: License) -> Pc {
        let all: Vec<Assignment> = db.items.values().cloned().collect();
        let decided = match &self.event {
            Event::Renewed(r) => lifecycle::renew(&license, r, &all),
            Event::Cancelled(c) => lifecycle::cancel(&license, c, &all),
        };
        let decided = decided.expect("a valid event");
        let mut after = decided.license;
        if let Some(change) = decided.change {
            let before = Box::new(license.clone());
            let fanout = Fanout { id: OP.to_string(), at: now(), change, before };
            after.operation = Some(Operation::Fanout(fanout));
        }
        Pc::Decided { expected: license.version, license: after }
    }
}

/// The addresses' items (one BatchGetItem after the licence), then the plan.
fn bulk_plan(db: &Db, license: License) -> Pc {
    let existing: std::collections::HashMap<String, Assignment> =
        NEW.iter().filter_map(|e| Some((e.to_string(), db.items.get(*e)?.clone()))).collect();
    let emails: Vec<String> = NEW.iter().map(|e| e.to_string()).collect();
    let ask = Ask {
        emails: &emails,
        period: license.default_period(now().date_naive()),
        now: now(),
        by: "admin@x.example",
        language: Language::De,
    };
    match plan::plan(&license, &existing, &ask) {
        Ok(p) if !p.new.is_empty() => {
            let mut after = p.license;
            let mut batch = batch_of(&p.new);
            batch.id = BATCH.to_string();
            after.operation = Some(Operation::Batch(batch));
            Pc::Decided { expected: license.version, license: after }
        }
        // Nothing new, or not enough seats: the request answers.
        _ => Pc::Done,
    }
}

/// Starts finishing the operation pending on `license`: a batch writes all
/// its addresses; a fan-out what a Query finds still to move.
fn completing(db: &Db, license: License, own: bool) -> Pc {
    let left: Vec<Assignment> = match &license.operation {
        Some(Operation::Batch(_)) => plan::batch_assignments(&license),
        Some(Operation::Fanout(fanout)) => db
            .items
            .values()
            .filter(|a| a.undo.as_ref().is_none_or(|u| u.op != fanout.id))
            .filter(|a| fanout.change.apply(a).is_some())
            .cloned()
            .collect(),
        // Not modelled: a reclaim policy's rekeying changes nothing a seat
        // count or a reader depends on.
        Some(Operation::Rekey(_)) => unreachable!("the model makes no rekeying"),
        // A group rule's run is the model below (`RuleWorld`).
        Some(Operation::Rule(_)) => unreachable!("this model makes no rule runs"),
        None => return after(own),
    };
    if left.is_empty() {
        Pc::Clearing { license, own }
    } else {
        Pc::Completing { license, left, own }
    }
}

/// One chunk transaction: only while the operation is pending
/// (`StillPending`), a fan-out's moves only on items still as read.
fn chunk(db: &mut Db, license: License, mut left: Vec<Assignment>, own: bool) -> Pc {
    let part: Vec<Assignment> = left.drain(..CHUNK.min(left.len())).collect();
    let pending =
        db.license.pending_op().is_some() && db.license.pending_op() == license.pending_op();
    let unchanged = |read: &Assignment| {
        db.items
            .get(&read.email)
            .is_some_and(|now| now.valid_until == read.valid_until && !now.is_revoked())
    };
    let fanout = match &license.operation {
        Some(Operation::Fanout(fanout)) => Some(fanout),
        _ => None,
    };
    let refused = !pending || (fanout.is_some() && !part.iter().all(unchanged));
    if refused {
        // One driver for both kinds: read the licence again, and go on
        // while the same operation is still pending.
        return if pending { completing(db, license, own) } else { after(own) };
    }
    for read in part {
        let item = match fanout {
            None => plan::batch_item(read.clone(), db.items.get(&read.email).cloned()),
            Some(fanout) => {
                let m = fanout.change.apply(&read).expect("read as one to move");
                let current = &db.items[&read.email];
                lifecycle::moved(current, m, &fanout.id, license.version, fanout.at)
            }
        };
        db.items.insert(read.email.clone(), item);
    }
    if left.is_empty() {
        Pc::Clearing { license, own }
    } else {
        Pc::Completing { license, left, own }
    }
}

fn after(own: bool) -> Pc {
    if own { Pc::Done } else { Pc::Start }
}

/// The page an atomic reader sees (each item as the reader of the licence
/// may see it).
fn page(license: &License, items: impl IntoIterator<Item = Assignment>) -> u64 {
    let visible: Vec<_> = items
        .into_iter()
        .filter_map(|a| a.into_visible(license))
        .map(|a| (a.email, a.valid_from, a.valid_until, a.revoked_at.is_some()))
        .collect();
    let mut h = DefaultHasher::new();
    visible.hash(&mut h);
    h.finish()
}

fn view(db: &Db) -> u64 {
    page(&db.license, db.items.values().cloned())
}

impl Model for Protocols {
    type State = World;
    type Action = Action;

    fn init_states(&self) -> Vec<World> {
        vec![World {
            db: self.start.clone(),
            writers: [Pc::Start, Pc::Start],
            reader: ReaderPc::Idle,
            crashes: 0,
            window: Vec::new(),
            torn: false,
        }]
    }

    fn actions(&self, s: &World, actions: &mut Vec<Action>) {
        for (w, pc) in s.writers.iter().enumerate() {
            match pc {
                Pc::Done => {}
                Pc::Crashed => actions.push(Action::Retry(w)),
                _ => {
                    actions.push(Action::Step(w));
                    if s.crashes < MAX_CRASHES {
                        actions.push(Action::Crash(w));
                    }
                }
            }
        }
        match &s.reader {
            ReaderPc::Idle => {
                actions.push(Action::ReadLicense);
                if self.reads == ReadOrder::Any {
                    actions.push(Action::ReadItem);
                }
            }
            ReaderPc::Reading { license, left, .. } => {
                if license.is_none() {
                    actions.push(Action::ReadLicense);
                }
                if !left.is_empty() && (license.is_some() || self.reads == ReadOrder::Any) {
                    actions.push(Action::ReadItem);
                }
            }
            ReaderPc::Done => {}
        }
    }

    fn next_state(&self, s: &World, action: Action) -> Option<World> {
        let mut next = s.clone();
        match action {
            Action::Step(w) => {
                let pc = std::mem::replace(&mut next.writers[w], Pc::Crashed);
                next.writers[w] = self.step(&mut next.db, w, pc);
                if matches!(next.reader, ReaderPc::Reading { .. }) {
                    let seen = view(&next.db);
                    if next.window.last() != Some(&seen) {
                        next.window.push(seen);
                    }
                }
            }
            Action::Crash(w) => {
                next.writers[w] = Pc::Crashed;
                next.crashes += 1;
            }
            Action::Retry(w) => next.writers[w] = Pc::Start,
            Action::ReadLicense | Action::ReadItem => {
                if next.reader == ReaderPc::Idle {
                    let left = next.db.items.keys().cloned().chain(NEW.map(String::from)).collect();
                    let left: BTreeSet<String> = left;
                    next.reader = ReaderPc::Reading {
                        license: None,
                        left: left.into_iter().collect(),
                        seen: vec![],
                    };
                    next.window = vec![view(&next.db)];
                }
                let ReaderPc::Reading { license, left, seen } = &mut next.reader else {
                    unreachable!("reading")
                };
                if action == Action::ReadLicense {
                    *license = Some(Box::new(next.db.license.clone()));
                } else {
                    let email = left.remove(0);
                    seen.extend(next.db.items.get(&email).cloned());
                }
                if let Some(license) = license.clone().filter(|_| left.is_empty()) {
                    next.torn = !next.window.contains(&page(&license, seen.clone()));
                    next.reader = ReaderPc::Done;
                }
            }
        }
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("no day over the quantity in force", |_, s: &World| {
                let license = &s.db.license;
                let visible = license.visible();
                license.seats.over(&license.quantities(), all_days()) == 0
                    && visible.seats.over(&visible.quantities(), all_days()) == 0
            }),
            Property::always(
                "the licence's seats are its items, as readers see both",
                |_, s: &World| {
                    let visible = s.db.license.visible();
                    let mut items = Timeline::default();
                    for a in
                        s.db.items.values().cloned().filter_map(|a| a.into_visible(&s.db.license))
                    {
                        match a.revoked_at {
                            None => items.add(a.period(), 1),
                            Some(at) => items.extend_used(&a, at.date_naive()),
                        }
                    }
                    // The same periods (a timeline is the multiset of their
                    // first and last days), so the same count on every day.
                    items == visible.seats
                },
            ),
            Property::always("a reader sees each change whole or not at all", |_, s: &World| {
                !s.torn
            }),
            Property::always(
                "a finished run equals one serial order",
                |m: &Protocols, s: &World| {
                    let quiet = s.writers.iter().all(|w| *w == Pc::Done);
                    !quiet || s.db.license.is_pending() || m.serial.contains(&view(&s.db))
                },
            ),
            Property::eventually(
                "every change completes, crashed ones by the next writer or retry",
                |_, s: &World| {
                    s.writers.iter().all(|w| *w == Pc::Done) && !s.db.license.is_pending()
                },
            ),
        ]
    }
}

/// The timeline counts a revoked assignment's days before its revocation.
trait UsedDays {
    fn extend_used(&mut self, a: &Assignment, revoked_on: NaiveDate);
}

impl UsedDays for Timeline {
    fn extend_used(&mut self, a: &Assignment, revoked_on: NaiveDate) {
        if let Some(used) = a.used_before(revoked_on) {
            self.add(used, 1);
        }
    }
}

fn renewal() -> Event {
    Event::Renewed(Renewal {
        term: Term { start: d("2027-01-01"), end: d("2027-12-31") },
        invoice_number: "INV-2027".into(),
        quantity: Some(4),
    })
}

fn cancellation() -> Event {
    Event::Cancelled(Cancellation { last_day: d("2026-09-30") })
}

fn check(model: Protocols) -> impl Checker<Protocols> {
    model.checker().threads(2).spawn_bfs().join()
}

#[test]
fn bulk_assign_and_renewal_in_every_interleaving_with_a_crash() {
    let model = Protocols::new(renewal(), ReadOrder::LicenseFirst);
    assert_ne!(model.serial[0], model.serial[1], "the two orders differ: the check can tell");
    let checker = check(model);
    checker.assert_properties();
    eprintln!(
        "bulk assign × renewal: {} states ({} unique)",
        checker.state_count(),
        checker.unique_state_count()
    );
}

#[test]
fn bulk_assign_and_cancellation_in_every_interleaving_with_a_crash() {
    let checker = check(Protocols::new(cancellation(), ReadOrder::LicenseFirst));
    checker.assert_properties();
    eprintln!(
        "bulk assign × cancellation: {} states ({} unique)",
        checker.state_count(),
        checker.unique_state_count()
    );
}

/// The check can fail: a reader that read the licence in parallel with the
/// items (as the list did before) is caught showing half a change.
#[test]
fn a_reader_that_reads_the_licence_alongside_the_items_is_caught() {
    let checker = check(Protocols::new(renewal(), ReadOrder::Any));
    let torn = checker.discovery("a reader sees each change whole or not at all");
    assert!(torn.is_some(), "the model check no longer tells a torn read");
}
