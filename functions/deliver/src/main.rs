//! `deliver` Lambda function: the webhook queue (SQS) → one signed attempt
//! per job at the customer's endpoint, with partial batch responses. See
//! `licensing::usecase::deliver`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use licensing::usecase::deliver::Courier;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let courier: &'static Courier = Box::leak(Box::new(Courier::from_env()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(licensing::events::queue::handle(courier, &event.payload).await)
    }))
    .await
}
