//! The schedules' events: the daily one for `remind`, the minute's for
//! `notify` (invitations that waited for their window). EventBridge
//! Scheduler invocations with any JSON body; in builds with local mode the
//! daily one's `today` names the day to act on, the minute's `now` the time.
//! The run's typed report is the answer.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::notify::{Notifier, Swept};
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
        idle = report.reclaim.candidates,
        warned = report.reclaim.warned,
        reclaimed = report.reclaim.revoked,
        "reminders run"
    );
    if report.deferred > 0 {
        return Err(format!("{} reminder(s) not sent yet; retry the run", report.deferred));
    }
    Ok(report)
}

/// The minute's invocation: finishes what writers left, sends the
/// invitations whose window has passed. What is left goes again next minute.
pub async fn handle_waiting(notifier: &Notifier, event: &Value) -> Result<Swept, String> {
    let now = now_of(event, Utc::now());
    let swept = notifier.every_minute(now).await.map_err(|e| e.to_string())?;
    if swept.processed + swept.retry + swept.finished > 0 {
        tracing::info!(
            processed = swept.processed,
            retry = swept.retry,
            finished = swept.finished,
            "the minute's run"
        );
    }
    Ok(swept)
}

/// The time a sweep acts at: now, or in local mode the event's `now`.
#[cfg(feature = "local")]
fn now_of(event: &Value, now: DateTime<Utc>) -> DateTime<Utc> {
    let asked = event.get("now").and_then(|t| t.as_str()?.parse().ok());
    asked.unwrap_or(now)
}

#[cfg(not(feature = "local"))]
fn now_of(_event: &Value, now: DateTime<Utc>) -> DateTime<Utc> {
    now
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
