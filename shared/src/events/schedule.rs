//! The daily schedule's event, for `remind`: an EventBridge Scheduler
//! invocation with any JSON body; in builds with local mode its `today`
//! field names the day to act on. The run's typed report is the answer.

use chrono::{NaiveDate, Utc};
use serde_json::Value;

use crate::notify::Notifier;
use crate::remind::Report;

/// The scheduled invocation (any JSON event): today's reminders (UTC
/// date). In builds with local mode, `{"today": "YYYY-MM-DD"}` runs as if
/// on that day. `Err` when a reminder was given back for a retry, so that
/// Lambda's retry of the invocation sends it the same day.
pub async fn handle(notifier: &Notifier, event: &Value) -> Result<Report, String> {
    let today = today_of(event, Utc::now().date_naive());
    let report = notifier.remind(today).await.map_err(|e| e.to_string())?;
    tracing::info!(
        %today,
        candidates = report.candidates,
        due = report.due,
        sent = report.sent,
        already = report.already,
        failed = report.failed,
        deferred = report.deferred,
        "reminders run"
    );
    if report.deferred > 0 {
        return Err(format!("{} reminder(s) not sent yet; retry the run", report.deferred));
    }
    Ok(report)
}

/// The day a run acts on: today, or in local mode the event's `today`.
#[cfg(feature = "local")]
fn today_of(event: &Value, today: NaiveDate) -> NaiveDate {
    let asked = event.get("today").and_then(|t| t.as_str()?.parse().ok());
    asked.unwrap_or(today)
}

#[cfg(not(feature = "local"))]
fn today_of(_event: &Value, today: NaiveDate) -> NaiveDate {
    today
}
