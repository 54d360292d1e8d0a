//! `notify` Lambda function: DynamoDB Stream of the table → invitation mails
//! through SES, with partial batch responses. See `licensing::events::stream`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use licensing::notify::Notifier;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let notifier: &'static Notifier = Box::leak(Box::new(Notifier::from_env()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(licensing::events::stream::handle(notifier, &event.payload).await)
    }))
    .await
}
