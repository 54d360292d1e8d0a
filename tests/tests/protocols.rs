//! A model check of the pending-operation protocol (`usecase::pending`)
//! with its kinds: the bulk assign (`usecase::bulk`) and the renewal or
//! cancellation fan-out (`usecase::fanout`) here, and a group rule's run
//! (`usecase::rule`) in the second model at the end (`rule_run`). Every interleaving of two writers (a bulk assign and
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
                within_quantity(&s.db.license)
            }),
            Property::always(
                "the licence's seats are its items, as readers see both",
                |_, s: &World| {
                    visible_seats(&s.db.license, s.db.items.values())
                        == s.db.license.visible().seats
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

/// No day over the quantity in force, in the licence as stored and as readers see it.
fn within_quantity(license: &License) -> bool {
    let visible = license.visible();
    license.seats.over(&license.quantities(), all_days()) == 0
        && visible.seats.over(&visible.quantities(), all_days()) == 0
}

/// The timeline of `items` as a reader of `license` sees them: what the
/// licence's visible seats must be (a timeline is the multiset of the
/// periods' first and last days, so equal timelines count the same on
/// every day).
fn visible_seats<'a>(license: &License, items: impl Iterator<Item = &'a Assignment>) -> Timeline {
    let mut seats = Timeline::default();
    for a in items.cloned().filter_map(|a| a.into_visible(license)) {
        match a.revoked_at {
            None => seats.add(a.period(), 1),
            Some(at) => seats.extend_used(&a, at.date_naive()),
        }
    }
    seats
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

// ---- The group rule's run (`usecase::rule`) ----
//
// A second model, of a rule's run on the same driver: a linked group's
// membership change (three people join a licence with two seats free), an
// admin's assign by hand of a fourth, and an admin's revoke of the buyer's
// seat that frees one for those who wait (the revoke settles the licence
// after it); then the minute's run settles it once more. Every interleaving,
// with a crash at any step (the crashed request retried: a revoke already
// done answers at once and leaves the waiting list to the minute's run).
// The writers decide with the functions' pure rules (`rule::standing_of`,
// `rule::decided`, `rule::part_writes`, `plan::plan`, `plan::revoke`);
// readers see with theirs (`License::visible`, `Assignment::into_visible`,
// `WaitingEntry::shown_with`). Parts hold two changes (49 in the
// functions), so a run of three is two transactions.

mod rule_run {
    use super::*;
    use licensing::model::{
        Exclusion, GroupLink, Operation as Op, RuleStep, RuleWork, WaitingEntry,
    };
    use licensing::store::Write;
    use licensing::usecase::rule::{self, Cover, Read};
    use std::collections::HashMap;

    const PART: usize = 2;
    const GROUP: &str = "g";
    const JOINING: [&str; 3] = ["a@x.example", "b@x.example", "c@x.example"];
    const BY_HAND: &str = "d@x.example";
    const BUYER: &str = "buyer@x.example";
    const MAX_CRASHES: u8 = 1;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
    pub enum Task {
        /// The SCIM change: three join the linked group.
        Join,
        /// An admin assigns `BY_HAND`.
        Assign,
        /// An admin revokes the buyer's seat, then settles.
        Revoke,
        /// Settles: writes what is pending, gives free seats to the waiting.
        Settle,
    }

    #[derive(Clone, Debug, PartialEq, Serialize)]
    pub enum Pc {
        Start,
        /// Read the licence (nothing pending); next: what the task reads and decides.
        Read(License),
        /// Decided (the run's parts stored); next: the commit under the version read.
        Decided {
            expected: u64,
            license: License,
            new: Vec<Assignment>,
        },
        /// Writing a run's parts (`own`: its own run, else one it met).
        Completing {
            license: License,
            left: Vec<u32>,
            own: bool,
        },
        Clearing {
            license: License,
            own: bool,
        },
        Done,
        Crashed,
    }

    #[derive(Clone, Debug, PartialEq, Serialize)]
    pub struct Db {
        pub license: License,
        pub items: BTreeMap<String, Assignment>,
        pub waiting: BTreeMap<u64, WaitingEntry>,
        pub exclusions: BTreeMap<String, Exclusion>,
        /// Each run's parts still to write, by their numbers.
        pub parts: BTreeMap<String, BTreeMap<u32, Vec<RuleWork>>>,
        pub next_op: u32,
    }

    #[derive(Clone, Debug, PartialEq, Serialize)]
    pub struct World {
        pub db: Db,
        /// Join, Assign, Revoke (then Settle), and the minute's Settle.
        pub tasks: [Task; 4],
        pub pcs: [Pc; 4],
        pub crashes: u8,
    }

    impl Hash for World {
        fn hash<H: Hasher>(&self, state: &mut H) {
            serde_json::to_string(self).unwrap().hash(state);
        }
    }

    const ORIGIN: [Task; 4] = [Task::Join, Task::Assign, Task::Revoke, Task::Settle];
    const MINUTE: usize = 3;

    #[derive(Clone, Debug, PartialEq)]
    pub enum Action {
        Step(usize),
        Crash(usize),
        Retry(usize),
    }

    /// What the check compares: each current seat (its holder, and whether
    /// a group's rule gave it), and the waiting list in order, as readers see them.
    pub type View = (Vec<(String, bool)>, Vec<String>);

    pub fn view(db: &Db) -> View {
        let today = now().date_naive();
        let seats = db
            .items
            .values()
            .cloned()
            .filter_map(|a| a.into_visible(&db.license))
            .filter(|a| a.is_current(today))
            .map(|a| (a.email.clone(), a.assigned_by.starts_with("group:")))
            .collect();
        (seats, shown_waiting(db))
    }

    fn shown_waiting(db: &Db) -> Vec<String> {
        db.waiting.values().filter(|e| e.shown_with(&db.license)).map(|e| e.email.clone()).collect()
    }

    pub struct RuleRun {
        /// As the functions commit: under the licence's version read. (The
        /// check can fail: without it, it finds seats over the quantity or
        /// a licence that disagrees with its items.)
        pub versioned: bool,
        pub start: Db,
        /// The views of the six serial orders of Join, Assign and Revoke.
        pub serial: Vec<View>,
    }

    impl RuleRun {
        pub fn new(versioned: bool) -> Self {
            let mut license = License::sample(3);
            license.version = 1;
            license.groups = vec![GroupLink {
                group_id: GROUP.into(),
                linked_at: "2026-01-01T00:00:00Z".parse().unwrap(),
                language: Language::En,
            }];
            let period = Period::new(d("2026-01-01"), d("2026-12-31"));
            let at = "2026-01-01T08:00:00Z".parse().unwrap();
            let buyer = Assignment::new(
                &license,
                BUYER,
                period,
                at,
                BUYER,
                Language::En,
                InvitationStatus::Sent,
            );
            license.seats.add(period, 1);
            let start = Db {
                license,
                items: BTreeMap::from([(BUYER.to_string(), buyer)]),
                waiting: BTreeMap::new(),
                exclusions: BTreeMap::new(),
                parts: BTreeMap::new(),
                next_op: 0,
            };
            let mut model = Self { versioned, start, serial: Vec::new() };
            let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
            model.serial = orders
                .iter()
                .map(|order| {
                    let mut world = model.init_states().remove(0);
                    for &w in order.iter().chain(&[MINUTE]) {
                        while world.pcs[w] != Pc::Done {
                            world = model.next_state(&world, Action::Step(w)).unwrap();
                        }
                    }
                    view(&world.db)
                })
                .collect();
            model
        }

        fn step(&self, db: &mut Db, task: &mut Task, pc: Pc) -> Pc {
            match pc {
                Pc::Start => {
                    if db.license.is_pending() {
                        return completing(db, db.license.clone(), false);
                    }
                    Pc::Read(db.license.clone())
                }
                Pc::Read(license) => decide(db, *task, license),
                Pc::Decided { expected, license, new } => {
                    if self.versioned && db.license.version != expected {
                        return Pc::Start;
                    }
                    db.license = license.clone();
                    for a in new {
                        if *task == Task::Revoke {
                            let item = db.items.get_mut(&a.email).expect("the revoked seat");
                            item.revoked_at = a.revoked_at;
                            item.revoked_by = a.revoked_by.clone();
                        } else {
                            db.items.insert(a.email.clone(), a);
                        }
                    }
                    match task {
                        // Then it settles the licence (`rule::seats_freed`).
                        Task::Revoke => {
                            *task = Task::Settle;
                            Pc::Start
                        }
                        Task::Assign => Pc::Done,
                        Task::Join | Task::Settle => completing(db, license, true),
                    }
                }
                Pc::Completing { license, left, own } => chunk(db, license, left, own),
                Pc::Clearing { license, own } => {
                    if db.license.version == license.version {
                        let mut done = license;
                        done.operation = None;
                        done.version += 1;
                        db.license = done;
                    }
                    if own { Pc::Done } else { Pc::Start }
                }
                Pc::Done | Pc::Crashed => unreachable!("no step"),
            }
        }
    }

    /// What a task reads after the licence (one step: the store's reads of
    /// its items, waiting list and exclusions), and its decision.
    fn decide(db: &mut Db, task: Task, license: License) -> Pc {
        let today = now().date_naive();
        let expected = license.version;
        match task {
            Task::Assign => {
                let existing: HashMap<String, Assignment> = db
                    .items
                    .get(BY_HAND)
                    .map(|a| (BY_HAND.to_string(), a.clone()))
                    .into_iter()
                    .collect();
                let emails = [BY_HAND.to_string()];
                let ask = Ask {
                    emails: &emails,
                    period: license.default_period(today),
                    now: now(),
                    by: "admin@x.example",
                    language: Language::En,
                };
                match plan::plan(&license, &existing, &ask) {
                    Ok(p) => Pc::Decided { expected, license: p.license, new: p.new },
                    // No seat free: refused, nothing written.
                    Err(_) => Pc::Done,
                }
            }
            Task::Revoke => {
                let a = db.items[BUYER].clone();
                if a.is_revoked() {
                    // Done already: the request answers, the minute's run settles.
                    return Pc::Done;
                }
                let mut revoked = a.clone();
                revoked.revoked_at = Some(now());
                revoked.revoked_by = Some("admin@x.example".into());
                let after = plan::revoke(&license, &a, today);
                Pc::Decided { expected, license: after, new: vec![revoked] }
            }
            Task::Join | Task::Settle => {
                let steps: Vec<RuleStep> = if task == Task::Join {
                    JOINING
                        .iter()
                        .map(|p| RuleStep::Join { person: p.to_string(), group: GROUP.into() })
                        .collect()
                } else {
                    if license.waiting == 0
                        || license.seats.room(&license.quantities(), license.default_period(today))
                            == 0
                    {
                        return Pc::Done;
                    }
                    Vec::new()
                };
                let read = Read {
                    assignments: db.items.values().cloned().collect(),
                    entries: db.waiting.values().cloned().collect(),
                    exclusions: db.exclusions.values().cloned().collect(),
                };
                // Nobody joined the group before: it covers nobody yet.
                let standing = rule::standing_of(&license, &read, Cover::new(), today);
                db.next_op += 1;
                let id = format!("01KR00000000000000000000{:02}", db.next_op);
                let (after, parts) = rule::decided(
                    &license,
                    license.clone(),
                    &read,
                    &standing,
                    &steps,
                    (id.clone(), now(), PART),
                );
                if after.operation.is_none() {
                    return Pc::Done;
                }
                let numbered = parts.into_iter().enumerate().map(|(n, w)| (n as u32, w));
                db.parts.insert(id, numbered.collect());
                Pc::Decided { expected, license: after, new: Vec::new() }
            }
        }
    }

    /// The parts left of the run pending on `license` (one Query).
    fn completing(db: &Db, license: License, own: bool) -> Pc {
        let Some(op) = license.pending_op() else {
            return if own { Pc::Done } else { Pc::Start };
        };
        let left: Vec<u32> =
            db.parts.get(op).map(|p| p.keys().copied().collect()).unwrap_or_default();
        if left.is_empty() {
            Pc::Clearing { license, own }
        } else {
            Pc::Completing { license, left, own }
        }
    }

    /// One part's transaction: only while the run is still pending and the
    /// part is still there (its removal is part of it).
    fn chunk(db: &mut Db, license: License, mut left: Vec<u32>, own: bool) -> Pc {
        let Some(Op::Rule(run)) = license.operation.clone() else { unreachable!("a run") };
        let n = left.remove(0);
        let pending = db.license.pending_op() == Some(run.id.as_str());
        let part = db.parts.get(&run.id).and_then(|p| p.get(&n)).cloned();
        let Some(work) = part.filter(|_| pending) else {
            // Refused: read the licence again, go on while the same run is pending.
            return if pending {
                completing(db, license, own)
            } else if own {
                Pc::Done
            } else {
                Pc::Start
            };
        };
        let mut items: HashMap<String, Assignment> =
            db.items.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let entries: Vec<WaitingEntry> = db.waiting.values().cloned().collect();
        for write in rule::part_writes(&license, &run, n, &work, &mut items, &entries) {
            apply(db, write);
        }
        if left.is_empty() {
            Pc::Clearing { license, own }
        } else {
            Pc::Completing { license, left, own }
        }
    }

    /// A write as the store makes it (the model's store).
    fn apply(db: &mut Db, write: Write) {
        match write {
            Write::Assignment(a) => {
                db.items.insert(a.email.clone(), a);
            }
            Write::Revoke { email, at, by, undo, .. } => {
                let item = db.items.get_mut(&email).expect("a seat to revoke");
                assert!(!item.is_revoked(), "a revoke's condition: not revoked yet");
                item.revoked_at = Some(at);
                item.revoked_by = Some(by);
                item.undo = undo;
            }
            Write::Waiting(e) => {
                db.waiting.insert(e.seq, e);
            }
            Write::Readmit { email, .. } => {
                db.exclusions.remove(&email);
            }
            Write::Exclude(x) => {
                db.exclusions.insert(x.email.clone(), x);
            }
            Write::PartDone { op, part, .. } => {
                let removed = db.parts.get_mut(&op).and_then(|p| p.remove(&part));
                assert!(removed.is_some(), "a part is written once");
            }
            Write::Entry(_) => {}
            other => panic!("a run does not write {other:?}"),
        }
    }

    impl Model for RuleRun {
        type State = World;
        type Action = Action;

        fn init_states(&self) -> Vec<World> {
            vec![World {
                db: self.start.clone(),
                tasks: ORIGIN,
                pcs: [Pc::Start, Pc::Start, Pc::Start, Pc::Start],
                crashes: 0,
            }]
        }

        fn actions(&self, s: &World, actions: &mut Vec<Action>) {
            let others_done = s.pcs[..MINUTE].iter().all(|p| *p == Pc::Done);
            for (w, pc) in s.pcs.iter().enumerate() {
                if w == MINUTE && !others_done {
                    continue;
                }
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
        }

        fn next_state(&self, s: &World, action: Action) -> Option<World> {
            let mut next = s.clone();
            match action {
                Action::Step(w) => {
                    let pc = std::mem::replace(&mut next.pcs[w], Pc::Crashed);
                    next.pcs[w] = self.step(&mut next.db, &mut next.tasks[w], pc);
                }
                Action::Crash(w) => {
                    next.pcs[w] = Pc::Crashed;
                    next.crashes += 1;
                }
                Action::Retry(w) => {
                    next.pcs[w] = Pc::Start;
                    next.tasks[w] = ORIGIN[w];
                }
            }
            Some(next)
        }

        fn properties(&self) -> Vec<Property<Self>> {
            vec![
                Property::always("no day over the quantity in force", |_, s: &World| {
                    within_quantity(&s.db.license)
                }),
                Property::always(
                    "the licence's seats and waiting count are its items, as readers see them",
                    |_, s: &World| {
                        let visible = s.db.license.visible();
                        visible_seats(&s.db.license, s.db.items.values()) == visible.seats
                            && visible.waiting as usize == shown_waiting(&s.db).len()
                    },
                ),
                Property::always("nobody both holds a seat and waits", |_, s: &World| {
                    let (seats, waiting) = view(&s.db);
                    waiting.iter().all(|w| !seats.iter().any(|(e, _)| e == w))
                }),
                Property::always(
                    "a finished run equals one serial order",
                    |m: &RuleRun, s: &World| {
                        let quiet = s.pcs.iter().all(|p| *p == Pc::Done);
                        !quiet || s.db.license.is_pending() || m.serial.contains(&view(&s.db))
                    },
                ),
                Property::eventually("every change completes", |_, s: &World| {
                    s.pcs.iter().all(|p| *p == Pc::Done) && !s.db.license.is_pending()
                }),
            ]
        }
    }
}

#[test]
fn a_group_rule_run_an_admin_assign_and_a_seat_freeing_revoke_with_a_crash() {
    let model = rule_run::RuleRun::new(true);
    let distinct: BTreeSet<String> = model.serial.iter().map(|v| format!("{v:?}")).collect();
    assert!(distinct.len() > 1, "the orders differ: the check can tell");
    let checker = model.checker().threads(2).spawn_bfs().join();
    checker.assert_properties();
    eprintln!(
        "group rule run × assign × revoke: {} states ({} unique)",
        checker.state_count(),
        checker.unique_state_count()
    );
}

/// The check can fail: the same writers committing without the licence's
/// version condition are caught.
#[test]
fn a_group_rule_run_committed_without_the_version_condition_is_caught() {
    let checker = rule_run::RuleRun::new(false).checker().threads(2).spawn_bfs().join();
    let caught = [
        "no day over the quantity in force",
        "the licence's seats and waiting count are its items, as readers see them",
        "a finished run equals one serial order",
    ]
    .iter()
    .any(|p| checker.discovery(p).is_some());
    assert!(caught, "the model check no longer tells a commit that ignores the version");
}
