//! The event edge, as `api/` is the HTTP edge: each event source's JSON is
//! decoded here into the typed input of a use case, and the use case's typed
//! outcome is rendered back into the invocation's answer. No use case sees
//! an event's raw JSON.
//!
//! - [`orders`]: the order system's EventBridge events, for `provision`;
//! - [`stream`]: the table's DynamoDB Stream, for `notify`;
//! - [`schedule`]: the daily schedule, for `remind`.

pub mod orders;
pub mod schedule;
pub mod stream;
