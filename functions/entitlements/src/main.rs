//! `entitlements` Lambda function: see `licensing::api::entitlements`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    licensing::runtime::run_http(licensing::api::entitlements::handle).await
}
