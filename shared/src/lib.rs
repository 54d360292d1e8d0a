//! Licence management domain: the pure rules (periods, capacity over time,
//! e-mail parsing), the single-table DynamoDB store, and the HTTP glue the
//! Lambda functions share. Each function's `main.rs` only wires one of the
//! `api::*` handlers to the Lambda runtime.

pub mod api;
pub mod app;
pub mod capacity;
pub mod emails;
pub mod error;
pub mod http;
pub mod logging;
pub mod mail;
pub mod model;
pub mod notify;
pub mod provision;
pub mod store;

pub use app::App;
pub use error::Error;
