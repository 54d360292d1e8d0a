//! `provision` Lambda function: the order system's EventBridge events
//! (`LicensePurchased` → licence and buyer seat; renewals, seat changes,
//! cancellations). See `licensing::provision`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use licensing::App;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let app = App::from_env();
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let provisioned = licensing::provision::handle_event(app, event.payload).await?;
        Ok::<_, Error>(provisioned)
    }))
    .await
}
