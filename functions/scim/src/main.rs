//! `scim` Lambda function: see `licensing::api::scim`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    licensing::runtime::run_http(licensing::api::scim::handle).await
}
