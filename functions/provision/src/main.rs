//! `provision` Lambda function: the order system's EventBridge events
//! (`LicensePurchased` → licence and buyer seat; renewals, seat changes,
//! cancellations). See `licensing::events::orders`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    licensing::runtime::run_event(licensing::events::orders::handle).await
}
