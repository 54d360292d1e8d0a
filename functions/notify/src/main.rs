//! `notify` Lambda function: DynamoDB Stream of the table → invitation mails
//! through SES, with partial batch responses. See `licensing::notify`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use licensing::notify::Notifier;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let notifier = Notifier::from_env();
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(notifier.handle(&event.payload).await)
    }))
    .await
}
