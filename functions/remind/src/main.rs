//! `remind` Lambda function: run once a day by an EventBridge Scheduler
//! schedule; sends the reminders due that day. See `licensing::events::schedule`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use licensing::notify::Notifier;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let notifier: &'static Notifier = Box::leak(Box::new(Notifier::from_env()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let report = licensing::events::schedule::handle(notifier, &event.payload).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
