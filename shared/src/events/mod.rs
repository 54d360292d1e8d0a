//! The event edge, as `api/` is the HTTP edge: each event source's JSON is
//! decoded here into the typed input of a use case, and the use case's typed
//! outcome is rendered back into the invocation's answer. No use case sees
//! an event's raw JSON.
//!
//! - [`orders`]: the order system's EventBridge events, for `provision`;
//! - [`stream`]: the table's DynamoDB Stream, for `notify`;
//! - [`queue`]: the webhook queue's SQS messages, for `deliver`;
//! - [`schedule`]: the daily schedule, for `remind`, and the minute's, for
//!   `notify`.

pub mod orders;
pub mod queue;
pub mod schedule;
pub mod stream;

use serde_json::Value;

use crate::notify::Notifier;

/// `notify`'s two sources: a batch of stream records (answered with the
/// records to retry) or the minute's schedule (answered with its report).
pub async fn notify(notifier: &Notifier, event: &Value) -> Result<Value, String> {
    if event.get("Records").is_some() {
        return Ok(stream::handle(notifier, event).await);
    }
    let swept = schedule::handle_waiting(notifier, event).await?;
    serde_json::to_value(swept).map_err(|e| e.to_string())
}
