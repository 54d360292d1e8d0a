//! Licence management domain, in layers:
//!
//! - the pure core: `model` (licences, assignments, periods, statuses),
//!   `capacity` (seats over time against the quantity of each day), `plan`
//!   (the seat planner), `lifecycle` (renewal, seat change, cancellation),
//!   `emails` (the paste parser), `mail` (the invitation text);
//! - `usecase`: each operation, typed input to typed outcome or `Error`,
//!   under one optimistic retry loop; `provision` and `notify` are use cases
//!   the event-driven functions call directly;
//! - `store`: the single-table DynamoDB store (keys, items, conditions);
//! - `http` and `api`: routing, identity, decoding, problem+json, the
//!   Idempotency-Key wrapper, and one thin handler per HTTP function.
//!
//! Each function's `main.rs` only wires one handler to the Lambda runtime.

pub mod api;
pub mod app;
pub mod capacity;
pub mod emails;
pub mod error;
pub mod events;
pub mod http;
pub mod lifecycle;
pub mod logging;
pub mod mail;
pub mod mailer;
pub mod model;
pub mod outbound;
pub mod plan;
pub mod reminders;
pub mod runtime;
pub mod store;
pub mod usecase;

pub use app::App;
pub use error::Error;
pub use usecase::{idle, notify, provision, remind};
