//! `change` Lambda function: see `licensing::api::change`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    licensing::runtime::run_http(licensing::api::change::handle).await
}
