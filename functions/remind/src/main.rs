//! `remind` Lambda function: run once a day by an EventBridge Scheduler
//! schedule; sends the reminders due that day. See `licensing::remind`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use licensing::notify::Notifier;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let notifier = Notifier::from_env();
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let report = notifier.handle_reminders(&event.payload).await.map_err(Error::from)?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
