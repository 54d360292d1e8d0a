//! `notify` Lambda function: DynamoDB Stream of the table → invitation mails
//! through SES, with partial batch responses; and once a minute, the
//! invitations that waited for their window. See `licensing::events`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use licensing::notify::Notifier;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let notifier: &'static Notifier = Box::leak(Box::new(Notifier::from_env()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(licensing::events::notify(notifier, &event.payload).await?)
    }))
    .await
}
